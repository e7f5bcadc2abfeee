"""Run long work as a task at task-manager and follow it on kevent (docs/tasks-and-events.md)."""
