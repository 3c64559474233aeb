"""Admin for teams, queues, routing rules, calling hours, holidays, free-look and retry rules (queue issue)."""
