"""The notes service of docs/server-authors.md: contract, servicer, binding, clients."""
