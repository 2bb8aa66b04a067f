"""`coproff status`: what is built and published, from the Dagster instance and the database.

Prints the millésimes (registered in Dagster, published in `coproff.millesimes` with their row
counts), the last runs, and the latest evaluation of every asset check per millésime, failures
listed by name. Reads only; works without the webserver.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from coproff_platform.config import dagster_home, database_url


@dataclass(frozen=True)
class CheckState:
    asset: str
    check: str
    partition: str | None
    passed: bool
    severity: str
    run_id: str
    timestamp: float


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--millesime", help="show only this millésime's checks (default: every millésime)")
    parser.add_argument("--runs", type=int, default=10, help="number of last runs to list (default 10)")
    parser.add_argument("--all-checks", action="store_true", help="list passed checks too, not only failures")


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if ts else "-"


def published_millesimes(url: str) -> tuple[dict[int, tuple[datetime, dict]], str | None]:
    """{millesime: (published_at, row_counts)} from coproff.millesimes, or an error to print."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.execute(sa.text("select to_regclass('coproff.millesimes')")).scalar() is None:
                return {}, None
            rows = conn.execute(sa.text("select millesime, published_at, row_counts from coproff.millesimes order by 1")).all()
        return {int(r.millesime): (r.published_at, r.row_counts) for r in rows}, None
    except sa.exc.OperationalError as exc:
        return {}, f"database unreachable: {str(exc.orig).strip().splitlines()[0]}"
    finally:
        engine.dispose()


def latest_check_states(instance, limit: int = 20000) -> list[CheckState]:
    """The most recent evaluation of each (asset, check, millésime)."""
    from dagster import DagsterEventType, EventRecordsFilter

    records = instance.get_event_records(
        EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION), limit=limit, ascending=False
    )
    latest: dict[tuple[str, str, str | None], CheckState] = {}
    for record in records:
        entry = record.event_log_entry
        ev = entry.dagster_event.event_specific_data
        key = (ev.asset_key.to_user_string(), ev.check_name, ev.partition)
        if key not in latest:  # records come newest first
            latest[key] = CheckState(key[0], key[1], key[2], ev.passed, ev.severity.value, entry.run_id, entry.timestamp)
    return sorted(latest.values(), key=lambda c: (c.partition or "", c.asset, c.check))


def run(args: argparse.Namespace) -> int:
    from coproff_platform.partitions import millesime_partitions
    from coproff_platform.runner import get_instance

    instance = get_instance()
    url = database_url()
    storage = type(instance.run_storage).__name__.replace("RunStorage", "") or "?"
    print(f"Dagster instance: {dagster_home()} ({storage} storage)")
    print(f"Database:         {make_url(url).render_as_string(hide_password=True)}")

    registered = sorted(instance.get_dynamic_partitions(millesime_partitions.name))
    published, db_error = published_millesimes(url)
    records = instance.get_run_records(limit=max(args.runs, 200))
    last_build: dict[str, object] = {}
    for rec in records:  # newest first
        part = rec.dagster_run.tags.get("dagster/partition")
        if part and part not in last_build:
            last_build[part] = rec

    print("\nMillésimes")
    if db_error:
        print(f"  ({db_error})")
    keys = sorted(set(registered) | {str(m) for m in published})
    if not keys:
        print("  none: generate or land one, then `coproff materialize --millesime M`")
    else:
        print(f"  {'millésime':<10} {'registered':<11} {'published':<21} {'coproff rows':>12}  last run")
        for m in keys:
            pub = published.get(int(m))
            rec = last_build.get(m)
            last = f"{rec.dagster_run.status.value} {_when(rec.create_timestamp.timestamp())} ({rec.dagster_run.job_name})" if rec else "-"
            print(
                f"  {m:<10} {'yes' if m in registered else 'no':<11} "
                f"{(pub[0].astimezone(timezone.utc).strftime('%Y-%m-%d %H:%M UTC') if pub else 'no'):<21} "
                f"{(format(pub[1].get('coproff', 0), ',') if pub else '-'):>12}  {last}"
            )

    print(f"\nLast runs (newest first, at most {args.runs})")
    if not records:
        print("  none")
    for rec in records[: args.runs]:
        run_ = rec.dagster_run
        duration = (
            f"{(rec.end_time - rec.start_time):.0f} s" if rec.start_time and rec.end_time else "-"
        )
        print(
            f"  {run_.run_id[:8]}  {run_.job_name:<24} {run_.tags.get('dagster/partition', '-'):<6} "
            f"{run_.status.value:<9} {_when(rec.create_timestamp.timestamp())}  {duration}"
        )

    print("\nAutomation (needs the daemon)")
    states = {s.name: s.status.value for s in instance.all_instigator_state()}
    for name in ("yearly_millesime_schedule", "landing_sensor"):
        print(f"  {name:<26} {states.get(name, 'STOPPED (default)')}")

    print("\nChecks (latest evaluation per check and millésime)")
    checks_seen = [c for c in latest_check_states(instance) if not args.millesime or c.partition == str(args.millesime)]
    if not checks_seen:
        print("  none evaluated yet")
    by_partition: dict[str | None, list[CheckState]] = defaultdict(list)
    for c in checks_seen:
        by_partition[c.partition].append(c)
    for partition, checks in by_partition.items():
        failed = [c for c in checks if not c.passed]
        errors = sum(1 for c in failed if c.severity == "ERROR")
        verdict = "all passed" if not failed else f"{len(failed)} failed ({errors} ERROR, {len(failed) - errors} WARN)"
        print(f"  millésime {partition or '-'}: {len(checks)} checks, {verdict}")
        for c in checks:
            if not c.passed or args.all_checks:
                status = "passed" if c.passed else f"FAILED {c.severity}"
                print(f"    {status:<13} {c.asset}:{c.check}  (run {c.run_id[:8]}, {_when(c.timestamp)})")
    return 0
