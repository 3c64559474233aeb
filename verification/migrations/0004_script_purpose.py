"""Scripts get a purpose (free-look callback or contact verification), and the default
contact-verification script of the back book's campaigns is published as version 1."""

from django.db import migrations, models
from django.utils import timezone


def install_contact_verification(apps, schema_editor):
    from verification.default_scripts import contact_verification_script, install

    install(
        apps.get_model("verification", "Script"),
        apps.get_model("verification", "ScriptVersion"),
        apps.get_model("verification", "Question"),
        published_at=timezone.now(),
        specs=[contact_verification_script()],
    )


class Migration(migrations.Migration):
    dependencies = [("verification", "0003_default_scripts")]
    operations = [
        migrations.AddField(
            model_name="script",
            name="purpose",
            field=models.CharField(
                choices=[("free_look", "Free-look callback"), ("contact_verification", "Contact verification")],
                db_default="free_look",
                default="free_look",
                max_length=24,
                verbose_name="purpose",
            ),
        ),
        migrations.RunPython(install_contact_verification, migrations.RunPython.noop),
    ]
