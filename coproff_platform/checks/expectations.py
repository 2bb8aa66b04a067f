"""Great Expectations 1.x suites on the staged sources, run from partitioned asset checks.

One suite per staging table (required columns, formats of registration numbers and parcel ids,
value sets, ranges), validated on the partition of the millésime only (`staging.<t>_m<millesime>`,
a table asset: no SQL is formatted). Each check runs one validation in an ephemeral GX context
and reports the failing expectations with counts and sample values in its metadata. The checks
warn (non-blocking): rows that cannot be loaded are already quarantined by the loader; these
suites describe the quality of what was loaded.

GX is imported lazily (several seconds) and `geoalchemy2` is imported first so that GX can reflect
the geometry columns. `dagster-ge` is not used: it requires GX < 1.0.
"""


import os
from dataclasses import dataclass, field
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

from coproff_platform import normalise as n
from coproff_platform.contracts.tables import STAGING_TABLES
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.postgis import PostGISResource, partition_name

# Formats, as the sources spell them (SOURCES.md); PostgreSQL regular expressions.
NUM_IMMAT = n._NUM_IMMAT.pattern  # 2 capital letters + 7 digits
INSEE = r"^([0-9]{5}|2[AB][0-9]{3})$"
IDPAR = r"^([0-9]{2}|2[AB])[0-9]{3}[0-9]{3}[0-9A-Z]{2}[0-9]{4}$"  # ccodep ccocom ccopre ccosec dnupla
IDLOCAL = r"^([0-9]{2}|2[AB])[0-9A-Z]{10}$"  # ccodep + invariant
CODE_POSTAL = r"^[0-9]{5}$"
CTPDL = ["BND", "CL", "CV", "TF", "CLV", "MP"]
SRIDS = [2154, 5490, 2972, 2975, 4471]
LABELS = list("ABCDEFG")
MANDATS = ["Mandat en cours", "Pas de mandat en cours", "Mandat expiré sans successeur déclaré",
           "Mandat expiré avec successeur déclaré"]
NATURES_MUTATION = ["Vente", "Vente en l'état futur d'achèvement", "Vente terrain à bâtir", "Echange",
                    "Adjudication", "Expropriation"]
SAMPLE = 10


@dataclass(frozen=True)
class Exp:
    """One expectation: the GX class name and its arguments (dates as ISO strings)."""

    kind: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def _e(kind: str, **kwargs: Any) -> Exp:
    return Exp(kind, kwargs)


def suite_for(source: str, millesime: int) -> list[Exp]:
    """The expectations of one staged source for one millésime."""
    table = STAGING_TABLES[source]
    common = [
        _e("ExpectTableColumnsToMatchSet", column_set=table.column_names, exact_match=True),
        _e("ExpectTableRowCountToBeBetween", min_value=1),
        _e("ExpectColumnValuesToBeInSet", column="millesime", value_set=[millesime]),
    ]
    end = f"{millesime}-12-31"
    suites: dict[str, list[Exp]] = {
        "rnic": [
            _e("ExpectColumnValuesToNotBeNull", column="num_immat"),
            _e("ExpectColumnValuesToMatchRegex", column="num_immat", regex=NUM_IMMAT),
            _e("ExpectColumnValuesToBeUnique", column="num_immat"),
            _e("ExpectColumnValuesToMatchRegex", column="num_immat_principal", regex=NUM_IMMAT),
            _e("ExpectColumnValuesToMatchRegex", column="code_commune", regex=INSEE),
            _e("ExpectColumnValuesToMatchRegex", column="code_postal", regex=CODE_POSTAL),
            *[_e("ExpectColumnValuesToMatchRegex", column=f"idpar_{i}", regex=IDPAR) for i in (1, 2, 3)],
            _e("ExpectColumnValuesToBeInSet", column="p_constr", value_set=list(n.PERIODS)),
            _e("ExpectColumnValuesToBeInSet", column="type_syndic", value_set=["professionnel", "bénévole"]),
            _e("ExpectColumnValuesToBeInSet", column="mandat", value_set=MANDATS),
            *[_e("ExpectColumnValuesToBeBetween", column=c, min_value=0, max_value=20000)
              for c in ("lots_total", "lots_hab", "lots_stationnement")],
            _e("ExpectColumnValuesToBeBetween", column="date_immat", min_value="2016-11-01", max_value=end,
               mostly=0.99),
        ],
        "ff_parcelle": [
            _e("ExpectColumnValuesToNotBeNull", column="idpar"),
            _e("ExpectColumnValuesToMatchRegex", column="idpar", regex=IDPAR),
            _e("ExpectColumnValuesToBeUnique", column="idpar"),
            _e("ExpectColumnValuesToNotBeNull", column="idtup", mostly=0.99),
            _e("ExpectColumnValuesToMatchRegex", column="idcom", regex=INSEE),
            _e("ExpectColumnValuesToBeInSet", column="ctpdl", value_set=CTPDL),
            _e("ExpectColumnValuesToBeInSet", column="srid", value_set=SRIDS),
            _e("ExpectColumnValuesToBeBetween", column="nlogh", min_value=0, max_value=10000),
            _e("ExpectColumnValuesToBeBetween", column="jannatmin", min_value=0, max_value=millesime),
        ],
        "ff_tup": [
            _e("ExpectColumnValuesToNotBeNull", column="idtup"),
            _e("ExpectColumnValuesToBeUnique", column="idtup"),
            _e("ExpectColumnValuesToBeInSet", column="typetup", value_set=["SIMPLE", "UF", "PDLMP"]),
            _e("ExpectColumnValuesToMatchRegex", column="idcom", regex=INSEE),
            _e("ExpectColumnValuesToBeInSet", column="ctpdl", value_set=CTPDL),
            _e("ExpectColumnValuesToBeInSet", column="srid", value_set=SRIDS),
            _e("ExpectColumnValuesToBeBetween", column="nparcel", min_value=1),
            _e("ExpectColumnValuesToBeBetween", column="nloghcopro", min_value=0, max_value=10000),
            _e("ExpectColumnValuesToBeBetween", column="jannatmin", min_value=0, max_value=millesime),
        ],
        "dpe": [
            _e("ExpectColumnValuesToNotBeNull", column="numero_dpe"),
            _e("ExpectColumnValuesToBeUnique", column="numero_dpe"),
            _e("ExpectColumnValuesToBeInSet", column="etiquette_dpe", value_set=LABELS),
            _e("ExpectColumnValuesToBeInSet", column="etiquette_ges", value_set=LABELS),
            _e("ExpectColumnValuesToBeInSet", column="type_batiment", value_set=["appartement", "maison", "immeuble"]),
            _e("ExpectColumnValuesToMatchRegex", column="num_immat", regex=NUM_IMMAT),
            _e("ExpectColumnValuesToMatchRegex", column="code_insee_ban", regex=INSEE),
            _e("ExpectColumnValuesToBeBetween", column="date_etablissement_dpe", min_value="2006-01-01",
               max_value=f"{millesime + 1}-12-31"),
            _e("ExpectColumnValuesToBeBetween", column="surface_habitable_logement", min_value=1, max_value=5000,
               mostly=0.99),
        ],
        "dvf": [
            _e("ExpectColumnValuesToNotBeNull", column="id_mutation"),
            _e("ExpectColumnValuesToNotBeNull", column="line_hash"),
            _e("ExpectColumnValuesToMatchRegex", column="id_parcelle", regex=IDPAR),
            _e("ExpectColumnValuesToMatchRegex", column="code_commune", regex=INSEE),
            _e("ExpectColumnValuesToBeInSet", column="code_type_local", value_set=[1, 2, 3, 4]),
            _e("ExpectColumnValuesToBeInSet", column="nature_mutation", value_set=NATURES_MUTATION),
            _e("ExpectColumnValuesToBeBetween", column="valeur_fonciere", min_value=0),
            _e("ExpectColumnValuesToBeBetween", column="surface_reelle_bati", min_value=0),
            _e("ExpectColumnValuesToBeBetween", column="date_mutation", min_value=f"{millesime - 10}-01-01",
               max_value=f"{millesime + 1}-12-31"),
        ],
        "lovac": [
            _e("ExpectColumnValuesToNotBeNull", column="ff_idlocal"),
            _e("ExpectColumnValuesToBeUnique", column="ff_idlocal"),
            _e("ExpectColumnValuesToMatchRegex", column="ff_idlocal", regex=IDLOCAL),
            _e("ExpectColumnValuesToMatchRegex", column="ff_idpar", regex=IDPAR),
            _e("ExpectColumnValuesToBeInSet", column="ff_ccthp", value_set=["V"], mostly=0.95),
            _e("ExpectColumnValuesToBeBetween", column="debutvacance", min_value=1900, max_value=millesime),
        ],
    }
    return common + suites[source]


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
    """Validates the partition of `millesime` of `staging.<source>` against its suite."""
    gx = _gx()
    schema, table = partition_name(STAGING_TABLES[source].qualified, millesime).split(".")
    context = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # cosmetic only
        pass
    datasource = context.data_sources.add_postgres(name="coproff", connection_string=database_url)
    asset = datasource.add_table_asset(name=table, table_name=table, schema_name=schema)
    batch = asset.add_batch_definition_whole_table("millesime")
    suite = context.suites.add(gx.ExpectationSuite(name=f"staging_{source}"))
    for exp in suite_for(source, millesime):
        suite.add_expectation(getattr(gx.expectations, exp.kind)(**_iso_dates(exp.kwargs)))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(data=batch, suite=suite, name=f"staging_{source}_{millesime}")
    )
    try:
        result = definition.run(result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE})
    finally:
        # GX keeps its own engine: close its connections, a Dagster process runs many checks.
        try:
            datasource.get_execution_engine().engine.dispose()
        except Exception:
            pass
    outcomes = []
    for r in result.results:
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


def outcomes_metadata(outcomes: list[Outcome]) -> dict[str, Any]:
    failed = [o for o in outcomes if not o.success]
    meta: dict[str, Any] = {
        "expectations": MetadataValue.int(len(outcomes)),
        "failed_expectations": MetadataValue.int(len(failed)),
    }
    if failed:
        lines = ["| expectation | colonne | lignes en échec | % | exemples / observé |", "|---|---|---|---|---|"]
        for o in failed:
            pct = f"{o.unexpected_percent:.2f}" if o.unexpected_percent is not None else ""
            shown = ", ".join(repr(v) for v in o.sample) if o.sample else repr(o.observed)
            lines.append(f"| {o.kind} | {o.column or ''} | {o.unexpected_count if o.unexpected_count is not None else ''} "
                         f"| {pct} | {shown.replace('|', '¦')[:300]} |")
        meta["failures"] = MetadataValue.md("\n".join(lines))
    return meta


# -- the asset checks -----------------------------------------------------------------------------

def build_expectation_check(source: str):
    table = STAGING_TABLES[source].qualified

    @asset_check(
        asset=AssetKey(["staging", source]),
        name="great_expectations",
        blocking=False,
        partitions_def=millesime_partitions,
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
                description=f"{partition} does not exist: load {table} for millésime {millesime} first",
            )
        outcomes = validate(postgis.database_url, source, millesime)
        failed = [o for o in outcomes if not o.success]
        return AssetCheckResult(
            passed=not failed,
            severity=AssetCheckSeverity.WARN,
            metadata={"partition_table": MetadataValue.text(partition), **outcomes_metadata(outcomes)},
            description=None if not failed else (
                f"{len(failed)} of {len(outcomes)} expectations failed on {partition}: "
                + ", ".join(sorted({f'{o.kind}({o.column})' if o.column else o.kind for o in failed}))
            ),
        )

    return _check


SOURCES = ("rnic", "ff_parcelle", "ff_tup", "dpe", "dvf", "lovac")
EXPECTATION_CHECKS: list = [build_expectation_check(s) for s in SOURCES]
