"""task-manager: the zone's task store (upstream's TaskMgr 2.0), its service and its rules."""
