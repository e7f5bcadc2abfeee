"""The ``buckyos`` command line: serve a binding, run a local zone, call services."""
