"""Admin for scripts, versions and questions (verification scripts issue)."""
