"""Demo step: registries and about 150 policies, loaded through the real intake (files written in the
FORMATS.md columns by demo_data, with planted defects), so every flag code has examples.

Idempotent: the same rows import as unchanged the second time.
"""

import csv
import tempfile
from pathlib import Path

from django.utils import timezone

from .. import intake
from ..models import ImportKind, ImportRun
from . import data as demo_data

DEMO_POLICIES = 150


def _write(path: Path, columns: list[str], rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def seed(users) -> None:
    agents, outlets = demo_data.agent_rows(), demo_data.outlet_rows()
    today = timezone.localdate()
    with tempfile.TemporaryDirectory(prefix="huifang-demo-") as folder:
        base = Path(folder)
        registries = [
            ("agents", demo_data.AGENT_COLUMNS, agents),
            ("outlets", demo_data.OUTLET_COLUMNS, outlets),
            ("company_numbers", demo_data.COMPANY_COLUMNS, demo_data.company_rows()),
        ]
        # The imports page shows these runs; the previous demo's runs are replaced, not added to.
        ImportRun.objects.filter(source=ImportRun.Source.COMMAND, filename__startswith="demo_").delete()
        for kind, columns, rows in registries:
            _run(kind, _write(base / f"demo_{kind}.csv", columns, rows), users)
        policies = demo_data.policy_rows(DEMO_POLICIES, today=today, agents=agents, outlets=outlets)
        _run(
            ImportKind.POLICIES, _write(base / "demo_policies.csv", demo_data.POLICY_COLUMNS, policies), users
        )


def _run(kind: str, path: Path, users) -> None:
    run = intake.create_run(
        kind=kind, source=ImportRun.Source.COMMAND, filename=path.name, user=users.get("admin")
    )
    intake.execute_run(run, path=path)
