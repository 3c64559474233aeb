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
