"""Great Expectations 1.x suites on the staged sources, run from partitioned asset checks.

One suite per declared source (`contracts.sources.SOURCES`, suites in `contracts/suites.py`:
required columns, formats of registration numbers and parcel ids, value sets, ranges), validated on the partition of the millésime only (`staging.<t>_m<millesime>`,
a table asset: no SQL is formatted). Each check runs one validation in an ephemeral GX context
and reports the failing expectations with counts and sample values in its metadata. The checks
warn (non-blocking): rows that cannot be loaded are already quarantined by the loader; these
suites describe the quality of what was loaded.

GX is imported lazily (several seconds) and `geoalchemy2` is imported first so that GX can reflect
the geometry columns. `dagster-ge` is not used: it requires GX < 1.0.
"""


import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from coproff_platform import labels as L
from coproff_platform.concurrency import step_tags
from coproff_platform.contracts.sources import SOURCES
from coproff_platform.contracts.suites import Exp
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.postgis import PostGISResource, partition_name

SAMPLE = 10


# -- running a suite ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    kind: str
    column: str | None
    success: bool
    unexpected_count: int | None
    unexpected_percent: float | None
    sample: list[Any]
    observed: Any


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import geoalchemy2  # noqa: F401  (GX reflects geometry columns only once this is imported)
    import great_expectations as gx

    return gx


def _iso_dates(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Bounds written as ISO dates are compared as dates."""
    import datetime as dt

    out = dict(kwargs)
    for key in ("min_value", "max_value"):
        v = out.get(key)
        if isinstance(v, str) and len(v) == 10 and v[4] == "-":
            out[key] = dt.date.fromisoformat(v)
    return out


def validate(database_url: str, source: str, millesime: int) -> list[Outcome]:
    """Validates the partition of `millesime` of `staging.<source>` against its suite.

    Two passes: the whole suite with `BOOLEAN_ONLY` results (GX then only computes the unexpected
    counts, batched into a few aggregate queries), then, if some failed, only those again with
    `SUMMARY` for their counts and sample values. A `SUMMARY` pass over a passing suite costs one
    more full scan per expectation looking for sample rows that do not exist."""
    gx = _gx()
    schema, table = partition_name(SOURCES[source].table.qualified, millesime).split(".")
    context = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # cosmetic only
        pass
    datasource = context.data_sources.add_postgres(name="coproff", connection_string=database_url)
    asset = datasource.add_table_asset(name=table, table_name=table, schema_name=schema)
    batch = asset.add_batch_definition_whole_table("millesime")
    expectations = suite_for(source, millesime)  # declared with the source

    def run(exps: list[Exp], result_format: dict, name: str) -> list:
        suite = context.suites.add(gx.ExpectationSuite(name=f"staging_{source}_{name}"))
        for exp in exps:
            suite.add_expectation(getattr(gx.expectations, exp.kind)(**_iso_dates(exp.kwargs)))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(data=batch, suite=suite, name=f"staging_{source}_{millesime}_{name}")
        )
        return list(definition.run(result_format=result_format).results)

    try:
        results = run(expectations, {"result_format": "BOOLEAN_ONLY"}, "verdict")
        failed = [i for i, r in enumerate(results) if not r.success]
        if failed:  # same order as the suite: result i is expectation i
            details = run([expectations[i] for i in failed],
                          {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE}, "details")
            for i, r in zip(failed, details):
                results[i] = r
    finally:
        # GX keeps its own engine: close its connections, a Dagster process runs many checks.
        try:
            datasource.get_execution_engine().engine.dispose()
        except Exception:
            pass
    outcomes = []
    for r in results:
        res = r.result or {}
        outcomes.append(Outcome(
            kind=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            success=bool(r.success),
            unexpected_count=res.get("unexpected_count"),
            unexpected_percent=res.get("unexpected_percent"),
            sample=list(res.get("partial_unexpected_list") or [])[:SAMPLE],
            observed=res.get("details", {}).get("mismatched") or res.get("observed_value"),
        ))
    return outcomes


def outcomes_metadata(outcomes: list[Outcome], millesime: int) -> dict[str, Any]:
    failed = [o for o in outcomes if not o.success]
    meta: dict[str, Any] = {
        L.du_millesime(L.ATTENTES, millesime): MetadataValue.int(len(outcomes)),
        L.du_millesime(L.ATTENTES_EN_ECHEC, millesime): MetadataValue.int(len(failed)),
    }
    if failed:
        lines = ["| expectation | colonne | lignes en échec | % | exemples / observé |", "|---|---|---|---|---|"]
        for o in failed:
            pct = f"{o.unexpected_percent:.2f}" if o.unexpected_percent is not None else ""
            shown = ", ".join(repr(v) for v in o.sample) if o.sample else repr(o.observed)
            lines.append(f"| {o.kind} | {o.column or ''} | {o.unexpected_count if o.unexpected_count is not None else ''} "
                         f"| {pct} | {shown.replace('|', '¦')[:300]} |")
        meta[L.ECHECS] = MetadataValue.md("\n".join(lines))
    return meta


# -- the asset checks -----------------------------------------------------------------------------

def suite_for(source: str, millesime: int) -> list[Exp]:
    """The expectations of one staged source for one millésime (declared in its contract)."""
    return SOURCES[source].expectations(millesime)


def build_expectation_check(source: str):
    table = SOURCES[source].table.qualified

    @asset_check(
        asset=AssetKey(["staging", source]),
        name="great_expectations",
        blocking=False,
        partitions_def=millesime_partitions,
        op_tags=step_tags(f"staging/{source}", check="warn"),
        description=f"Suite Great Expectations sur {table} (formats, ensembles de valeurs, bornes), millésime du partitionnement",
    )
    def _check(context: AssetCheckExecutionContext, postgis: PostGISResource) -> AssetCheckResult:
        millesime = int(context.partition_key)
        partition = partition_name(table, millesime)
        with postgis.engine.connect() as conn:
            exists = conn.execute(sa.text("select to_regclass(:t) is not null"), {"t": partition}).scalar()
        if not exists:
            return AssetCheckResult(
                passed=False, severity=AssetCheckSeverity.WARN,
                metadata={L.TABLE: MetadataValue.text(table), L.MILLESIME: MetadataValue.text(str(millesime))},
                description=f"Millésime {millesime} absent de {table} : chargez d'abord la source pour ce millésime",
            )
        outcomes = validate(postgis.database_url, source, millesime)
        failed = [o for o in outcomes if not o.success]
        return AssetCheckResult(
            passed=not failed,
            severity=AssetCheckSeverity.WARN,
            # the public table and the millésime, not the internal partition's name
            metadata={L.TABLE: MetadataValue.text(table), L.MILLESIME: MetadataValue.text(str(millesime)),
                      **outcomes_metadata(outcomes, millesime)},
            description=None if not failed else (
                f"{len(failed)} attente(s) sur {len(outcomes)} en échec sur {table}, millésime {millesime} : "
                + ", ".join(sorted({f'{o.kind}({o.column})' if o.column else o.kind for o in failed}))
            ),
        )

    return _check


EXPECTATION_CHECKS: list = [build_expectation_check(s) for s in SOURCES]
