"""manage.py export_flags: the file branches receive to correct contact data (FORMATS.md, files out)."""

import csv
import datetime as dt

import factory
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from callback import exports
from callback.models import AuditEvent, ContactFlag, FlagStatus
from verification.vocab import FlagCode

from .factories import PartyFactory, PolicyFactory, UserFactory
from .factories.flags import ContactFlagFactory, flagged_policy

pytestmark = pytest.mark.django_db

CONTRACT = ["policy_no", "party", "field", "code", "detail", "status", "raised_at"]
EXTRA = [
    "branch_code",
    "channel",
    "agent_code",
    "agent_name",
    "applicant_name",
    "outlet_code",
    "correction_due",
]


def _read_csv(path) -> tuple[bytes, list[dict]]:
    raw = path.read_bytes()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return raw, list(csv.DictReader(handle))


@pytest.fixture
def three_flags():
    a = flagged_policy(policy_no="P-E-1", code=FlagCode.MOBILE_INVALID, branch_code="B1101")
    b = flagged_policy(policy_no="P-E-2", code=FlagCode.PHONE_IS_AGENT, branch_code="B3101")
    c = flagged_policy(policy_no="P-E-3", code=FlagCode.MOBILE_INVALID, branch_code="B3101")
    ContactFlag.objects.filter(pk=c.pk).update(status=FlagStatus.WAIVED)
    moment = timezone.make_aware(dt.datetime(2026, 11, 20, 9, 30, 5), timezone.get_default_timezone())
    ContactFlag.objects.filter(pk=a.pk).update(raised_at=moment)
    return a, b, c


def test_csv_has_bom_contract_columns_and_one_row_per_flag(tmp_path, three_flags, capsys):
    out = tmp_path / "flags.csv"
    call_command("export_flags", "--output", str(out))
    raw, rows = _read_csv(out)
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw.decode("utf-8-sig").splitlines()[0].split(",")
    assert header == CONTRACT + EXTRA
    assert sorted(r["policy_no"] for r in rows) == ["P-E-1", "P-E-2", "P-E-3"]
    first = next(r for r in rows if r["policy_no"] == "P-E-1")
    assert first["raised_at"] == "2026-11-20T09:30:05+08:00"  # Beijing time, ISO 8601
    assert (first["party"], first["field"], first["code"], first["status"]) == (
        "applicant",
        "applicant_mobile",
        "mobile_invalid",
        "open",
    )
    assert first["detail"] == "12345678901 is not a mainland mobile"  # the branch needs the real value
    assert (first["branch_code"], first["agent_code"], first["agent_name"], first["applicant_name"]) == (
        "B1101",
        "A000001",
        "徐磊",
        "陈磊",
    )
    assert "Wrote 3 flags" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--status", "open"], ["P-E-1", "P-E-2"]),
        (["--code", "mobile_invalid"], ["P-E-1", "P-E-3"]),
        (["--branch", "B3101"], ["P-E-2", "P-E-3"]),
        (["--branch", "B3101", "--code", "mobile_invalid", "--status", "waived"], ["P-E-3"]),
    ],
)
def test_filters(tmp_path, three_flags, args, expected):
    out = tmp_path / "flags.csv"
    call_command("export_flags", "--output", str(out), *args)
    assert sorted(r["policy_no"] for r in _read_csv(out)[1]) == expected


def test_xlsx_when_the_file_ends_in_xlsx(tmp_path, three_flags):
    out = tmp_path / "flags.XLSX"
    call_command("export_flags", "--output", str(out), "--status", "open")
    rows = list(load_workbook(out, read_only=True).active.iter_rows(values_only=True))
    assert list(rows[0]) == CONTRACT + EXTRA
    assert sorted(r[0] for r in rows[1:]) == ["P-E-1", "P-E-2"]


@pytest.mark.parametrize("args", [["--status", "closed"], ["--code", "phone_wrong"], ["--user", "nobody"]])
def test_bad_values_are_a_clear_command_error(tmp_path, args):
    with pytest.raises(CommandError) as error:
        call_command("export_flags", "--output", str(tmp_path / "x.csv"), *args)
    assert args[1] in str(error.value)
    assert not (tmp_path / "x.csv").exists()


def test_unwritable_output_is_a_command_error(tmp_path):
    with pytest.raises(CommandError):
        call_command("export_flags", "--output", str(tmp_path / "missing-dir" / "x.csv"))


def test_export_is_audited_with_filter_and_user(tmp_path, three_flags):
    call_command("export_flags", "--output", str(tmp_path / "a.csv"), "--code", "phone_is_agent")
    event = AuditEvent.objects.get(action="export_flags")
    assert event.user is None
    assert event.detail["filter"] == {"code": "phone_is_agent"} and event.detail["rows"] == 1
    clerk = UserFactory(username="night-cron")
    call_command("export_flags", "--output", str(tmp_path / "b.xlsx"), "--user", "night-cron")
    latest = AuditEvent.objects.filter(action="export_flags").order_by("-id").first()
    assert latest.user == clerk and latest.detail["format"] == "xlsx" and latest.detail["rows"] == 3


def test_streams_in_chunks_with_a_constant_number_of_queries(
    tmp_path, monkeypatch, django_assert_max_num_queries
):
    policy = PolicyFactory()
    PartyFactory(policy=policy)
    ContactFlagFactory.create_batch(25, policy=policy, field=factory.Sequence(lambda n: f"field{n}"))
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    chunks = list(exports.csv_chunks(exports.flag_export_rows(filters={})))
    assert len(chunks) >= 3  # written out every CHUNK_SIZE rows, never held whole
    assert sum(chunk.count("\r\n") for chunk in chunks) == 26
    with django_assert_max_num_queries(4):  # one streamed select (+ cursor bookkeeping) and the audit
        exports.export_flags(filters={}, output=tmp_path / "c.csv")


def test_chinese_text_survives_csv_and_xlsx(tmp_path):
    flag = flagged_policy(policy_no="P-ZH")
    ContactFlag.objects.filter(pk=flag.pk).update(detail="地址缺少区县:河北省邯郸市建国路")
    call_command("export_flags", "--output", str(tmp_path / "zh.csv"))
    call_command("export_flags", "--output", str(tmp_path / "zh.xlsx"))
    assert _read_csv(tmp_path / "zh.csv")[1][0]["detail"] == "地址缺少区县:河北省邯郸市建国路"
    sheet = load_workbook(tmp_path / "zh.xlsx").active
    assert sheet.cell(row=2, column=5).value == "地址缺少区县:河北省邯郸市建国路"
