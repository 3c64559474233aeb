"""Free-look windows and callback tasks (queue issue).

`sync_tasks` is what intake calls after every import: it gives every in-scope policy its one task,
moves windows whose receipt date changed, and is idempotent. STUB until the queue issue lands.
"""

from collections.abc import Iterable


def sync_tasks(*, policy_ids: Iterable[int] | None = None) -> int:
    """Create or update the callback tasks of `policy_ids` (all policies when None). Returns how many changed."""
    return 0
