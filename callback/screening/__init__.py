"""Screening: validator results and registry matches become ContactFlags (FORMATS.md flag codes).

- `rules`: one policy's own fields (`row_defects`), pure Python;
- `sets`: registry codes and `phone_shared` set-based, reconciled with the live flags (`screen`,
  `rescreen`);
- `registries`: what a registry change re-screens.
"""

from .registries import (
    owner_code,
    policies_affected_by_registry,
    registry_numbers,
    rescreen_registry_change,
    sync_registry_phones,
)
from .rules import (
    CORRECTED_BY_IMPORT,
    PERSON_FIELDS,
    REGISTRY_CODES,
    RESIDENT_ID_TYPES,
    ROW_CODES,
    SHARED_CODES,
    policy_row_defects,
    row_defects,
    term_defects,
)
from .sets import NUMBERS, SCOPE, WANT, applicant_numbers_sql, prepare_tables, rescreen, screen

__all__ = [
    "CORRECTED_BY_IMPORT",
    "NUMBERS",
    "PERSON_FIELDS",
    "REGISTRY_CODES",
    "RESIDENT_ID_TYPES",
    "ROW_CODES",
    "SCOPE",
    "SHARED_CODES",
    "WANT",
    "applicant_numbers_sql",
    "owner_code",
    "policies_affected_by_registry",
    "policy_row_defects",
    "prepare_tables",
    "registry_numbers",
    "rescreen",
    "rescreen_registry_change",
    "row_defects",
    "screen",
    "sync_registry_phones",
    "term_defects",
]
