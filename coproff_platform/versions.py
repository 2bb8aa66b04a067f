"""What a millésime's build depends on, as Dagster versions, and what a re-run must rebuild.

Dagster's own mechanism decides (code versions, data versions and the staleness it computes, shown
in the UI as "Stale" with its causes):

- **landing files** → one observable source asset `landing/<source>` per source, partitioned by
  millésime. Its data version is a fingerprint of the files the loader would read: relative path,
  size and mtime (nanoseconds) of each, plus the parcel folder chosen (`ff/` before `cadastre/`)
  and `source.yml`. Stat-only on purpose: hashing the content of a national millésime (several GB)
  would cost more than the whole no-change budget (30 s) on two cores; a copy, an edit or a
  `touch` changes size or mtime (a `touch` rebuilds for nothing: the safe side). Not seen: a file
  replaced by another one of the same size *and* mtime, and the content of a restored PostgreSQL
  table named by `source.yml` (rebuild those with `--force`).
- **code versions** → every asset: a hash of what defines it. SQL models: the `.sql`, its `.yml`
  (column comments are published), its `.audits/`, the reference tables it or its audits read
  (CSV + YML: the parameters live in `ref.parametres`) and the model build code. Sources: the
  loader code, the source contracts and the whole reference layer (the Python normalisers read it).
  Python assets (reference tables, declarations, publication, exports, evaluation): their modules.
- **data versions** of materialized assets: the reference tables give the hash of their content;
  every other asset leaves it to Dagster, which derives it from its code version and its inputs'
  data versions, so a rebuild with the same inputs gives the same data version and downstream
  stays fresh.

`plan_rebuild` asks Dagster's stale-status resolver, for one millésime, which assets are missing
or stale and why; `coproff materialize`, the schedule and the landing sensor build only those.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dagster import (
    AssetKey,
    AssetObservation,
    DagsterInstance,
    MetadataValue,
)

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "coproff_platform"
REFERENCE_DIR = REPO / "dbt_like_sql" / "reference"
LANDING = "landing"
DATA_VERSION_TAG = "dagster/data_version"
CODE_SUFFIXES = {".py", ".sql", ".json", ".yml", ".yaml"}


# -- code versions --------------------------------------------------------------------------------
def digest(paths: Iterable[Path], *extra: str) -> str:
    """sha256 (16 hex) of the files' relative paths and bytes, in path order, and of `extra`."""
    h = hashlib.sha256()
    for path in sorted(set(paths)):
        h.update(str(path.relative_to(REPO) if path.is_relative_to(REPO) else path).encode())
        h.update(b"\0")
        h.update(path.read_bytes() if path.is_file() else b"<absent>")
        h.update(b"\0")
    for text in extra:
        h.update(text.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def modules(*relative: str) -> list[Path]:
    """Files under `coproff_platform/`: a module (`exports.py`) or a package (`publish`), whose
    SQL, JSON schemas and YAML count as code too."""
    found: list[Path] = []
    for rel in relative:
        path = PACKAGE / rel
        found += sorted(p for p in path.rglob("*") if p.suffix in CODE_SUFFIXES) if path.is_dir() else [path]
    return found


def reference_files(tables: Iterable[str] | None = None) -> list[Path]:
    """CSV + YML of reference tables (`ref.x` or `x`); every table when `tables` is None."""
    if tables is None:
        return sorted(REFERENCE_DIR.glob("*.csv")) + sorted(REFERENCE_DIR.glob("*.yml"))
    names = {t.split(".", 1)[1] if t.startswith("ref.") else t for t in tables}
    return [REFERENCE_DIR / f"{n}.{ext}" for n in sorted(names) for ext in ("csv", "yml")]


# Code every source load runs: readers, normalisers, contracts (incl. their SQL), quarantine.
SOURCE_CODE = ("loading", "normalise.py", "contracts", "quarantine.py", "reference.py", "assets/sources.py",
               "checks/sources.py", "checks/expectations.py")
MODEL_CODE = ("models", "checks/audits.py", "checks/thresholds.py", "assets/models.py", "sqltext.py")


def source_code_version() -> str:
    return digest([*modules(*SOURCE_CODE), *reference_files()])


def model_code_version(model, audits: Sequence = ()) -> str:
    """The SQL, its dictionary and audits, the reference tables read, the build code."""
    audit_dir = model.path.with_suffix(".audits")
    audit_files = sorted(audit_dir.rglob("*")) if audit_dir.is_dir() else []
    refs = {t for t in model.upstream if t.startswith("ref.")}
    refs |= {t for a in audits for t in getattr(a, "reads", ()) if t.startswith("ref.")}
    return digest([model.path, model.path.with_suffix(".yml"), *[f for f in audit_files if f.is_file()],
                   *reference_files(refs), *modules(*MODEL_CODE)])


def python_code_version(*relative: str, reference: Iterable[str] | None = ()) -> str:
    """Modules (and, when given, reference tables) a Python-built asset runs."""
    refs = reference_files(reference) if reference is None or reference else []
    return digest([*modules(*relative), *refs])


# -- landing fingerprints -------------------------------------------------------------------------
def landing_key(source: str) -> AssetKey:
    return AssetKey([LANDING, source])


def _stat(path: Path, root: Path) -> list:
    st = path.stat()
    return [str(path.relative_to(root)), st.st_size, st.st_mtime_ns]


def source_fingerprint(landing_root: Path, millesime: str | int, source: str) -> tuple[str, list]:
    """(data version, entries) of what the loader of `source` reads for `millesime`."""
    from coproff_platform.contracts.sources import PACKAGE_SOURCES, PARCEL_FOLDERS, PARCELS, SOURCES

    root = Path(landing_root)
    entries: list = []
    if source in SOURCES:
        from coproff_platform.loading.load import folder_files, source_files

        declared = SOURCES[source]
        entries = [_stat(p, root) for p in source_files(root, millesime, source)]
        yml = root / str(millesime) / declared.folder / "source.yml"
        if yml.is_file():
            entries.append(_stat(yml, root))
        if declared.requirement == PARCELS:  # which parcel folder wins decides what is loaded
            chosen = next((f for f in PARCEL_FOLDERS if folder_files(root, millesime, f)), None)
            entries.append(["parcelles", chosen])
    else:
        package = PACKAGE_SOURCES[source]
        folder = root / str(millesime) / package.folder
        files = sorted({p for pattern in package.patterns for p in folder.glob(pattern)
                        if p.is_file() and not p.name.startswith(".")}) if folder.is_dir() else []
        entries = [_stat(p, root) for p in files]
    text = json.dumps(entries, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16], entries


def landing_sources() -> list[str]:
    from coproff_platform.contracts.sources import PACKAGE_SOURCES, SOURCES

    return [*SOURCES, *PACKAGE_SOURCES]


def observe_landing(instance: DagsterInstance, landing_root: Path, millesime: str,
                    sources: Iterable[str] | None = None) -> list[str]:
    """Records the landing fingerprints of `millesime` as observations, only where they changed
    since the last one (a stat of each file, no read). Returns the sources whose files changed."""
    changed = []
    for source in sources or landing_sources():
        key = landing_key(source)
        version, entries = source_fingerprint(landing_root, millesime, source)
        record = instance.get_latest_data_version_record(key, is_source=True, partition_key=millesime)
        previous = None
        if record is not None:
            previous = (record.asset_observation or record.asset_materialization).tags.get(DATA_VERSION_TAG)
        if previous == version:
            continue
        instance.report_runless_asset_event(AssetObservation(
            asset_key=key, partition=millesime, tags={DATA_VERSION_TAG: version},
            metadata={"fichiers": MetadataValue.json(entries), "empreinte": version},
        ))
        changed.append(source)
    return changed


# -- what to rebuild ------------------------------------------------------------------------------
@dataclass
class Plan:
    millesime: str
    rebuild: dict[AssetKey, str] = field(default_factory=dict)  # key -> why, in one line (build order)
    fresh: list[AssetKey] = field(default_factory=list)
    forced: bool = False
    seconds: float = 0.0  # time spent observing and planning

    @property
    def up_to_date(self) -> bool:
        return not self.rebuild


# Why an asset is rebuilt, in French like the UI's metadata: the CLI plan, the run tag
# `coproff/raison` and the sensor's requests say the same words. Dagster's own cause texts are
# English; the cause's category is said instead.
NEVER_BUILT = "jamais construit pour ce millésime"
UPSTREAM_REBUILT = "amont reconstruit : "
STALE = "périmé"
_CATEGORY_TEXT = {"CODE": "code modifié", "DATA": "données modifiées", "DEPENDENCIES": "dépendances modifiées"}
FILES_CHANGED = "fichiers modifiés"


def _cause_text(cause) -> str:
    key = cause.key.asset_key.to_user_string()
    dep = cause.dependency.asset_key.to_user_string() if cause.dependency else None
    category = cause.category.value
    if category == "CODE":
        return f"{key} : {_CATEGORY_TEXT['CODE']}"
    if key.startswith(f"{LANDING}/"):
        return f"{key} : {FILES_CHANGED}"
    if dep and dep.startswith(f"{LANDING}/"):
        return f"{dep} : {FILES_CHANGED}"
    if dep and category == "DATA":
        return f"{dep} : {_CATEGORY_TEXT['DATA']}"
    return f"{key} : {_CATEGORY_TEXT.get(category, cause.reason)}"


def _joined(texts: list[str]) -> str:
    texts = list(dict.fromkeys(texts))
    return " ; ".join(texts[:3]) + (f" (+{len(texts) - 3} autres)" if len(texts) > 3 else "")


def plan_rebuild(instance: DagsterInstance, asset_graph, millesime: str, keys: Iterable[AssetKey],
                 force: bool = False) -> Plan:
    """Which of `keys` (materializable assets of the build) to rebuild for `millesime`, and why.

    Dagster's stale-status resolver (the one behind the UI's "Stale" badge) says which assets are
    missing or stale for this partition: code version changed, or an input's data version changed
    since the asset was built (a landing fingerprint, a reference table, an upstream rebuilt by an
    earlier run). It does not look ahead: an asset whose upstream is about to be rebuilt is still
    fresh, so everything downstream of a rebuilt asset is added here ("amont reconstruit").
    """
    import time

    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._time import get_current_datetime

    started = time.monotonic()
    wanted = set(keys)
    order = [k for k in asset_graph.toposorted_asset_keys if k in wanted]
    plan = Plan(millesime, forced=force)
    if force:
        plan.rebuild = {k: "--force" for k in order}
        return plan
    # The scheduler's own shortcut (`RunRequest(stale_assets_only=True)`) ignores partitions: the
    # resolver is asked here once per asset for this millésime.
    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
                          instance=instance, asset_graph=asset_graph)
    resolver = CachingStaleStatusResolver(instance, asset_graph, view)
    # One query for every asset record instead of one per asset (the resolver reads them through
    # this loading context's cache).
    from dagster._core.storage.event_log.base import AssetRecord

    parents = {p for k in order for p in asset_graph.get(k).parent_keys}
    list(AssetRecord.blocking_get_many(view, sorted({*order, *parents})))
    for key in order:
        status = resolver.get_status(key, millesime)
        rebuilt_parents = sorted(p.to_user_string() for p in asset_graph.get(key).parent_keys if p in plan.rebuild)
        if status == StaleStatus.MISSING:
            plan.rebuild[key] = NEVER_BUILT
        elif status == StaleStatus.STALE:
            plan.rebuild[key] = _joined([_cause_text(c) for c in resolver.get_stale_root_causes(key, millesime)]
                                        or [STALE])
        elif rebuilt_parents:
            plan.rebuild[key] = UPSTREAM_REBUILT + _joined(rebuilt_parents)
        else:
            plan.fresh.append(key)
    plan.seconds = time.monotonic() - started
    return plan


def build_keys(asset_graph, select: Iterable[AssetKey] | None = None) -> list[AssetKey]:
    """Materializable assets of the millésime build (or of `select`), in build order."""
    wanted = set(select) if select else set(asset_graph.materializable_asset_keys)
    return [k for k in asset_graph.toposorted_asset_keys if k in wanted and k in asset_graph.materializable_asset_keys]


def millesime_keys(asset_graph, millesime: str, select: Iterable[AssetKey] | None = None) -> list[AssetKey]:
    """`build_keys` for one millésime. Without a ground truth (real data) the evaluation is left out:
    it has nothing to measure and materializes nothing, so it would be "never built" at every run
    and no re-run, scheduled or not, could be up to date."""
    from coproff_platform.config import truth_dir
    from coproff_platform.evaluation import has_truth

    keys = build_keys(asset_graph, select)
    return keys if has_truth(millesime, truth_dir()) else [k for k in keys if k.path[0] != "evaluation"]
