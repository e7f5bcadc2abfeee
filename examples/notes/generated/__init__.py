"""Generated from examples/notes/proto by make codegen; do not edit."""
