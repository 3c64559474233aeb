"""Reading the files FORMATS.md describes: CSV (UTF-8 or GB18030, detected) or the first sheet of an
XLSX workbook, streamed row by row, and the header check made before anything is written."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.utils.translation import gettext as _


class IntakeError(Exception):
    """The file as a whole cannot be imported (unreadable, or a required column is missing)."""


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

    def records(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(line, {column: value}) for every row; a short row's missing cells are blank."""
        header = self.header
        for line, values in self._rows:
            if len(values) < len(header):
                values = values + [""] * (len(header) - len(values))
            yield line, dict(zip(header, values, strict=False))

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def nul_in_row() -> str:
    return _("the row contains a NUL byte")


def _normalise_header(names: Iterable) -> list[str]:
    return [str(n or "").replace("\ufeff", "").replace("\x00", "").strip().lower() for n in names]


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


# XLSX is a zip of XML: a small upload can declare gigabytes. Limits checked before openpyxl opens it.
XLSX_MAX_ROWS = 1_048_576  # Excel's own limit; a hostile sheet can have more rows in its XML
XLSX_MAX_COLUMNS = 200  # far more than any format in FORMATS.md
XLSX_MAX_RATIO = 200  # uncompressed / compressed of one member past 1 MB: real sheets stay far below


def check_xlsx_members(path: str | Path) -> None:
    """IntakeError when a member of the workbook would unpack to more than the settings allow.

    openpyxl reads the shared strings into memory whole (a 311 KB upload with a 300 MB strings part
    took ~600 MB), so that part has its own, smaller cap; sheets are streamed.
    """
    import zipfile

    from django.conf import settings

    try:
        members = zipfile.ZipFile(path).infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise IntakeError(_("The file cannot be read: it is not an XLSX workbook.")) from exc
    for member in members:
        cap = (
            settings.XLSX_MAX_SHARED_STRINGS_BYTES
            if member.filename.lower().endswith("sharedstrings.xml")
            else settings.XLSX_MAX_MEMBER_BYTES
        )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > cap or (member.file_size > (1 << 20) and ratio > XLSX_MAX_RATIO):
            raise IntakeError(
                _("The workbook is too large once unpacked (%(member)s: %(size)s MB); save it as CSV.")
                % {"member": member.filename, "size": member.file_size >> 20}
            )


def _open_xlsx(path: str | Path) -> Table:
    import openpyxl

    check_xlsx_members(path)
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    declared_rows = min(sheet.max_row or 0, XLSX_MAX_ROWS)
    # The sheet's declared dimension (e.g. A1:XFD1048576) is not trusted: openpyxl would pad every
    # row to it. Only the header's width is read.
    sheet.reset_dimensions()
    header = next(sheet.iter_rows(min_row=1, max_row=1, max_col=XLSX_MAX_COLUMNS, values_only=True), None)
    header = list(header or [])
    while header and header[-1] in (None, ""):
        header.pop()
    if not header:
        book.close()
        raise IntakeError(_("The workbook's first sheet is empty."))
    width = len(header)
    source = sheet.iter_rows(min_row=2, max_col=width, values_only=True)
    done = [0]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for line, values in enumerate(source, start=2):
                if line > XLSX_MAX_ROWS:
                    raise IntakeError(
                        _("The sheet has more than %(rows)s rows; split the file.") % {"rows": XLSX_MAX_ROWS}
                    )
                done[0] = line
                cells = [_cell(v) for v in values]
                if any(cells):
                    yield line, cells
        except IntakeError:
            raise
        except Exception as exc:  # the sheet's XML is parsed as it is read: damage shows up here
            raise IntakeError(
                _("The file cannot be read after line %(line)s: %(error)s") % {"line": done[0], "error": exc}
            ) from exc

    return Table(_normalise_header(header), rows(), lambda: done[0], declared_rows, book.close)


def check_header(header: list[str], required: Iterable[str], *, optional: Iterable[str] = ()) -> list[str]:
    """Raise IntakeError naming the missing columns; return the unknown ones (reported once)."""
    required = list(required)
    missing = [c for c in required if c not in header]
    if missing:
        raise IntakeError(_("Required column missing: %(columns)s") % {"columns": ", ".join(missing)})
    known = {*required, *optional}
    return [c for c in header if c and c not in known]
