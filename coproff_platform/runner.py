"""`coproff materialize`: registers a millésime and builds it, checks included, in this process.

The run is recorded in the Dagster instance of `DAGSTER_HOME`, so it shows in the UI like a run
launched there.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from coproff_platform.config import dagster_home


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--millesime", required=True, help="millésime (year), e.g. 2023")
    parser.add_argument(
        "--select",
        help="comma-separated asset keys to build (e.g. staging/rnic,coproff/coproff); default: everything",
    )


def get_instance():
    from dagster import DagsterInstance

    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    return DagsterInstance.get()


def materialize_millesime(millesime: str, select: list[str] | None = None, instance=None):
    """Runs the `build_millesime` job for one partition; returns the ExecuteInProcessResult."""
    from dagster import AssetKey

    from coproff_platform.definitions import defs
    from coproff_platform.partitions import register_millesime

    instance = instance or get_instance()
    register_millesime(instance, millesime)
    job = defs.resolve_job_def("build_millesime")
    selection = [AssetKey.from_user_string(k.strip()) for k in select] if select else None
    return job.execute_in_process(
        partition_key=str(millesime),
        instance=instance,
        asset_selection=selection,
        raise_on_error=False,
    )


def summarize(result) -> tuple[list[str], bool]:
    """Lines of a summary (rows per asset, check results) and whether a blocking check failed."""
    assets: list[tuple[str, str]] = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            rows = mat.metadata.get("dagster/row_count")
            assets.append((mat.asset_key.to_user_string(), f"{rows.value:,} rows" if rows is not None else ""))
    checks: list[tuple[str, str]] = []
    blocking_failed = False
    for ev in result.get_asset_check_evaluations():
        failed_blocking = not ev.passed and ev.severity.value == "ERROR"
        blocking_failed |= failed_blocking
        status = "passed" if ev.passed else ("FAILED (blocking)" if failed_blocking else "failed (warning)")
        checks.append((f"{ev.asset_key.to_user_string()}:{ev.check_name}", status))
    width = max((len(name) for name, _ in assets + checks), default=0) + 2
    lines = ["", "Assets materialized:"]
    lines += [f"  {name:<{width}}{rows:>14}" for name, rows in assets]
    lines.append("Checks:")
    lines += [f"  {name:<{width}}{status}" for name, status in checks]
    return lines, blocking_failed


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    select = args.select.split(",") if args.select else None
    result = materialize_millesime(str(args.millesime), select)
    lines, blocking_failed = summarize(result)
    print("\n".join(lines))
    elapsed = time.monotonic() - started
    if not result.success or blocking_failed:
        print(f"\nmillésime {args.millesime}: FAILED after {elapsed:.1f} s (run {result.run_id})", file=sys.stderr)
        return 1
    print(f"\nmillésime {args.millesime}: done in {elapsed:.1f} s (run {result.run_id})")
    return 0
