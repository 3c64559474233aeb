"""Lists of a million rows shown 50 at a time: counts that stop at a threshold, and the "about N" rule.

Counting a million tasks to print "1,000,000 tasks" above a page of 50 costs more than the page
(bench/RESULTS.md, page benchmark). So a list counts its rows exactly up to `EXACT_UP_TO`; past that
it shows "about N" with N PostgreSQL's estimate for the same query (rounded to two significant
figures, never below the threshold), and offers the pages of the first `EXACT_UP_TO` rows: deeper
pages would make the database skip all the rows before them, and a supervisor narrows the filter
instead (docs/queue.md, "Counts on long lists").
"""

import json
import math
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

EXACT_UP_TO = 10_000
# From this row on, a page is read in two steps (see LongListPaginator.page).
DEFERRED_JOIN_FROM = 1_000


@dataclass(frozen=True)
class RowCount:
    n: int
    exact: bool

    @property
    def grouped(self) -> str:
        """1,200,000: a large number as the page prints it."""
        return f"{self.n:,}"


def round_about(n: int) -> int:
    """1,234,567 → 1,200,000: an estimate shown with the precision it has."""
    if n < 100:
        return n
    scale = 10 ** (int(math.log10(n)) - 1)
    return round(n / scale) * scale


def estimated_rows(qs: QuerySet) -> int:
    """PostgreSQL's estimate of the rows `qs` returns (its planner statistics); 0 elsewhere."""
    connection = connections[qs.db]
    if connection.vendor != "postgresql":
        return 0
    sql, params = qs.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def count_rows(qs: QuerySet, *, exact_up_to: int | None = None) -> RowCount:
    """Exact up to `exact_up_to` rows (EXACT_UP_TO by default; it stops reading there); beyond,
    "about N" (see the module's docstring)."""
    exact_up_to = exact_up_to or EXACT_UP_TO
    # values("pk"): no joins for select_related, no annotations (a subquery per row) in the count.
    n = qs.order_by().values("pk")[: exact_up_to + 1].count()
    if n <= exact_up_to:
        return RowCount(n, True)
    return RowCount(max(exact_up_to + 1, round_about(estimated_rows(qs))), False)


class LongListPaginator(Paginator):
    """A Paginator whose count follows `count_rows`: pages go as deep as the exact count reaches.

    `total` is what the page says about the whole list: `total.n` rows, exact or "about";
    `exact_up_to_grouped` the threshold as the page prints it. `known_total`: the exact number of
    rows when the page has it anyway (the flag list's counts by status), instead of counting.
    """

    def __init__(
        self,
        object_list,
        per_page,
        *,
        exact_up_to: int | None = None,
        known_total: int | None = None,
        **kwargs,
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.exact_up_to = exact_up_to or EXACT_UP_TO
        self.exact_up_to_grouped = f"{self.exact_up_to:,}"
        if known_total is not None:
            self.total = RowCount(known_total, True)

    @cached_property
    def total(self) -> RowCount:
        return count_rows(self.object_list, exact_up_to=self.exact_up_to)

    @cached_property
    def count(self) -> int:
        return min(self.total.n, self.exact_up_to)

    @property
    def shows_part(self) -> bool:
        """More rows than the pages reach."""
        return self.total.n > self.count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom < DEFERRED_JOIN_FROM:
            return super().page(number)
        # A deep page: skip the rows before it by key alone (the list's index, no joined rows read),
        # then read the page's own rows whole, in the list's order.
        ids = list(self.object_list.values_list("pk", flat=True)[bottom : bottom + self.per_page])
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)
