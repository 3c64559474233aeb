"""Intake through the management commands and the intake module: the shared samples, encodings,
XLSX, headers, rejections, re-imports and corrections."""

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from callback import intake
from callback.models import CallbackTask, ContactFlag, FlagStatus, ImportRun, Party, Policy

from .factories.intake import BASE_ROW, row, write_csv

pytestmark = pytest.mark.django_db

# The contract's samples live in ../shared/samples beside the clone (CI has them); tests/samples is a
# copy so that `make test` also runs on a clone alone. test_vendored_samples_match_shared keeps it true.
SHARED_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
VENDORED_SAMPLES = Path(__file__).resolve().parent / "samples"
SAMPLES = SHARED_SAMPLES if (SHARED_SAMPLES / "policies.csv").is_file() else VENDORED_SAMPLES
SAMPLE_SETS = [SAMPLES, SAMPLES / "gb18030"]


def samples_or_fail(folder: Path) -> Path:
    if not (folder / "policies.csv").is_file():
        pytest.fail(f"Sample files missing at {folder}")
    return folder


@pytest.mark.skipif(not SHARED_SAMPLES.is_dir(), reason="no ../shared beside this clone (CI has it)")
def test_vendored_samples_match_shared():
    shared = sorted(p.relative_to(SHARED_SAMPLES) for p in SHARED_SAMPLES.rglob("*") if p.is_file())
    vendored = sorted(p.relative_to(VENDORED_SAMPLES) for p in VENDORED_SAMPLES.rglob("*") if p.is_file())
    assert vendored == shared
    for name in shared:
        assert (VENDORED_SAMPLES / name).read_bytes() == (SHARED_SAMPLES / name).read_bytes(), name


def read_expected(path: Path) -> list[dict]:
    raw = path.read_bytes()
    return list(csv.DictReader(io.StringIO(raw.decode(intake.detect_encoding(raw)))))


def command(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def load_sample(folder: Path) -> str:
    for kind in ("agents", "outlets", "company_numbers"):
        command("import_registry", kind, str(folder / f"{kind}.csv"))
    return command("import_policies", str(folder / "policies.csv"))


@pytest.mark.parametrize("folder", SAMPLE_SETS, ids=["utf8", "gb18030"])
class TestSamples:
    def test_exactly_the_expected_flags_rejections_and_scope(self, folder):
        folder = samples_or_fail(folder)
        summary = load_sample(folder)
        expected = {(r["policy_no"], r["code"]) for r in read_expected(folder / "expected_flags.csv")}
        raised = set(ContactFlag.objects.values_list("policy__policy_no", "code"))
        assert raised == expected
        rejected = read_expected(folder / "expected_rejected.csv")
        run = ImportRun.objects.filter(kind="policies").get()
        got = run.report["rejections"]
        assert [r["policy_no"] for r in got] == [r["policy_no"] for r in rejected]
        for want, have in zip(rejected, got, strict=True):
            assert want["reason"].split()[-1] in have["reason"]
            assert have["line"] > 1
        assert not Policy.objects.filter(policy_no="PBADDATE001").exists()
        scope = {
            r["policy_no"]: r["in_scope"] == "True" for r in read_expected(folder / "expected_scope.csv")
        }
        assert dict(Policy.objects.values_list("policy_no", "in_scope")) == scope
        assert "Rejected: 2" in summary and "phone_shared: 16" in summary

    def test_chinese_text_survives(self, folder):
        load_sample(samples_or_fail(folder))
        names = set(Party.objects.values_list("name", flat=True))
        first = read_expected(folder / "policies.csv")[0]
        assert first["applicant_name"] in names

    def test_reimport_changes_nothing(self, folder):
        folder = samples_or_fail(folder)
        load_sample(folder)
        flags = list(ContactFlag.objects.order_by("id").values_list("id", "status"))
        policies = list(Policy.objects.order_by("id").values_list("id", "updated_at"))
        summary = command("import_policies", str(folder / "policies.csv"))
        assert "Created: 0  Updated: 0  Unchanged: 120" in summary
        assert list(ContactFlag.objects.order_by("id").values_list("id", "status")) == flags
        assert list(Policy.objects.order_by("id").values_list("id", "updated_at")) == policies


class TestCallbackTasks:
    def test_import_gives_in_scope_policies_their_task_and_moves_it_with_the_receipt(self, tmp_path):
        # Receipts of the last days: a window already closed at import gets no task (the back book).
        today = timezone.localdate()
        signed, later = today - dt.timedelta(days=3), today - dt.timedelta(days=1)
        recent = {"issue_date": str(signed - dt.timedelta(days=2)), "receipt_date": str(signed)}
        path = write_csv(
            tmp_path / "a.csv", [row(**recent), row(policy_no="PT0000000002", term_years="1", **recent)]
        )
        command("import_policies", str(path))
        windows = dict(CallbackTask.objects.values_list("policy__policy_no", "window_start"))
        assert windows == {
            "PT0000000001": signed + dt.timedelta(days=1)
        }  # the one-year policy is out of scope
        moved = {**recent, "receipt_date": str(later)}
        command("import_policies", str(write_csv(tmp_path / "b.csv", [row(**moved)])))
        task = CallbackTask.objects.get()
        assert (task.window_start, task.window_end) == (today, later + dt.timedelta(days=15))

    def test_dry_run_makes_no_task(self, tmp_path):
        command("import_policies", str(write_csv(tmp_path / "a.csv", [row()])), "--dry-run")
        assert not CallbackTask.objects.exists()


class TestParallelParsing:
    def test_worker_processes_give_exactly_the_expected_flags(self, monkeypatch, settings):
        # Files of more than one batch are parsed in forked workers: small batches force that here.
        monkeypatch.setattr(intake.staging, "BATCH_ROWS", 20)
        settings.INTAKE_WORKERS = 2
        folder = samples_or_fail(SAMPLES)
        summary = load_sample(folder)
        expected = {(r["policy_no"], r["code"]) for r in read_expected(folder / "expected_flags.csv")}
        assert set(ContactFlag.objects.values_list("policy__policy_no", "code")) == expected
        assert "Rejected: 2" in summary and "phone_shared: 16" in summary
        summary = command("import_policies", str(folder / "policies.csv"))
        assert "Created: 0  Updated: 0  Unchanged: 120" in summary


class TestCorrections:
    def test_a_corrected_file_resolves_the_fixed_flags(self, tmp_path):
        folder = samples_or_fail(SAMPLES)
        load_sample(folder)
        rows = read_expected(folder / "policies.csv")
        fixes = {
            "P04200000001": {"applicant_mobile": "18012201650"},
            "P04200000005": {"applicant_phone": "025-31130789"},
            "P04200000035": {"agent_name": "高军"},
        }
        for r in rows:
            r.update(fixes.get(r["policy_no"], {}))
        corrected = write_csv(tmp_path / "corrected.csv", rows, columns=list(rows[0]))
        summary = command("import_policies", str(corrected))
        assert "Updated: 3" in summary
        for policy_no in fixes:
            flags = ContactFlag.objects.filter(policy__policy_no=policy_no)
            assert flags and all(f.status == FlagStatus.RESOLVED for f in flags)
            assert {f.close_reason for f in flags} == {"corrected by import"}
        assert ContactFlag.objects.filter(status="open").count() == ContactFlag.objects.count() - 3


class TestFiles:
    def test_missing_required_column_rejects_the_file_before_writing(self, tmp_path):
        columns = [c for c in BASE_ROW if c != "issue_date"]
        path = write_csv(tmp_path / "p.csv", [row()], columns=columns)
        with pytest.raises(CommandError, match="issue_date"):
            command("import_policies", str(path))
        assert not Policy.objects.exists()
        assert ImportRun.objects.get().status == "failed"

    def test_unreadable_file_is_a_command_error(self, tmp_path):
        with pytest.raises(CommandError):
            command("import_policies", str(tmp_path / "nope.csv"))
        bad = tmp_path / "bad.xlsx"
        bad.write_bytes(b"not a zip")
        with pytest.raises(CommandError, match="cannot be read|not an XLSX workbook"):
            command("import_policies", str(bad))

    def test_unknown_columns_are_reported_once(self, tmp_path):
        path = write_csv(
            tmp_path / "p.csv",
            [{**row(), "remark": "x"}, {**row(policy_no="P2"), "remark": "y"}],
            columns=[*BASE_ROW, "remark"],
        )
        summary = command("import_policies", str(path))
        assert summary.count("remark") == 1
        assert Policy.objects.count() == 2

    @pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk", "gb18030"])
    def test_encodings(self, tmp_path, encoding):
        path = write_csv(tmp_path / "p.csv", [row(applicant_name="龚晓东")], encoding=encoding)
        command("import_policies", str(path))
        assert Party.objects.get(role="applicant").name == "龚晓东"

    def test_xlsx(self, tmp_path):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(list(BASE_ROW))
        values = row(applicant_mobile="")
        sheet.append([values[c] for c in BASE_ROW])
        sheet.append([row(policy_no="PX2")[c] for c in BASE_ROW])
        sheet.cell(row=2, column=list(BASE_ROW).index("applicant_mobile") + 1, value=15020513739)
        book.save(tmp_path / "p.xlsx")
        summary = command("import_policies", str(tmp_path / "p.xlsx"))
        assert "Created: 2" in summary
        assert Party.objects.filter(role="applicant", mobile_e164="+8615020513739").count() == 2

    def test_dry_run_saves_nothing(self, tmp_path):
        path = write_csv(tmp_path / "p.csv", [row(applicant_mobile="123")])
        summary = command("import_policies", str(path), "--dry-run")
        assert "Created: 1" in summary and "mobile_invalid: 1" in summary
        assert not Policy.objects.exists() and not ContactFlag.objects.exists()

    def test_duplicate_policy_no_with_different_content_is_rejected(self, tmp_path):
        path = write_csv(tmp_path / "p.csv", [row(), row(premium="1.00"), row()])
        summary = command("import_policies", str(path))
        assert "line 3: policy_no PT0000000001 already on line 2 with different content" in summary
        assert Policy.objects.get().premium == 5000

    def test_same_policy_no_updates_never_duplicates(self, tmp_path):
        command("import_policies", str(write_csv(tmp_path / "a.csv", [row()])))
        command(
            "import_policies",
            str(write_csv(tmp_path / "b.csv", [row(premium="9.00", applicant_name="王芳")])),
        )
        policy = Policy.objects.get()
        assert policy.premium == 9 and policy.parties.get(role="applicant").name == "王芳"

    def test_chinese_enum_labels_and_date_forms(self, tmp_path):
        path = write_csv(
            tmp_path / "p.csv",
            [
                row(
                    product_type="分红型",
                    channel="银保",
                    payment_frequency="趸交",
                    term_years="终身",
                    issue_date="2026/11/03",
                    receipt_date="20261105",
                    insured_relation="本人",
                )
            ],
        )
        command("import_policies", str(path))
        policy = Policy.objects.get()
        assert (policy.product_type, policy.channel, policy.payment_frequency) == (
            "participating",
            "bancassurance",
            "single",
        )
        assert policy.whole_life and policy.in_scope and str(policy.receipt_date) == "2026-11-05"

    def test_registry_rows_without_key_are_rejected(self, tmp_path):
        path = tmp_path / "agents.csv"
        path.write_text(
            "agent_code,name,mobile,phones,branch_code,channel,outlet_code,status\n"
            ",无名,13800138000,,B1,agency,,active\nA1,有名,13800138001,,B1,个险,,离职\n",
            encoding="utf-8",
        )
        summary = command("import_registry", "agents", str(path))
        assert "line 2: no agent_code" in summary
        from callback.models import Agent

        assert Agent.objects.get().status == "left"


class TestScope:
    @pytest.mark.parametrize(
        "term,in_scope", [("whole_life", True), ("1", False), ("1.5", True), ("20", True), ("", False)]
    )
    def test_term_over_one_year(self, term, in_scope):
        intake.import_policy_records(records=[row(term_years=term)])
        assert Policy.objects.get().in_scope is in_scope


class TestCommandOutput:
    def test_progress_bar_only_on_a_terminal(self):
        from callback.management.commands._intake import ProgressBar

        stream = io.StringIO()
        ProgressBar(stream, True)(5000, 50, 100)
        assert "50.0%" in stream.getvalue() and "5,000 rows" in stream.getvalue()
        quiet = io.StringIO()
        ProgressBar(quiet, False)(5000, 50, 100)
        assert quiet.getvalue() == ""

    def test_registry_import_rescreens_existing_policies(self, tmp_path):
        path = write_csv(tmp_path / "p.csv", [row(applicant_mobile="13912345678")])
        command("import_policies", str(path))
        agents = tmp_path / "agents.csv"
        agents.write_text(
            "agent_code,name,mobile,phones,branch_code,channel,outlet_code,status\n"
            "A000001,徐磊,13800000000,139-1234-5678;010-62345678,B1101,agency,,active\n",
            encoding="utf-8",
        )
        summary = command("import_registry", "agents", str(agents))
        assert "phone_is_agent: 1" in summary
        assert set(ContactFlag.objects.filter(status="open").values_list("code", flat=True)) == {
            "phone_is_agent"
        }
        assert ContactFlag.objects.get(code="agent_unknown").status == FlagStatus.RESOLVED
