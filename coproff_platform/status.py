"""`coproff status`: what is built and published, from the Dagster instance and the database.

Prints the millésimes (registered in Dagster, published in `coproff.millesimes` with their row
counts and the run that published them), the last runs, and, per millésime, the checks of its
last run that planned checks: every check the run planned is counted — passed, failed (ERROR or
WARN) or not evaluated because its step failed or was skipped — publication included. After a
failed rebuild of a published millésime it says that the previous version is still published,
since when and by which run. Reads only (except marking dead runs failed, see `runs.py`); works
without the webserver.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from coproff_platform.config import dagster_home, database_url


@dataclass(frozen=True)
class CheckState:
    asset: str
    check: str
    partition: str | None
    passed: bool | None  # None: planned, never evaluated (its step failed or was skipped)
    severity: str
    run_id: str
    timestamp: float


@dataclass
class Published:
    published_at: datetime
    row_counts: dict
    run_id: str | None
    extra: dict = field(default_factory=dict)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--millesime", help="show only this millésime (exit code 5 when it is unknown)")
    parser.add_argument("--runs", type=int, default=10, help="number of last runs to list (default 10)")
    parser.add_argument("--all-checks", action="store_true", help="list passed checks too, not only failures")


def _when(ts: float | datetime | None) -> str:
    if ts is None:
        return "-"
    when = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, tz=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def published_millesimes(url: str) -> tuple[dict[int, Published], str | None]:
    """{millesime: Published} from coproff.millesimes, or an error line to print."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            if conn.execute(sa.text("select to_regclass('coproff.millesimes')")).scalar() is None:
                return {}, None
            rows = conn.execute(sa.text("select to_jsonb(m) as r from coproff.millesimes m order by millesime")).scalars().all()
        out = {}
        for r in rows:
            published_at = r.get("published_at")
            when = datetime.fromisoformat(published_at) if isinstance(published_at, str) else published_at
            extra = {k: v for k, v in r.items() if k not in ("millesime", "published_at", "row_counts", "run_id")}
            out[int(r["millesime"])] = Published(when, r.get("row_counts") or {}, r.get("run_id"), extra)
        return out, None
    except sa.exc.OperationalError as exc:
        from coproff_platform.cli import database_error_line

        return {}, f"database unreachable: {database_error_line(exc)}"
    finally:
        engine.dispose()


def publication_record(url: str, millesime: int) -> tuple[datetime, str | None] | None:
    """(published_at, run_id) of a published millésime, None when it is not published."""
    published, error = published_millesimes(url)
    if error or millesime not in published:
        return None
    return published[millesime].published_at, published[millesime].run_id


def checks_of_run(instance, run_id: str, partition: str | None) -> list[CheckState]:
    """Every check the run planned, with its evaluation in that run (None when it never came)."""
    from dagster import DagsterEventType

    planned: dict[tuple[str, str], CheckState] = {}
    entries = instance.all_logs(
        run_id, of_type={DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED, DagsterEventType.ASSET_CHECK_EVALUATION}
    )
    for entry in entries:
        event = entry.dagster_event
        data = event.event_specific_data
        key = (data.asset_key.to_user_string(), data.check_name)
        if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED:
            planned.setdefault(key, CheckState(key[0], key[1], partition, None, "-", run_id, entry.timestamp))
        else:
            planned[key] = CheckState(key[0], key[1], data.partition or partition, data.passed, data.severity.value,
                                      run_id, entry.timestamp)
    return sorted(planned.values(), key=lambda c: (c.asset, c.check))


def latest_check_states(instance, limit: int = 20000) -> list[CheckState]:
    """The most recent evaluation of each (asset, check, millésime), whatever the run."""
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


def stale_lines(instance, shown: list[str]) -> list[str]:
    """One line per model comparing millésimes computed before the millésime it compares with."""
    from coproff_platform.automation import stale_comparisons

    return [f"  {m}: {key} is stale ({reason}); refresh: coproff materialize --millesime {m} --select {key}"
            for m, key, reason in stale_comparisons(instance) if m in shown]


def verdict(checks: list[CheckState]) -> str:
    failed = [c for c in checks if c.passed is False]
    errors = sum(1 for c in failed if c.severity == "ERROR")
    missing = sum(1 for c in checks if c.passed is None)
    parts = ["all passed"] if not failed and not missing else []
    if failed:
        parts.append(f"{len(failed)} failed ({errors} ERROR, {len(failed) - errors} WARN)")
    if missing:
        parts.append(f"{missing} not evaluated (step failed or skipped)")
    return ", ".join(parts)


def run(args: argparse.Namespace) -> int:
    from coproff_platform.cli import EXIT_DATABASE, EXIT_NOT_FOUND, EXIT_USAGE, CommandError
    from coproff_platform.partitions import is_millesime, millesime_partitions, millesime_problem
    from coproff_platform.runner import get_instance
    from coproff_platform.runs import mark_dead_runs

    if args.millesime is not None and millesime_problem(args.millesime):
        raise CommandError(EXIT_USAGE, f"coproff status: {millesime_problem(args.millesime)}")
    instance = get_instance()
    dead = mark_dead_runs(instance)
    url = database_url()
    storage = type(instance.run_storage).__name__.replace("RunStorage", "") or "?"
    print(f"Dagster instance: {dagster_home()} ({storage} storage)")
    print(f"Database:         {make_url(url).render_as_string(hide_password=True)}")
    for d in dead:
        print(f"  run {d.run_id[:8]} (millésime {d.partition or '-'}) had lost its process {d.pid}: marked FAILURE now")

    registered = sorted(instance.get_dynamic_partitions(millesime_partitions.name))
    published, db_error = published_millesimes(url)
    records = instance.get_run_records(limit=max(args.runs, 500))
    last_run: dict[str, object] = {}
    last_checked_run: dict[str, object] = {}
    for rec in records:  # newest first
        part = rec.dagster_run.tags.get("dagster/partition")
        if part and part not in last_run:
            last_run[part] = rec
    keys = sorted(set(registered) | {str(m) for m in published})
    only = str(args.millesime) if args.millesime is not None else None
    if only is not None and only not in keys:
        raise CommandError(
            EXIT_NOT_FOUND,
            f"coproff status: millésime {only} is neither registered nor published",
            f"  known millésimes: {', '.join(keys) or 'none'}",
            f"  what to do: build it with `coproff materialize --millesime {only}` (its landing folder must exist)",
        )
    shown = [only] if only else keys

    print("\nMillésimes")
    if db_error:
        print(f"  ({db_error}: published state unknown)")
    if not shown:
        print("  none: generate or land one, then `coproff materialize --millesime M`")
    else:
        print(f"  {'millésime':<10} {'registered':<11} {'published':<21} {'coproff rows':>12}  last run")
        for m in shown:
            pub = published.get(int(m)) if is_millesime(m) else None
            rec = last_run.get(m)
            last = f"{rec.dagster_run.status.value} {_when(rec.create_timestamp.timestamp())} ({rec.dagster_run.job_name})" if rec else "-"
            label = m if is_millesime(m) else repr(m)
            print(
                f"  {label:<10} {'yes' if m in registered else 'no':<11} "
                f"{(_when(pub.published_at) if pub else 'no'):<21} "
                f"{(format(pub.row_counts.get('coproff', 0), ',') if pub else '-'):>12}  {last}"
            )
        for m in shown:
            if not is_millesime(m):
                print(f"  {m!r} is not a millésime (a mistaken key): remove it with `coproff millesime remove {m!r}`")
                continue
            pub, rec = published.get(int(m)), last_run.get(m)
            if pub and rec and rec.dagster_run.status.value in ("FAILURE", "CANCELED") and (
                rec.create_timestamp.timestamp() > pub.published_at.timestamp()
            ):
                print(
                    f"  {m}: the last build FAILED (run {rec.dagster_run.run_id[:8]}, {_when(rec.create_timestamp.timestamp())}); "
                    f"the version published on {_when(pub.published_at)} by run {(pub.run_id or '?')[:8]} is still published"
                )
            if pub and pub.extra.get("source_parcelles"):
                print(f"  {m}: parcels from {pub.extra['source_parcelles']}")

    for line in stale_lines(instance, shown):
        print(line)

    print(f"\nLast runs (newest first, at most {args.runs})")
    listed = [r for r in records if not only or r.dagster_run.tags.get("dagster/partition") == only][: args.runs]
    if not listed:
        print("  none")
    for rec in listed:
        run_ = rec.dagster_run
        duration = f"{(rec.end_time - rec.start_time):.0f} s" if rec.start_time and rec.end_time else "-"
        print(
            f"  {run_.run_id[:8]}  {run_.job_name:<24} {run_.tags.get('dagster/partition', '-'):<6} "
            f"{run_.status.value:<9} {_when(rec.create_timestamp.timestamp())}  {duration}"
        )

    print("\nAutomation (needs the daemon)")
    states = {s.name: s.status.value for s in instance.all_instigator_state()}
    for name in ("yearly_millesime_schedule", "landing_sensor", "stats_evolution_sensor"):
        print(f"  {name:<26} {states.get(name, 'STOPPED (default)')}")

    print("\nChecks (per millésime: every check planned by its last run that planned checks)")
    any_checks = False
    for m in shown:
        for rec in records:  # newest first
            if rec.dagster_run.tags.get("dagster/partition") != m:
                continue
            checks = checks_of_run(instance, rec.dagster_run.run_id, m)
            if checks:
                last_checked_run[m] = (rec, checks)
                break
        if m not in last_checked_run:
            continue
        any_checks = True
        rec, checks = last_checked_run[m]
        run_ = rec.dagster_run
        print(f"  millésime {m}: {len(checks)} checks, {verdict(checks)}  "
              f"(run {run_.run_id[:8]} {run_.status.value}, {_when(rec.create_timestamp.timestamp())})")
        for c in checks:
            if c.passed is not True or args.all_checks:
                status = "passed" if c.passed else ("NOT EVALUATED" if c.passed is None else f"FAILED {c.severity}")
                print(f"    {status:<13} {c.asset}:{c.check}")
    if not any_checks:
        print("  none evaluated yet")
    if db_error:
        from coproff_platform.cli import database_unreachable

        print("\n".join(database_unreachable("status", db_error.removeprefix("database unreachable: ")).lines), file=sys.stderr)
        return EXIT_DATABASE
    return 0
