"""Intake: policy and registry files (CSV or XLSX, FORMATS.md) into the database, screened.

One code path for the upload page, the management commands, the API and the demo data:

1. The header is checked before anything is written (a missing column names itself; unknown
   columns are reported once).
2. Rows stream once: each is parsed, normalised and judged in Python (validators with fast paths)
   and staged in batches into temporary tables — `COPY` on PostgreSQL, `executemany` on SQLite. A
   file of more than one batch is parsed in forked worker processes while this one reads and
   stages. No full-file list is held in memory.
3. One transaction merges the staging tables set-based: `UPDATE` for changed rows and a plain
   `INSERT` for new ones (a row digest makes an unchanged row a no-op; an advisory lock keeps two
   merges apart on PostgreSQL), parties replaced for changed policies, then screening
   (callback/screening.py) reconciles the flags. A crash rolls the whole merge back; the staging
   tables are per connection and vanish with it.

Rejected rows — only those FORMATS.md names: no policy_no, the same policy_no twice with different
content, an issue_date that is not a date — are reported with their line number; every other
defect is imported and flagged.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import multiprocessing
import os
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from verification import validators
from verification.vocab import (
    AgentStatus,
    Channel,
    Gender,
    IdType,
    PaymentFrequency,
    ProductType,
    Relation,
    parse_choice,
)

from . import schedule, screening, sql
from .models import (
    Agent,
    CompanyNumber,
    ImportKind,
    ImportRun,
    ImportStatus,
    Outlet,
    Party,
    Policy,
    RegistryPhone,
)

POLICY_COLUMNS = (
    "policy_no",
    "product_code",
    "product_name",
    "product_type",
    "term_years",
    "premium",
    "payment_frequency",
    "payment_years",
    "channel",
    "branch_code",
    "branch_name",
    "agent_code",
    "agent_name",
    "outlet_code",
    "issue_date",
    "receipt_date",
    "applicant_name",
    "applicant_gender",
    "applicant_birth_date",
    "applicant_id_type",
    "applicant_id_no",
    "applicant_mobile",
    "applicant_phone",
    "applicant_address",
    "insured_relation",
    "insured_name",
    "insured_gender",
    "insured_birth_date",
    "insured_id_type",
    "insured_id_no",
    "beneficiaries",
)
REGISTRY_COLUMNS = {
    ImportKind.AGENTS: (
        "agent_code",
        "name",
        "mobile",
        "phones",
        "branch_code",
        "channel",
        "outlet_code",
        "status",
    ),
    ImportKind.OUTLETS: ("outlet_code", "name", "institution", "phones", "address", "branch_code"),
    ImportKind.COMPANY_NUMBERS: ("number", "label"),
}
BATCH_ROWS = 5000
MAX_REPORTED_REJECTIONS = 1000


class IntakeError(Exception):
    """The file as a whole cannot be imported (unreadable, or a required column is missing)."""


@dataclass
class ImportResult:
    kind: str
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejections: list[dict] = field(default_factory=list)
    rejected: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    flags_raised: Counter = field(default_factory=Counter)
    flags_resolved: Counter = field(default_factory=Counter)
    dry_run: bool = False
    # Per-row outcome for small batches (the API): {"line", "policy_no", "status", "reasons"}.
    items: list[dict] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # time per phase: reading, writing, tasks

    def reject(self, *, line: int, key: str, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_REPORTED_REJECTIONS:
            self.rejections.append({"line": line, "policy_no": key, "reason": reason})

    def report(self) -> dict:
        return {
            "rejections": self.rejections,
            "unknown_columns": self.unknown_columns,
            "flags_raised": dict(sorted(self.flags_raised.items())),
            "flags_resolved": dict(sorted(self.flags_resolved.items())),
            "dry_run": self.dry_run,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


Progress = Callable[[int, int, int], None]  # rows read, bytes (or rows) done, total (0 = unknown)


# --- reading files -------------------------------------------------------------------------------


class Table:
    """The rows of a CSV or XLSX file: `header` (normalised names) and `rows()` as (line, values)."""

    def __init__(
        self,
        header: list[str],
        rows: Iterator[tuple[int, list[str]]],
        position: Callable[[], int],
        total: int,
        closer: Callable[[], None],
    ):
        self.header, self._rows, self.position, self.total, self.close = header, rows, position, total, closer

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        return self._rows

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _normalise_header(names: Iterable) -> list[str]:
    return [str(n or "").replace("\ufeff", "").strip().lower() for n in names]


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (BOM or not) or GB18030 (what Excel in China writes; a superset of GBK)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a character cut at the end of the sample is fine
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise IntakeError(_("The file is neither UTF-8 nor GB18030 text.")) from exc


def open_table(path: str | Path, *, name: str = "") -> Table:
    """Open a CSV or XLSX file (by extension of `name` or `path`) for streaming."""
    name = name or str(path)
    try:
        if name.lower().endswith((".xlsx", ".xlsm")):
            return _open_xlsx(path)
        return _open_csv(path)
    except IntakeError:
        raise
    except (OSError, ValueError, KeyError, csv.Error) as exc:
        raise IntakeError(_("The file cannot be read: %(error)s") % {"error": exc}) from exc
    except Exception as exc:  # openpyxl raises zipfile/XML errors of many kinds on a damaged file
        raise IntakeError(_("The file cannot be read: %(error)s") % {"error": exc}) from exc


def _open_csv(path: str | Path) -> Table:
    raw = open(path, "rb")  # noqa: SIM115 - closed by Table.close
    total = os.fstat(raw.fileno()).st_size
    encoding = detect_encoding(raw.read(1 << 20))
    raw.seek(0)
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration as exc:
        raw.close()
        raise IntakeError(_("The file is empty.")) from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raw.close()
        raise IntakeError(_("The file cannot be read: %(error)s") % {"error": exc}) from exc

    def rows() -> Iterator[tuple[int, list[str]]]:
        previous = reader.line_num
        try:
            for values in reader:
                line = previous + 1
                previous = reader.line_num
                if values and any(values):
                    yield line, values
        except (UnicodeDecodeError, csv.Error) as exc:
            raise IntakeError(
                _("The file cannot be read after line %(line)s: %(error)s") % {"line": previous, "error": exc}
            ) from exc

    def position() -> int:
        try:
            return raw.tell()
        except (OSError, ValueError):
            return 0

    return Table(_normalise_header(header), rows(), position, total, raw.close)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return (
            value.date().isoformat()
            if not (value.hour or value.minute or value.second)
            else value.isoformat()
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _open_xlsx(path: str | Path) -> Table:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    source = sheet.iter_rows(values_only=True)
    try:
        header = next(source)
    except StopIteration as exc:
        book.close()
        raise IntakeError(_("The workbook's first sheet is empty.")) from exc
    done = [0]

    def rows() -> Iterator[tuple[int, list[str]]]:
        for line, values in enumerate(source, start=2):
            done[0] = line
            cells = [_cell(v) for v in values]
            if any(cells):
                yield line, cells

    return Table(_normalise_header(header), rows(), lambda: done[0], sheet.max_row or 0, book.close)


def check_header(header: list[str], required: Iterable[str]) -> list[str]:
    """Raise IntakeError naming the missing columns; return the unknown ones (reported once)."""
    required = list(required)
    missing = [c for c in required if c not in header]
    if missing:
        raise IntakeError(_("Required column missing: %(columns)s") % {"columns": ", ".join(missing)})
    return [c for c in header if c and c not in required]


# --- parsing one policy row ----------------------------------------------------------------------

_DATE_RE = re.compile(r"(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})")


@lru_cache(maxsize=100_000)
def parse_date(text: str) -> str | None | bool:
    """ISO text for YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD; None when blank; False when not a date."""
    text = text.strip()
    if not text:
        return None
    match = _DATE_RE.fullmatch(text.split(" ")[0].split("T")[0])
    if not match or (text.isdigit() and len(text) != 8):
        return False
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return False


def _decimal(text: str, *, max_value: Decimal) -> str | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= max_value:
        return None
    return str(value.quantize(Decimal("0.01")))


def _small_int(text: str) -> int | None:
    text = text.strip()
    if text.endswith(".0"):
        text = text[:-2]
    return int(text) if text.isdigit() and int(text) <= 32767 else None


@lru_cache(maxsize=256)
def _choice(enum, raw: str) -> str:
    return parse_choice(enum, raw) or ""


def _person(row: dict[str, str], columns: tuple[str, ...]) -> dict:
    """A person from its five columns (name, gender, birth_date, id_type, id_no) of `row`."""
    raw_name, raw_gender, raw_birth, raw_type, raw_id = (row.get(c, "").strip() for c in columns)
    birth = parse_date(raw_birth)
    person = {
        "name": raw_name[:100],
        "gender": _choice(Gender, raw_gender),
        "birth_date": birth or "",
        "id_type": _choice(IdType, raw_type),
        "id_no": raw_id.replace(" ", "").upper()[:40],
    }
    # What was written but could not be read is reported in the flag, never silently dropped.
    if raw_gender and not person["gender"]:
        person["raw_gender"] = raw_gender
    if raw_birth and birth is False:
        person["raw_birth_date"] = raw_birth
    if raw_type and not person["id_type"]:
        person["raw_id_type"] = raw_type
    return person


def _beneficiaries(text: str) -> list[dict]:
    people = []
    for entry in filter(None, (e.strip() for e in text.split(";"))):
        parts = [p.strip() for p in entry.split("|")]
        if len(parts) != 5:
            people.append(
                {
                    "malformed": True,
                    "name": entry[:100],
                    "gender": "",
                    "birth_date": "",
                    "id_type": "",
                    "id_no": "",
                    "relation": "",
                    "share": None,
                }
            )
            continue
        name, id_type, id_no, relation, share = parts
        people.append(
            {
                "name": name[:100],
                "gender": "",
                "birth_date": "",
                "id_type": _choice(IdType, id_type),
                "id_no": id_no.replace(" ", "").upper()[:40],
                "relation": _choice(Relation, relation),
                "share": _decimal(share.rstrip("%"), max_value=Decimal(1000)),
            }
        )
    return people


_PERSON_FIELDS = ("name", "gender", "birth_date", "id_type", "id_no")
_APPLICANT_COLUMNS = tuple(f"applicant_{f}" for f in _PERSON_FIELDS)
_INSURED_COLUMNS = tuple(f"insured_{f}" for f in _PERSON_FIELDS)


@dataclass(slots=True)
class ParsedPolicy:
    line: int
    policy_no: str
    digest: str
    policy: tuple
    parties: list[tuple]
    flags: list[tuple]


def identify_row(row: dict[str, str]) -> tuple[str, str] | str:
    """(policy_no, digest of the row) — or why the row cannot be identified or placed (FORMATS.md)."""
    policy_no = row.get("policy_no", "").strip()
    if not policy_no:
        return _("no policy_no")
    if len(policy_no) > 40:
        return _("policy_no longer than 40 characters")
    if not parse_date(row.get("issue_date", "")):
        return _("issue_date is not a date: %(value)s") % {"value": row.get("issue_date", "") or _("blank")}
    get = row.get
    return policy_no, hashlib.blake2b(
        "\x1f".join([get(c, "") for c in POLICY_COLUMNS]).encode(), digest_size=16
    ).hexdigest()


def parse_policy_row(
    line: int, row: dict[str, str], *, today: dt.date, digest: str = ""
) -> ParsedPolicy | str:
    """One row of a policies file → staged values and its row defects, or the reason to reject it."""
    identity = (row.get("policy_no", "").strip(), digest) if digest else identify_row(row)
    if isinstance(identity, str):
        return identity
    policy_no, digest = identity
    get = row.get
    issue = parse_date(get("issue_date", ""))

    term_text = get("term_years", "").strip()
    whole_life = term_text.lower() in ("whole_life", "终身", "whole life")
    term = None if whole_life else _decimal(term_text, max_value=Decimal(10000))
    receipt = parse_date(get("receipt_date", "")) or None
    policy = (
        line,
        policy_no,
        digest,
        get("product_code", "")[:40],
        get("product_name", "")[:200],
        _choice(ProductType, get("product_type", "")),
        term,
        whole_life,
        _decimal(get("premium", ""), max_value=Decimal(10**12)),
        _choice(PaymentFrequency, get("payment_frequency", "")),
        _small_int(get("payment_years", "")),
        _choice(Channel, get("channel", "")),
        get("branch_code", "").strip()[:20],
        get("branch_name", "")[:100],
        get("agent_code", "").strip()[:40],
        get("agent_name", "").strip()[:100],
        get("outlet_code", "").strip()[:40],
        issue,
        receipt,
        whole_life or (term is not None and Decimal(term) > 1),  # in scope: term over one year
    )

    applicant = _person(row, _APPLICANT_COLUMNS)
    mobile, phone = get("applicant_mobile", "").strip(), get("applicant_phone", "").strip()
    address = get("applicant_address", "").strip()
    mobile_check = validators.check_mobile(mobile) if mobile else None
    phone_check = validators.check_landline(phone) if phone else None
    address_check = validators.check_address(address) if address else None
    applicant.update(mobile=mobile, phone=phone, address=address)

    raw_relation = get("insured_relation", "").strip()
    relation = _choice(Relation, raw_relation)
    insured = _person(row, _INSURED_COLUMNS)
    has_insured = any(insured[k] for k in ("name", "gender", "birth_date", "id_type", "id_no"))
    beneficiaries = _beneficiaries(get("beneficiaries", ""))
    flags = screening.row_defects(
        applicant=applicant,
        insured=insured if (has_insured or (relation and relation != Relation.SELF)) else None,
        relation=relation,
        raw_relation=raw_relation,
        beneficiaries=beneficiaries,
        mobile_check=mobile_check,
        phone_check=phone_check,
        address_check=address_check,
        today=today,
    )

    def norm(raw: str, check: validators.Check | None) -> str:
        if check is not None and check.ok:
            return check.value
        return validators.normalize_phone(raw) if raw else ""

    parties = [
        (
            line,
            "applicant",
            0,
            applicant["name"],
            applicant["gender"],
            applicant["birth_date"] or None,
            applicant["id_type"],
            applicant["id_no"],
            mobile[:40],
            norm(mobile, mobile_check),
            phone[:40],
            norm(phone, phone_check),
            address[:300],
            address_check.value if address_check else validators.address_key(address),
            "self",
            None,
        )
    ]
    # "May be blank when insured_relation is self": then the applicant party is the insured too, and
    # no copy of it is stored (half the party rows of a typical file). A blank relation keeps its row.
    if has_insured or relation != Relation.SELF:
        parties.append(
            (
                line,
                "insured",
                0,
                insured["name"],
                insured["gender"],
                insured["birth_date"] or None,
                insured["id_type"],
                insured["id_no"],
                "",
                "",
                "",
                "",
                "",
                "",
                relation,
                None,
            )
        )
    for seq, person in enumerate(beneficiaries):
        parties.append(
            (
                line,
                "beneficiary",
                seq,
                person["name"],
                "",
                None,
                person["id_type"],
                person["id_no"],
                "",
                "",
                "",
                "",
                "",
                "",
                person["relation"],
                person["share"],
            )
        )
    return ParsedPolicy(
        line, policy_no, digest, policy, parties, [(line, p, f, str(c), d[:300]) for p, f, c, d in flags]
    )


# --- staging -------------------------------------------------------------------------------------

S_POLICY, S_PARTY, S_FLAG = "hf_in_policy", "hf_in_party", "hf_in_flag"
_S_POLICY_COLS = (
    "line",
    "policy_no",
    "digest",
    "product_code",
    "product_name",
    "product_type",
    "term_years",
    "whole_life",
    "premium",
    "payment_frequency",
    "payment_years",
    "channel",
    "branch_code",
    "branch_name",
    "agent_code",
    "agent_name",
    "outlet_code",
    "issue_date",
    "receipt_date",
    "in_scope",
)
_S_PARTY_COLS = (
    "line",
    "role",
    "seq",
    "name",
    "gender",
    "birth_date",
    "id_type",
    "id_no",
    "mobile",
    "mobile_e164",
    "phone",
    "phone_e164",
    "address",
    "address_key",
    "relation",
    "share_percent",
)
_S_FLAG_COLS = ("line", "party", "field", "code", "detail")


def _create_staging(cursor) -> None:
    sql.create_temp_table(
        cursor,
        S_POLICY,
        "line integer, policy_no varchar(40), digest varchar(64), "
        "product_code varchar(40), product_name varchar(200), product_type varchar(20), "
        "term_years numeric(6,2), "
        "whole_life boolean, premium numeric(14,2), payment_frequency varchar(12), payment_years integer, "
        "channel varchar(16), branch_code varchar(20), branch_name varchar(100), agent_code varchar(40), "
        "agent_name varchar(100), outlet_code varchar(40), issue_date date, receipt_date date, "
        "in_scope boolean, "
        "policy_id bigint, old_digest varchar(64), changed boolean",
    )
    sql.create_temp_table(
        cursor,
        S_PARTY,
        "line integer, role varchar(12), seq integer, name varchar(100), "
        "gender varchar(1), birth_date date, id_type varchar(20), id_no varchar(40), mobile varchar(40), "
        "mobile_e164 varchar(20), phone varchar(40), phone_e164 varchar(20), address varchar(300), "
        "address_key varchar(300), relation varchar(10), share_percent numeric(5,2)",
    )
    sql.create_temp_table(
        cursor,
        S_FLAG,
        "line integer, party varchar(12), field varchar(40), code varchar(32), detail varchar(300)",
    )


# --- importing policies --------------------------------------------------------------------------


def import_policies(
    *,
    path: str | Path,
    name: str = "",
    dry_run: bool = False,
    run: ImportRun | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Import a policies file (CSV or XLSX); raises IntakeError before writing anything if unusable."""
    with open_table(path, name=name) as table:
        unknown = check_header(table.header, POLICY_COLUMNS)
        header = table.header

        def rows():
            for line, values in table.rows():
                if len(values) < len(header):
                    values = values + [""] * (len(header) - len(values))
                yield line, dict(zip(header, values, strict=False))

        return _import_policy_rows(
            rows(),
            unknown=unknown,
            dry_run=dry_run,
            run=run,
            progress=progress,
            position=table.position,
            total=table.total,
            today=today,
        )


def import_policy_records(
    *,
    records: Iterable[dict[str, str]],
    dry_run: bool = False,
    run: ImportRun | None = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Import policies given as dicts of the FORMATS.md columns (the API); items report per record."""
    rows = (
        (index + 1, {k: "" if v is None else str(v) for k, v in record.items()})
        for index, record in enumerate(records)
    )
    return _import_policy_rows(
        rows,
        unknown=[],
        dry_run=dry_run,
        run=run,
        progress=None,
        position=lambda: 0,
        total=0,
        today=today,
        with_items=True,
    )


def _import_policy_rows(
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    unknown: list[str],
    dry_run: bool,
    run: ImportRun | None,
    progress: Progress | None,
    position: Callable[[], int],
    total: int,
    today: dt.date | None,
    with_items: bool = False,
) -> ImportResult:
    result = ImportResult(kind=ImportKind.POLICIES, unknown_columns=unknown, dry_run=dry_run)
    today = today or timezone.localdate()
    seen: dict[str, int] = {}  # policy_no → first line and digest: duplicates in one file
    last_report = started = time.monotonic()
    _set_phase(run, "reading", result)
    pending: list[tuple[int, dict[str, str], str, str]] = []
    unchanged_items: list[tuple[int, str]] = []
    parser = _BatchParser(today=today)

    def stage_pending(cursor) -> None:
        """Parse and stage the pending rows whose digest differs from the stored policy's.

        Unchanged rows (the bulk of a nightly re-send) are counted and skipped before any parsing.
        """
        stored = dict(
            Policy.objects.filter(policy_no__in=[p[2] for p in pending]).values_list(
                "policy_no", "row_digest"
            )
        )
        work = []
        for line, row, policy_no, digest in pending:
            if stored.get(policy_no) == digest:
                result.unchanged += 1
                if with_items:
                    unchanged_items.append((line, policy_no))
                continue
            work.append((line, row, digest))
        # A file of more than one batch is parsed in worker processes while this one stages.
        if work:
            parser.submit(work, parallel=parser.parallel or len(pending) >= BATCH_ROWS)
        pending.clear()
        for batch in parser.done():
            _flush(cursor, *batch)

    with parser, connection.cursor() as cursor:
        _create_staging(cursor)
        for line, row in rows:
            result.rows_read += 1
            identity = identify_row(row)
            if isinstance(identity, str):
                result.reject(line=line, key=row.get("policy_no", "").strip(), reason=identity)
                if with_items:
                    result.items.append(
                        {
                            "line": line,
                            "policy_no": row.get("policy_no", ""),
                            "status": "rejected",
                            "reasons": [identity],
                        }
                    )
                continue
            policy_no, digest = identity
            # One int per policy_no (first line and 64 bits of the digest): a million fit in ~100 MB.
            key = int(digest[:16], 16)
            first = seen.get(policy_no)
            if first is not None:
                if first & 0xFFFFFFFFFFFFFFFF != key:
                    reason = _("policy_no %(no)s already on line %(line)s with different content") % {
                        "no": policy_no,
                        "line": first >> 64,
                    }
                    result.reject(line=line, key=policy_no, reason=reason)
                    status, reasons = "rejected", [reason]
                else:
                    result.unchanged += 1
                    status, reasons = "duplicate", []
                if with_items:
                    result.items.append(
                        {"line": line, "policy_no": policy_no, "status": status, "reasons": reasons}
                    )
                continue
            seen[policy_no] = (line << 64) | key
            pending.append((line, row, policy_no, digest))
            if len(pending) >= BATCH_ROWS:
                stage_pending(cursor)
                if progress:
                    progress(result.rows_read, position(), total)
                if run is not None and time.monotonic() - last_report > 1:
                    last_report = time.monotonic()
                    _report_progress(run, result, position(), total)
        stage_pending(cursor)
        for batch in parser.done(wait=True):
            _flush(cursor, *batch)
        if progress:
            progress(result.rows_read, total or position(), total)
        seen.clear()
        result.seconds["reading"] = time.monotonic() - started
        started = time.monotonic()
        _set_phase(run, "writing", result)
        _merge_policies(
            cursor, result, dry_run=dry_run, with_items=with_items, unchanged_items=unchanged_items
        )
        result.seconds["writing"] = time.monotonic() - started - result.seconds.get("tasks", 0)
        for name in (S_POLICY, S_PARTY, S_FLAG):
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
    return result


def parse_batch(work: list[tuple[int, dict[str, str], str]], today: dt.date) -> tuple[list, list, list]:
    """Parse (line, row, digest) rows into the staging rows: (policies, parties, flags)."""
    policies, parties, flags = [], [], []
    for line, row, digest in work:
        parsed = parse_policy_row(line, row, today=today, digest=digest)
        policies.append(parsed.policy)
        parties.extend(parsed.parties)
        flags.extend(parsed.flags)
    return policies, parties, flags


class _BatchParser:
    """Parses batches in order: in this process, or (`parallel`) in a pool of forked worker processes.

    Parsing is pure Python without the database, so the workers only need the code they were forked
    with; this process keeps reading the file and staging the parsed batches. At most two batches per
    worker are in flight, so memory stays flat. `settings.INTAKE_WORKERS` (default: the number of
    cores) sets the pool size; 0 or 1 parses in this process.
    """

    def __init__(self, *, today: dt.date):
        self.today = today
        self.workers = settings.INTAKE_WORKERS
        self.pool = None
        self.in_flight: deque = deque()

    @property
    def parallel(self) -> bool:
        return self.pool is not None

    def submit(self, work: list, *, parallel: bool) -> None:
        if parallel and self.pool is None and self.workers > 1:
            self.pool = multiprocessing.get_context("fork").Pool(self.workers)
        if self.pool is None:
            self.in_flight.append(parse_batch(work, self.today))
        else:
            self.in_flight.append(self.pool.apply_async(parse_batch, (work, self.today)))

    def done(self, *, wait: bool = False) -> Iterator[tuple[list, list, list]]:
        """The parsed batches in order: all when `wait`, else those beyond two per worker in flight."""
        keep = 0 if wait or self.pool is None else 2 * self.workers
        while len(self.in_flight) > keep:
            batch = self.in_flight.popleft()
            yield batch if isinstance(batch, tuple) else batch.get()

    def __enter__(self) -> _BatchParser:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


def _flush(cursor, policies: list[tuple], parties: list[tuple], flags: list[tuple]) -> None:
    sql.insert_rows(cursor, S_POLICY, policies, _S_POLICY_COLS)
    sql.insert_rows(cursor, S_PARTY, parties, _S_PARTY_COLS)
    sql.insert_rows(cursor, S_FLAG, flags, _S_FLAG_COLS)


_P, _PT = Policy._meta.db_table, Party._meta.db_table
_POLICY_FIELDS = tuple(c for c in _S_POLICY_COLS if c not in ("line", "digest"))
_PARTY_FIELDS = _S_PARTY_COLS[1:]
ANALYZE_AFTER_ROWS = 50_000  # changed policies from which the merge refreshes the tables' statistics
MERGE_LOCK = 0x6866_696E  # pg_advisory_xact_lock key of the policy merge ("hfin")


def _merge_policies(
    cursor, result: ImportResult, *, dry_run: bool, with_items: bool, unchanged_items: list[tuple[int, str]]
) -> None:
    """Upsert the staged policies and parties, screen them and sync their tasks, in one transaction."""
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic():
        if sql.is_postgres():
            # One import merges at a time, so a policy_no found absent below stays absent until
            # commit and new policies take a plain INSERT. The bulk transaction may trade the
            # commit flush for speed (a crash loses at most the last import, never half of it)
            # and gets memory for its hash joins and sorts.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MERGE_LOCK])
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        # Statistics for the staging tables, renewed after each UPDATE that changes what joins see
        # (stale ones, e.g. policy_id all NULL, make PostgreSQL plan nested loops over a million rows).
        sql.analyze(cursor, S_POLICY, S_PARTY, S_FLAG)
        cursor.execute(
            f"UPDATE {S_POLICY} SET policy_id = p.id, old_digest = p.row_digest "
            f"FROM {_P} p WHERE p.policy_no = {S_POLICY}.policy_no"
        )
        cursor.execute(f"UPDATE {S_POLICY} SET changed = (old_digest IS NULL OR old_digest <> digest)")
        sql.analyze(cursor, S_POLICY)
        cursor.execute(
            f"SELECT SUM(CASE WHEN policy_id IS NULL THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN policy_id IS NOT NULL AND changed THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN changed THEN 0 ELSE 1 END) FROM {S_POLICY}"
        )
        created, updated, unchanged = (n or 0 for n in cursor.fetchone())
        result.created, result.updated, result.unchanged = created, updated, result.unchanged + unchanged

        screening.prepare_tables(cursor)
        numbers = f"{screening.NUMBERS}"
        # Numbers a changed policy had before: sharing may have ended for the others who have them.
        cursor.execute(
            f"INSERT INTO {numbers} SELECT DISTINCT n.number FROM ({screening._applicant_numbers_sql()}) n "
            f"JOIN {S_POLICY} s ON s.policy_id = n.policy_id WHERE s.changed"
        )
        cols = ", ".join(_POLICY_FIELDS)
        if updated:
            updates = ", ".join(f"{c} = s.{c}" for c in _POLICY_FIELDS[1:])
            cursor.execute(
                f"UPDATE {_P} SET {updates}, row_digest = s.digest, updated_at = %s "
                f"FROM {S_POLICY} s WHERE s.changed AND s.policy_id = {_P}.id",
                [stamp],
            )
        cursor.execute(
            f"INSERT INTO {_P} ({cols}, row_digest, created_at, updated_at) "
            f"SELECT {cols}, digest, %s, %s FROM {S_POLICY} WHERE policy_id IS NULL",
            [stamp, stamp],
        )
        cursor.execute(
            f"UPDATE {S_POLICY} SET policy_id = p.id FROM {_P} p "
            f"WHERE p.policy_no = {S_POLICY}.policy_no AND {S_POLICY}.policy_id IS NULL"
        )
        sql.analyze(cursor, S_POLICY)
        cursor.execute(
            f"DELETE FROM {_PT} WHERE policy_id IN "
            f"(SELECT policy_id FROM {S_POLICY} WHERE changed AND old_digest IS NOT NULL)"
        )
        party_cols = ", ".join(_PARTY_FIELDS)
        cursor.execute(
            f"INSERT INTO {_PT} (policy_id, {party_cols}) SELECT s.policy_id, "
            + ", ".join(f"pt.{c}" for c in _PARTY_FIELDS)
            + f" FROM {S_PARTY} pt JOIN {S_POLICY} s ON s.line = pt.line WHERE s.changed"
        )
        if created + updated >= ANALYZE_AFTER_ROWS:
            # Screening and task sync below join these tables: after a bulk load their statistics
            # (autovacuum has not run yet) would make PostgreSQL plan nested loops over a million
            # rows (shared-number screening 10.9 s → 4.2 s at 1,000,000 policies). ANALYZE sees
            # this transaction's own new rows.
            sql.analyze(cursor, _P, _PT)

        # Screening of the changed policies: their row defects, registry matches, shared numbers.
        cursor.execute(f"INSERT INTO {screening.SCOPE} SELECT policy_id FROM {S_POLICY} WHERE changed")
        cursor.execute(
            f"INSERT INTO {screening.WANT} SELECT s.policy_id, f.party, f.field, f.code, f.detail "
            f"FROM {S_FLAG} f JOIN {S_POLICY} s ON s.line = f.line WHERE s.changed"
        )
        screening.want_registry_flags(cursor)
        # The new numbers of the changed policies (their old ones were collected above).
        cursor.execute(
            f"INSERT INTO {numbers} SELECT DISTINCT n.e FROM (SELECT mobile_e164 AS e FROM {S_PARTY} "
            f"WHERE role = 'applicant' AND mobile_e164 <> '' UNION SELECT phone_e164 FROM {S_PARTY} "
            f"WHERE role = 'applicant' AND phone_e164 <> '') n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {numbers} k WHERE k.number = n.e)"
        )
        shared_scope = screening.want_shared_flags(cursor, threshold=settings.PHONE_SHARED_THRESHOLD)
        codes = screening.ROW_CODES + screening.REGISTRY_CODES
        raised, resolved = screening.reconcile(
            cursor, codes=codes, scope_sql=f"SELECT policy_id FROM {screening.SCOPE}", now=now
        )
        raised2, resolved2 = screening.reconcile(
            cursor, codes=screening.SHARED_CODES, scope_sql=shared_scope, now=now
        )
        result.flags_raised.update(raised + raised2)
        result.flags_resolved.update(resolved + resolved2)

        if created + updated and not dry_run:
            # Callback tasks in the same transaction: a policy is never committed without its task.
            started = time.monotonic()
            schedule.sync_tasks(scope_sql=f"SELECT policy_id FROM {S_POLICY} WHERE changed", now=now)
            result.seconds["tasks"] = time.monotonic() - started
        if with_items:
            _collect_items(cursor, result, unchanged_items)
        if dry_run:
            transaction.set_rollback(True)


def _collect_items(cursor, result: ImportResult, unchanged_items: list[tuple[int, str]]) -> None:
    cursor.execute(f"SELECT line, policy_no, policy_id, changed, old_digest FROM {S_POLICY}")
    staged = cursor.fetchall()
    ids = dict(
        Policy.objects.filter(policy_no__in=[no for _, no in unchanged_items]).values_list("policy_no", "id")
    )
    staged += [(line, no, ids.get(no), False, None) for line, no in unchanged_items]
    from .models import ContactFlag

    live = {}
    for policy_id, code in ContactFlag.objects.filter(
        policy_id__in=[r[2] for r in staged], status__in=("open", "correction_requested")
    ).values_list("policy_id", "code"):
        live.setdefault(policy_id, set()).add(code)
    for line, policy_no, policy_id, changed, old_digest in staged:
        status = "unchanged" if not changed else "created" if old_digest is None else "updated"
        result.items.append(
            {
                "line": line,
                "policy_no": policy_no,
                "status": status,
                "reasons": [],
                "flags": sorted(live.get(policy_id, ())),
            }
        )
    result.items.sort(key=lambda item: item["line"])


# --- registries ----------------------------------------------------------------------------------

_REGISTRY_MODEL = {
    ImportKind.AGENTS: Agent,
    ImportKind.OUTLETS: Outlet,
    ImportKind.COMPANY_NUMBERS: CompanyNumber,
}
_OWNER = {
    ImportKind.AGENTS: RegistryPhone.Owner.AGENT,
    ImportKind.OUTLETS: RegistryPhone.Owner.OUTLET,
    ImportKind.COMPANY_NUMBERS: RegistryPhone.Owner.COMPANY,
}


def _registry_values(kind: str, row: dict[str, str]) -> tuple[str, dict] | str:
    get = lambda c: (row.get(c) or "").strip()  # noqa: E731
    if kind == ImportKind.AGENTS:
        if not get("agent_code"):
            return _("no agent_code")
        return get("agent_code")[:40], {
            "name": get("name")[:100],
            "mobile": get("mobile")[:40],
            "phones": get("phones")[:300],
            "branch_code": get("branch_code")[:20],
            "channel": _choice(Channel, get("channel")),
            "outlet_code": get("outlet_code")[:40],
            "status": _choice(AgentStatus, get("status")) or AgentStatus.ACTIVE,
        }
    if kind == ImportKind.OUTLETS:
        if not get("outlet_code"):
            return _("no outlet_code")
        return get("outlet_code")[:40], {
            "name": get("name")[:200],
            "institution": get("institution")[:200],
            "phones": get("phones")[:300],
            "address": get("address")[:300],
            "address_key": validators.address_key(get("address")),
            "branch_code": get("branch_code")[:20],
        }
    normalized = validators.normalize_phone(get("number"))
    if not normalized:
        return _("no number")
    return normalized, {"number": get("number")[:40], "label": get("label")[:100]}


_KEY_FIELD = {
    ImportKind.AGENTS: "agent_code",
    ImportKind.OUTLETS: "outlet_code",
    ImportKind.COMPANY_NUMBERS: "normalized",
}


def import_registry(
    *,
    kind: str,
    path: str | Path,
    name: str = "",
    dry_run: bool = False,
    run: ImportRun | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import agents, outlets or company numbers (upsert by code); re-screens the policies they touch."""
    if kind not in _REGISTRY_MODEL:
        raise IntakeError(_("Unknown registry: %(kind)s") % {"kind": kind})
    with open_table(path, name=name) as table:
        unknown = check_header(table.header, REGISTRY_COLUMNS[kind])
        result = ImportResult(kind=kind, unknown_columns=unknown, dry_run=dry_run)
        rows: dict[str, tuple[int, dict]] = {}
        for line, values in table.rows():
            result.rows_read += 1
            parsed = _registry_values(kind, dict(zip(table.header, values, strict=False)))
            if isinstance(parsed, str):
                result.reject(line=line, key="", reason=parsed)
                continue
            key, values_ = parsed
            if key in rows and rows[key][1] != values_:
                result.reject(
                    line=line,
                    key=key,
                    reason=_("%(key)s already on line %(line)s with different content")
                    % {"key": key, "line": rows[key][0]},
                )
                continue
            rows[key] = (line, values_)
            if progress and result.rows_read % 1000 == 0:
                progress(result.rows_read, table.position(), table.total)
        if progress:
            progress(result.rows_read, table.total, table.total)
    _set_phase(run, "writing", result)
    with transaction.atomic():
        _save_registry(kind, rows, result)
        if dry_run:
            transaction.set_rollback(True)
    return result


def _save_registry(kind: str, rows: dict[str, tuple[int, dict]], result: ImportResult) -> None:
    model, key_field = _REGISTRY_MODEL[kind], _KEY_FIELD[kind]
    existing = {
        getattr(obj, key_field): obj for obj in model.objects.filter(**{f"{key_field}__in": list(rows)})
    }
    to_create, to_update, old_addresses = [], [], []
    for key, (_line, values) in rows.items():
        obj = existing.get(key)
        if obj is None:
            to_create.append(model(**{key_field: key}, **values))
        elif any(getattr(obj, f) != v for f, v in values.items()):
            if kind == ImportKind.OUTLETS:
                old_addresses.append(obj.address_key)
            for f, v in values.items():
                setattr(obj, f, v)
            to_update.append(obj)
    fields = list(next(iter(rows.values()))[1]) if rows else []
    model.objects.bulk_create(to_create, batch_size=1000)
    if to_update:
        if kind != ImportKind.COMPANY_NUMBERS:
            fields.append("updated_at")
            for obj in to_update:
                obj.updated_at = timezone.now()
        model.objects.bulk_update(to_update, fields, batch_size=1000)
    result.created, result.updated = len(to_create), len(to_update)
    result.unchanged = len(rows) - len(to_create) - len(to_update)
    changed = to_create + to_update
    if not changed:
        return
    for obj, old in zip(to_update, old_addresses, strict=False):
        obj._old_address_key = old
    outcome = screening.rescreen_registry_change(kind=_OWNER[kind], rows=changed)
    result.flags_raised.update(outcome["flags_raised"])
    result.flags_resolved.update(outcome["flags_resolved"])


# --- runs (web upload, command) -----------------------------------------------------------------


def _set_phase(run: ImportRun | None, phase: str, result: ImportResult) -> None:
    if run is None:
        return
    report = dict(run.report or {})
    report["phase"] = phase
    run.report = report
    ImportRun.objects.filter(pk=run.pk).update(report=report, rows_read=result.rows_read)


def _report_progress(run: ImportRun, result: ImportResult, done: int, total: int) -> None:
    report = dict(run.report or {})
    report.update(progress_done=done, progress_total=total)
    run.report = report
    ImportRun.objects.filter(pk=run.pk).update(rows_read=result.rows_read, report=report)


def run_import(run_id: int) -> None:
    """Job: run the stored ImportRun (uploaded file under MEDIA_ROOT/imports) and record its report."""
    run = ImportRun.objects.get(pk=run_id)
    if run.status in (ImportStatus.DONE, ImportStatus.FAILED):
        return  # a job that runs twice leaves the same state
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.RUNNING)
    execute_run(run, path=Path(settings.MEDIA_ROOT) / run.stored_path)


def execute_run(run: ImportRun, *, path: str | Path, progress: Progress | None = None) -> ImportResult | None:
    """Run an import for `run` and record counts, report, status; returns None when the file failed."""
    run.status = ImportStatus.RUNNING
    try:
        if run.kind == ImportKind.POLICIES:
            result = import_policies(
                path=path, name=run.filename, dry_run=run.dry_run, run=run, progress=progress
            )
        else:
            result = import_registry(
                kind=run.kind, path=path, name=run.filename, dry_run=run.dry_run, run=run, progress=progress
            )
    except IntakeError as exc:
        run.status, run.error, run.finished_at = ImportStatus.FAILED, str(exc), timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return None
    except Exception as exc:
        run.status, run.error, run.finished_at = ImportStatus.FAILED, repr(exc)[:2000], timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    record_result(run, result)
    return result


def record_result(run: ImportRun, result: ImportResult) -> None:
    run.status, run.finished_at = ImportStatus.DONE, timezone.now()
    run.rows_read, run.created, run.updated = result.rows_read, result.created, result.updated
    run.unchanged, run.rejected = result.unchanged, result.rejected
    run.report = {**result.report(), "phase": "done"}
    run.save()
