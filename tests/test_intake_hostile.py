"""Hostile files: XLSX bombs, NUL bytes, random bytes, wrong encodings, formula cells (trust issue #10).

Every file ends as a clean run (done, or failed with a message) with every row imported or rejected
with its line; never a traceback or a raw database message, never a formula in an export.
"""

import csv
import io
import time
import zipfile

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callback import intake
from callback.models import ImportRun, ImportStatus, Policy

from .factories.intake import BASE_ROW, row, write_csv

pytestmark = pytest.mark.django_db


def _run(path, name=None) -> ImportRun:
    run = intake.create_run(kind="policies", source="command", filename=name or path.name)
    intake.execute_run(run, path=path)
    run.refresh_from_db()
    return run


def _xlsx(rows: list[list], *, dimension: str = "", shared_strings: bytes = b"") -> bytes:
    """A workbook written by hand, so it can lie (a huge declared dimension, a bloated part)."""

    def cell(ref, value):
        if value is None:
            return ""
        text = str(value).replace("&", "&amp;").replace("<", "&lt;")
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

    def col(i):
        name = ""
        i += 1
        while i:
            i, rem = divmod(i - 1, 26)
            name = chr(65 + rem) + name
        return name

    sheet_rows = "".join(
        f'<row r="{r + 1}">' + "".join(cell(f"{col(c)}{r + 1}", v) for c, v in enumerate(values)) + "</row>"
        for r, values in enumerate(rows)
    )
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main">{dim}<sheetData>{sheet_rows}</sheetData></worksheet>'
    )
    ns = "http://schemas.openxmlformats.org"
    files = {
        "[Content_Types].xml": f'<?xml version="1.0"?><Types xmlns="{ns}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{ns}/spreadsheetml/2006/main" '
        f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet name="s" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        if shared_strings:
            archive.writestr("xl/sharedStrings.xml", shared_strings)
    return buffer.getvalue()


class TestXlsxBombs:
    def test_huge_declared_dimension_reads_only_the_header_width(self, tmp_path):
        path = tmp_path / "policies.xlsx"
        header = list(BASE_ROW)
        path.write_bytes(_xlsx([header, [row()[c] for c in header]], dimension="A1:XFD1048576"))
        assert path.stat().st_size < 10_000
        started = time.monotonic()
        run = _run(path)
        assert time.monotonic() - started < 20
        assert run.status == ImportStatus.DONE and run.created == 1, run.error

    def test_bloated_shared_strings_are_refused_before_opening(self, tmp_path, settings):
        settings.XLSX_MAX_SHARED_STRINGS_BYTES = 10 * 1024 * 1024
        bloat = b'<?xml version="1.0"?><sst>' + b"<si><t>" + b"A" * (30 * 1024 * 1024) + b"</t></si></sst>"
        path = tmp_path / "policies.xlsx"
        path.write_bytes(_xlsx([list(BASE_ROW)], shared_strings=bloat))
        assert path.stat().st_size < 200_000
        run = _run(path)
        assert run.status == ImportStatus.FAILED and "too large" in run.error

    def test_not_a_workbook(self, tmp_path):
        path = tmp_path / "policies.xlsx"
        path.write_bytes(b"PK\x03\x04 not really a zip")
        run = _run(path)
        assert run.status == ImportStatus.FAILED and run.error

    def test_upload_size_cap(self, supervisor_client, settings):
        from django.core.files.uploadedfile import SimpleUploadedFile

        settings.UPLOAD_MAX_BYTES = 1000
        upload = SimpleUploadedFile("policies.csv", b"x" * 2000)
        response = supervisor_client.post("/imports/", {"kind": "policies", "file": upload})
        assert response.status_code == 200 and "larger than" in response.content.decode()
        assert not ImportRun.objects.exists()


class TestNulBytes:
    def test_csv_line_with_nul_is_rejected_with_its_line(self, tmp_path):
        path = write_csv(
            tmp_path / "policies.csv",
            [row(policy_no="PT1"), row(policy_no="PT2", applicant_name="陈\x00磊"), row(policy_no="PT\x003")],
        )
        run = _run(path)
        assert run.status == ImportStatus.DONE, run.error
        assert run.created == 1 and run.rejected == 2
        lines = {r["line"]: r["reason"] for r in run.report["rejections"]}
        assert set(lines) == {3, 4} and all("NUL" in reason for reason in lines.values())
        assert list(Policy.objects.values_list("policy_no", flat=True)) == ["PT1"]

    def test_registry_line_with_nul(self, tmp_path):
        path = tmp_path / "agents.csv"
        columns = intake.REGISTRY_COLUMNS["agents"]
        values = {c: "" for c in columns} | {"agent_code": "A1", "name": "徐\x00磊"}
        path.write_text(",".join(columns) + "\n" + ",".join(values[c] for c in columns) + "\n")
        run = intake.create_run(kind="agents", source="command", filename="agents.csv")
        intake.execute_run(run, path=path)
        run.refresh_from_db()
        assert run.status == ImportStatus.DONE and run.rejected == 1, run.error


def _csv_bytes(rows: list[dict], encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(BASE_ROW), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


field_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60
) | st.sampled_from(['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\x00", "陈磊\x00"])


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raw=st.binary(max_size=2000),
    fields=st.lists(
        st.fixed_dictionaries(
            {"policy_no": field_text, "applicant_name": field_text, "agent_name": field_text}
        ),
        max_size=4,
    ),
    encoding=st.sampled_from(["utf-8", "gb18030", "utf-16", "latin-1"]),
    as_xlsx=st.booleans(),
)
def test_any_file_ends_in_a_clean_run_and_a_safe_export(tmp_path_factory, raw, fields, encoding, as_xlsx):
    folder = tmp_path_factory.mktemp("hostile")
    rows = [row(**f) for f in fields]
    if raw and not fields:
        data, name = raw, "policies.csv"
    elif as_xlsx:
        header = list(BASE_ROW)
        clean = [[str(r[c]).replace("\x00", "") for c in header] for r in rows]
        data, name = _xlsx([header, *clean], dimension="A1:XFD1048576"), "policies.xlsx"
    else:
        data, name = _csv_bytes(rows, encoding), "policies.csv"
    path = folder / name
    path.write_bytes(data)
    run = intake.create_run(kind="policies", source="command", filename=name)
    intake.execute_run(run, path=path)
    run.refresh_from_db()
    assert run.status in (ImportStatus.DONE, ImportStatus.FAILED)
    if run.status == ImportStatus.FAILED:
        assert run.error and "Traceback" not in run.error and "psycopg" not in run.error.lower()
    else:
        assert run.rows_read == run.created + run.updated + run.unchanged + run.rejected
    out = folder / "flags.csv"
    call_command("export_flags", "--output", str(out))
    for line in out.read_text(encoding="utf-8-sig").splitlines()[1:]:
        for cell in next(csv.reader([line])):
            assert cell[:1] not in ("=", "+", "@") or cell.startswith("'")
