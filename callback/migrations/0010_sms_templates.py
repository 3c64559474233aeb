"""The SMS templates Huifang sends by default, in Simplified Chinese; admins edit them afterwards."""

from django.db import migrations

TEMPLATES = [
    (
        "callback_confirmation",
        "预约回访确认",
        "【{company}】尊敬的{name}，您好！您的保单{policy_no}回访已预约在{time}，届时我们将致电您，"
        "请保持电话畅通。回复TD退订",
    ),
    (
        "precall_notice",
        "回访来电提醒",
        "【{company}】尊敬的{name}，您好！我们将于近期致电您，对保单{policy_no}进行犹豫期回访，"
        "来电号码{caller}，请放心接听。回复TD退订",
    ),
]


def create(apps, schema_editor):
    SmsTemplate = apps.get_model("callback", "SmsTemplate")
    for code, name, body in TEMPLATES:
        SmsTemplate.objects.get_or_create(code=code, defaults={"name": name, "body": body})


class Migration(migrations.Migration):
    dependencies = [("callback", "0009_telephony")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
