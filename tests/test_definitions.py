"""The code location loads as the UI would; its asset graph is the one the SQL and sources describe.

The snapshot `tests/snapshots/asset_graph.txt` lists every asset with its upstream assets and its
checks. A change to the data flow shows in review as a diff of that file; regenerate it with
`COPROFF_UPDATE_SNAPSHOTS=1 pytest tests/test_definitions.py`.
"""

import os
from pathlib import Path

from dagster import Definitions

from coproff_platform.definitions import defs
from coproff_platform.partitions import millesime_partitions

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.txt"


def asset_graph_text() -> str:
    graph = defs.get_repository_def().asset_graph
    checks_by_asset: dict[str, list[str]] = {}
    for check_key in graph.asset_check_keys:
        checks_by_asset.setdefault(check_key.asset_key.to_user_string(), []).append(check_key.name)
    lines = []
    for key in sorted(graph.materializable_asset_keys, key=lambda k: k.to_user_string()):
        name = key.to_user_string()
        parents = sorted(p.to_user_string() for p in graph.get(key).parent_keys)
        lines.append(f"{name} <- {', '.join(parents) or '(landing files)'}")
        lines += [f"    check {c}" for c in sorted(checks_by_asset.get(name, []))]
    return "\n".join(lines) + "\n"


def test_code_location_loads():
    Definitions.validate_loadable(defs)


def test_asset_graph_matches_snapshot():
    current = asset_graph_text()
    if os.environ.get("COPROFF_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(current)
    assert SNAPSHOT.exists(), f"no snapshot at {SNAPSHOT}: run with COPROFF_UPDATE_SNAPSHOTS=1"
    assert current == SNAPSHOT.read_text()


def test_every_asset_is_partitioned_by_millesime():
    graph = defs.get_repository_def().asset_graph
    for key in graph.materializable_asset_keys:
        assert graph.get(key).partitions_def == millesime_partitions, key


def test_the_main_job_runs_every_check():
    """Jobs can silently leave checks out: the build job must select every one of them."""
    job = defs.resolve_job_def("build_millesime")
    graph = defs.get_repository_def().asset_graph
    selected = job.asset_layer.asset_graph.asset_check_keys
    assert set(graph.asset_check_keys) <= set(selected)
