"""Run benchmarks by name: `python -m bench intake queue_claim queue_sim` (default: all).

Each benchmark is a module `bench/<name>.py` runnable on its own as `python -m bench.<name>`.
They need DATABASE_URL pointing at a PostgreSQL database they may fill (see bench/RESULTS.md).
"""

import runpy
import sys

ALL = ["intake", "queue_sim", "queue_claim", "export_flags", "pages"]

names = sys.argv[1:] or ALL
for name in names:
    print(f"\n=== bench.{name} ===", flush=True)
    sys.argv = [f"bench.{name}"]
    runpy.run_module(f"bench.{name}", run_name="__main__")
