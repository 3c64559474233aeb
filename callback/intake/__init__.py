"""Intake: policy and registry files (CSV or XLSX, FORMATS.md) into the database, screened.

One code path for the upload page, the management commands, the API and the demo data (`runs`):

- `files`: encodings, CSV/XLSX streaming, the header check made before anything is written;
- `policy_rows`: one row → the rows staged for it (pure Python; named tuples of the staging columns);
- `staging`: temporary tables, batches parsed in this process or a pool of forked workers;
- `policies`: the policies import — read once, skip unchanged rows, stage, merge;
- `merge`: one transaction upserts set-based, screens the changed policies, syncs their tasks;
- `registries`: agents, outlets and company numbers, and the re-screening they cause;
- `runs` and `result`: the ImportRun (phase, progress, report), ending `done` or `failed`.
"""

from .files import IntakeError, detect_encoding, open_table
from .policies import import_policies, import_policy_records
from .policy_rows import POLICY_COLUMNS
from .registries import OPTIONAL_COLUMNS, REGISTRY_COLUMNS, import_registry
from .result import ImportResult
from .runs import create_run, execute_run, fail_interrupted, import_policy_batch, record_result, run_import

__all__ = [
    "fail_interrupted",
    "OPTIONAL_COLUMNS",
    "POLICY_COLUMNS",
    "REGISTRY_COLUMNS",
    "ImportResult",
    "IntakeError",
    "create_run",
    "detect_encoding",
    "execute_run",
    "import_policies",
    "import_policy_batch",
    "import_policy_records",
    "import_registry",
    "open_table",
    "record_result",
    "run_import",
]
