"""Staging: the parsed rows of a policies file go in batches into per-connection temporary tables
(`COPY` on PostgreSQL, `executemany` on SQLite), parsed in this process or in a pool of forked workers."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections import deque
from collections.abc import Iterator

from django.conf import settings

from .. import sql
from ..models import FLAG_DETAIL_LENGTH
from .policy_rows import StagedFlag, StagedParty, StagedPolicy, parse_policy_row

BATCH_ROWS = 5000
POLICY, PARTY, FLAG = "hf_in_policy", "hf_in_party", "hf_in_flag"

Batch = tuple[list[tuple], list[tuple], list[tuple]]  # rows of StagedPolicy, StagedParty, StagedFlag


def create_tables(cursor) -> None:
    sql.create_temp_table(
        cursor,
        POLICY,
        "line integer, policy_no varchar(40), digest varchar(64), "
        "product_code varchar(40), product_name varchar(200), product_type varchar(20), "
        "term_years numeric(6,2), "
        "whole_life boolean, premium numeric(14,2), payment_frequency varchar(12), payment_years integer, "
        "channel varchar(16), branch_code varchar(20), branch_name varchar(100), agent_code varchar(40), "
        "agent_name varchar(100), outlet_code varchar(40), issue_date date, receipt_date date, "
        "in_scope boolean, "
        # Filled by the merge: the stored policy, its digest before, whether this row changes it.
        "policy_id bigint, old_digest varchar(64), changed boolean",
    )
    sql.create_temp_table(
        cursor,
        PARTY,
        "line integer, role varchar(12), seq integer, name varchar(100), "
        "gender varchar(1), birth_date date, id_type varchar(20), id_no varchar(40), mobile varchar(40), "
        "mobile_e164 varchar(20), phone varchar(40), phone_e164 varchar(20), address varchar(300), "
        "address_key varchar(300), relation varchar(10), share_percent numeric(5,2)",
    )
    sql.create_temp_table(
        cursor,
        FLAG,
        f"line integer, party varchar(12), field varchar(40), code varchar(32), "
        f"detail varchar({FLAG_DETAIL_LENGTH})",
    )


def drop_tables(cursor) -> None:
    for name in (POLICY, PARTY, FLAG):
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def write_batch(cursor, batch: Batch) -> None:
    policies, parties, flags = batch
    sql.insert_rows(cursor, POLICY, policies, StagedPolicy._fields)
    sql.insert_rows(cursor, PARTY, parties, StagedParty._fields)
    sql.insert_rows(cursor, FLAG, flags, StagedFlag._fields)


def parse_batch(work: list[tuple[int, dict[str, str], str]], today: dt.date) -> Batch:
    """Parse (line, row, digest) rows into the staging rows: (policies, parties, flags).

    The rows leave as plain tuples (same fields, same order): a worker's batch is pickled back to the
    importing process, and plain tuples pickle about three times faster than named ones.
    """
    policies, parties, flags = [], [], []
    for line, row, digest in work:
        parsed = parse_policy_row(line, row, today=today, digest=digest)
        policies.append(tuple(parsed.policy))
        parties.extend(map(tuple, parsed.parties))
        flags.extend(map(tuple, parsed.flags))
    return policies, parties, flags


class BatchParser:
    """Parses batches in order: in this process, or (`parallel`) in a pool of forked worker processes.

    Parsing is pure Python without the database, so the workers only need the code they were forked
    with; this process keeps reading the file and staging the parsed batches. At most two batches per
    worker are in flight, so memory stays flat. `settings.INTAKE_WORKERS` (default: the number of
    cores) sets the pool size; 0 or 1 parses in this process.
    """

    def __init__(self, *, today: dt.date):
        self.today = today
        self.workers = settings.INTAKE_WORKERS
        self.pool = None
        self.in_flight: deque = deque()

    @property
    def parallel(self) -> bool:
        return self.pool is not None

    def submit(self, work: list, *, parallel: bool) -> None:
        if parallel and self.pool is None and self.workers > 1:
            self.pool = multiprocessing.get_context("fork").Pool(self.workers)
        if self.pool is None:
            self.in_flight.append(parse_batch(work, self.today))
        else:
            self.in_flight.append(self.pool.apply_async(parse_batch, (work, self.today)))

    def done(self, *, wait: bool = False) -> Iterator[Batch]:
        """The parsed batches in order: all when `wait`, else those beyond two per worker in flight."""
        keep = 0 if wait or self.pool is None else 2 * self.workers
        while len(self.in_flight) > keep:
            batch = self.in_flight.popleft()
            yield batch if isinstance(batch, tuple) else batch.get()

    def __enter__(self) -> BatchParser:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
