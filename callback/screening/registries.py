"""Registries and screening: the numbers a registry row carries, and re-screening what a change of
agents, outlets or company numbers touches."""

from __future__ import annotations

from collections.abc import Iterable

from verification import validators

from ..models import Party, Policy, RegistryPhone
from .rules import APPLICANT
from .sets import rescreen


def registry_numbers(*, kind: str, row) -> set[str]:
    """The normalised numbers a registry row carries."""
    if kind == RegistryPhone.Owner.AGENT:
        raw = [row.mobile, *row.phones.split(";")]
    elif kind == RegistryPhone.Owner.OUTLET:
        raw = row.phones.split(";")
    else:
        raw = [row.number]
    return {n for n in (validators.normalize_phone(r) for r in raw) if n}


def owner_code(kind: str, row) -> str:
    if kind == RegistryPhone.Owner.AGENT:
        return row.agent_code
    if kind == RegistryPhone.Owner.OUTLET:
        return row.outlet_code
    return row.normalized


def sync_registry_phones(*, kind: str, rows: Iterable, deleted_codes: Iterable[str] = ()) -> set[str]:
    """Rebuild RegistryPhone for these registry rows; returns every number added or removed."""
    touched: set[str] = set()
    rows = list(rows)
    codes = [owner_code(kind, r) for r in rows] + list(deleted_codes)
    for start in range(0, len(codes), 2000):
        chunk = codes[start : start + 2000]
        old = RegistryPhone.objects.filter(owner_kind=kind, owner_code__in=chunk)
        touched.update(old.values_list("number", flat=True))
        old.delete()
    new = []
    for row in rows:
        for number in registry_numbers(kind=kind, row=row):
            new.append(RegistryPhone(number=number, owner_kind=kind, owner_code=owner_code(kind, row)))
            touched.add(number)
    RegistryPhone.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    return touched


def policies_affected_by_registry(
    *,
    numbers: Iterable[str] = (),
    agent_codes: Iterable[str] = (),
    outlet_codes: Iterable[str] = (),
    address_keys: Iterable[str] = (),
) -> set[int]:
    """Policies whose registry flags may change: by applicant number, agent, outlet or address."""
    ids: set[int] = set()
    numbers, address_keys = list(set(numbers) - {""}), list(set(address_keys) - {""})
    agent_codes, outlet_codes = list(set(agent_codes)), list(set(outlet_codes))
    applicants = Party.objects.filter(role=APPLICANT)
    # `.exclude(column="")` repeats the partial indexes' condition (Party.Meta) so that they are used.
    for start in range(0, max(len(numbers), 1), 2000):
        chunk = numbers[start : start + 2000]
        if chunk:
            for column in ("mobile_e164", "phone_e164"):
                found = applicants.filter(**{f"{column}__in": chunk}).exclude(**{column: ""})
                ids.update(found.values_list("policy_id", flat=True))
    if address_keys:
        found = applicants.filter(address_key__in=address_keys).exclude(address_key="")
        ids.update(found.values_list("policy_id", flat=True))
    if agent_codes:
        ids.update(Policy.objects.filter(agent_code__in=agent_codes).values_list("id", flat=True))
    if outlet_codes:
        ids.update(Policy.objects.filter(outlet_code__in=outlet_codes).values_list("id", flat=True))
    return ids


def rescreen_registry_change(*, kind: str, rows: Iterable = (), deleted: Iterable = ()) -> dict:
    """After registry rows were saved or deleted: rebuild their numbers and re-screen what they touch."""
    rows, deleted = list(rows), list(deleted)
    numbers = sync_registry_phones(kind=kind, rows=rows, deleted_codes=[owner_code(kind, r) for r in deleted])
    everything = rows + deleted
    affected = policies_affected_by_registry(
        numbers=numbers,
        agent_codes=[r.agent_code for r in everything] if kind == RegistryPhone.Owner.AGENT else (),
        outlet_codes=[r.outlet_code for r in everything] if kind == RegistryPhone.Owner.OUTLET else (),
        address_keys=[r.address_key for r in everything]
        + [getattr(r, "_old_address_key", "") for r in everything]
        if kind == RegistryPhone.Owner.OUTLET
        else (),
    )
    if not affected:
        return {"flags_raised": {}, "flags_resolved": {}, "policies": 0}
    result = rescreen(policy_ids=affected)
    result["policies"] = len(affected)
    return result
