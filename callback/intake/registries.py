"""Importing a registry — sales agents, outlets or the company's own numbers — upserted by code, then
the policies whose screening it changes are re-screened."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from verification import validators
from verification.vocab import AgentStatus, Channel

from .. import screening
from ..models import Agent, CompanyNumber, ImportKind, ImportRun, Outlet, RegistryPhone
from .files import IntakeError, check_header, nul_in_row, open_table
from .policy_rows import choice, parse_date
from .result import ImportResult, Progress, set_phase

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
OPTIONAL_COLUMNS = {ImportKind.AGENTS: ("left_on",)}
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
    if any("\x00" in (value or "") for value in row.values()):
        return nul_in_row()
    get = lambda c: (row.get(c) or "").strip()  # noqa: E731
    if kind == ImportKind.AGENTS:
        if not get("agent_code"):
            return _("no agent_code")
        left_on = parse_date(get("left_on"))
        if left_on is False:
            return _("left_on is not a date: %(value)s") % {"value": get("left_on")}
        return get("agent_code")[:40], {
            "name": get("name")[:100],
            "mobile": get("mobile")[:40],
            "phones": get("phones")[:300],
            "branch_code": get("branch_code")[:20],
            "channel": choice(Channel, get("channel")),
            "outlet_code": get("outlet_code")[:40],
            "status": choice(AgentStatus, get("status")) or AgentStatus.ACTIVE,
            "left_on": dt.date.fromisoformat(left_on) if left_on else None,
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
        unknown = check_header(table.header, REGISTRY_COLUMNS[kind], optional=OPTIONAL_COLUMNS.get(kind, ()))
        result = ImportResult(kind=kind, unknown_columns=unknown, dry_run=dry_run)
        rows: dict[str, tuple[int, dict]] = {}
        for line, record in table.records():
            result.rows_read += 1
            parsed = _registry_values(kind, record)
            if isinstance(parsed, str):
                result.reject(line=line, key="", reason=parsed)
                continue
            key, values = parsed
            if key in rows and rows[key][1] != values:
                result.reject(
                    line=line,
                    key=key,
                    reason=_("%(key)s already on line %(line)s with different content")
                    % {"key": key, "line": rows[key][0]},
                )
                continue
            rows[key] = (line, values)
            if progress and result.rows_read % 1000 == 0:
                progress(result.rows_read, table.position(), table.total)
        if progress:
            progress(result.rows_read, table.total, table.total)
    set_phase(run, "writing", result)
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
