"""A new published version of each default script whose "are you the applicant?" ended the call as a
wrong number: when someone else answers, ask whether it is the applicant's number and when the applicant
can be reached (verification/default_scripts.py, SOMEONE_ELSE). Published versions are never edited."""

from django.db import migrations
from django.utils import timezone


def add_path(apps, schema_editor):
    from verification.default_scripts import add_someone_else_path

    add_someone_else_path(
        apps.get_model("verification", "Script"),
        apps.get_model("verification", "ScriptVersion"),
        apps.get_model("verification", "Question"),
        published_at=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [("verification", "0006_on_fail_end_any")]
    operations = [migrations.RunPython(add_path, migrations.RunPython.noop)]
