"""The default free-look callback scripts (verification/default_scripts.py), published as version 1."""

from django.db import migrations
from django.utils import timezone


def install_defaults(apps, schema_editor):
    from verification.default_scripts import install

    install(
        apps.get_model("verification", "Script"),
        apps.get_model("verification", "ScriptVersion"),
        apps.get_model("verification", "Question"),
        published_at=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [("verification", "0002_scripts")]
    operations = [migrations.RunPython(install_defaults, migrations.RunPython.noop)]
