"""Admin for registries, policies, flags and imports (intake issue)."""
