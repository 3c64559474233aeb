"""Scripts get a purpose (free-look callback or contact verification), and the default
contact-verification script of the back book's campaigns is published as version 1; flag codes gain
term_unreadable."""

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

    dependencies = [
        ('verification', '0003_default_scripts'),
    ]

    operations = [
        migrations.AddField(
            model_name='script',
            name='purpose',
            field=models.CharField(choices=[('free_look', 'Free-look callback'), ('contact_verification', 'Contact verification')], db_default='free_look', default='free_look', max_length=24, verbose_name='purpose'),
        ),
        migrations.AlterField(
            model_name='question',
            name='fail_flag',
            field=models.CharField(blank=True, choices=[('missing_field', 'Required field missing'), ('mobile_invalid', 'Invalid mobile number'), ('landline_invalid', 'Invalid landline number'), ('address_incomplete', 'Incomplete address'), ('id_invalid', 'Invalid id number'), ('id_birth_mismatch', 'Birth date differs from id number'), ('id_gender_mismatch', 'Gender differs from id number'), ('relation_inconsistent', 'Relation contradicts the data'), ('phone_is_agent', 'Phone belongs to a sales agent'), ('phone_is_outlet', 'Phone belongs to an outlet'), ('phone_is_company', "Phone is the company's own"), ('phone_shared', 'Phone shared by different applicants'), ('address_is_outlet', "Address is an outlet's or branch's"), ('agent_unknown', 'Salesperson unknown'), ('agent_name_mismatch', 'Salesperson name differs from registry'), ('outlet_unknown', 'Outlet unknown'), ('callback_wrong_number', 'Callback reached a wrong number'), ('callback_agent_answered', 'Callback answered by sales staff'), ('callback_unreachable', 'Applicant unreachable in the free-look period'), ('term_unreadable', 'Term cannot be read: callback scope unknown')], max_length=32, verbose_name='flag'),
        ),
        migrations.RunPython(install_contact_verification, migrations.RunPython.noop),
    ]
