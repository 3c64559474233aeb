"""Names only a framework calls or passes, for `vulture` (configured in pyproject.toml)."""
# ruff: noqa: B018, F821

options  # Django calls BaseCommand.handle(*args, **options); commands that read no option leave it unused
original_response  # django-axes calls AXES_LOCKOUT_CALLABLE(request, original_response, credentials)
