"""Asset `coproff/publication`: publishes a complete millésime (see `coproff_platform.publish`).

Its check `every_table_and_column_commented` is evaluated inside the publication transaction and
blocks it: a millésime whose published relations lack a comment is not published. When the
publication fails, an observation of the asset says which version consumers still read (since
when, by which run); `publication_conservee` does the same when a build of an already published
millésime fails upstream.
"""

# No `from __future__ import annotations` here: Dagster 1.13 then rejects the `context:
# AssetExecutionContext` annotation of the asset ("must be annotated with AssetExecutionContext").
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    DefaultSensorStatus,
    Failure,
    MaterializeResult,
    MetadataValue,
    RunFailureSensorContext,
    asset,
    run_failure_sensor,
)

from coproff_platform import labels as L
from coproff_platform.assets.models import MODEL_ASSETS
from coproff_platform.config import database_url
from coproff_platform.partitions import millesime_partitions
from coproff_platform.publish import MAIN_TABLE, SCHEMA, CommentsMissing, PublicationError, publish
from coproff_platform.publish.kept import kept_version_observation
from coproff_platform.resources.postgis import LockWaitTimeout, PostGISResource
from coproff_platform.ui import OWNERS, group_of
from coproff_platform.versions import python_code_version

PUBLICATION_KEY = AssetKey([SCHEMA, "publication"])
COMMENT_CHECK = "every_table_and_column_commented"
PUBLISHED_MODEL_KEYS = [k for a in MODEL_ASSETS for k in a.keys if k.path[0] == SCHEMA]


def _comment_check(missing: list[str], millesime: int) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=PUBLICATION_KEY,
        check_name=COMMENT_CHECK,
        passed=not missing,
        severity=AssetCheckSeverity.ERROR,
        metadata={L.RELATIONS_SANS_COMMENTAIRE: MetadataValue.json(missing[:200]),
                  L.MILLESIME: MetadataValue.text(str(millesime)),
                  L.du_millesime(L.NOMBRE, millesime): len(missing)},
    )


@asset(
    key=PUBLICATION_KEY,
    deps=PUBLISHED_MODEL_KEYS,
    partitions_def=millesime_partitions,
    code_version=python_code_version("assets/publication.py", "publish"),
    group_name=group_of(PUBLICATION_KEY),
    owners=OWNERS,
    kinds={"postgres"},
    check_specs=[
        AssetCheckSpec(
            COMMENT_CHECK,
            asset=PUBLICATION_KEY,
            partitions_def=millesime_partitions,
            blocking=True,
            description="Chaque table, vue et colonne publiée porte un commentaire (dictionnaire de données) ; "
                        "sinon le millésime n'est pas publié.",
        ),
    ],
    description="Publie un millésime complet : registre coproff.millesimes, vues _dernier et par millésime, "
                "rôle de lecture coproff_lecteur. Refusée (la version précédente reste publiée) si une donnée "
                "personnelle serait publiée ou si une relation publiée n'a pas de commentaire.",
)
def publication(context: AssetExecutionContext, postgis: PostGISResource):
    millesime = int(context.partition_key)
    try:
        result = publish(postgis.engine, millesime, context.run.run_id)
    except (PublicationError, LockWaitTimeout) as exc:
        if isinstance(exc, CommentsMissing):
            yield _comment_check(exc.missing, millesime)
        yield kept_version_observation(postgis.engine, millesime, context.run.run_id, str(exc))
        raise Failure(description=str(exc)) from exc
    context.log.info(f"millésime {millesime} published: {result.row_counts}")
    yield _comment_check([], millesime)
    yield MaterializeResult(
        metadata={
            L.LIGNES_PAR_TABLE: MetadataValue.json(result.row_counts),
            "dagster/row_count": result.row_counts[MAIN_TABLE],
            L.VUES_PUBLIEES: MetadataValue.json(result.views),
            L.VUES_RECREEES: MetadataValue.json(result.view_changes),
            L.ORIGINE_PARCELLES: result.source_parcelles or "non tracée",
        }
    )


@run_failure_sensor(name="publication_conservee", default_status=DefaultSensorStatus.RUNNING,
                    description="Après l'échec d'une reconstruction d'un millésime publié, observe sur "
                                "coproff/publication la version qui reste publiée (depuis quand, par quelle exécution).")
def publication_conservee(context: RunFailureSensorContext):
    millesime = context.dagster_run.tags.get("dagster/partition")
    if not millesime or not millesime.isdigit():
        return
    from coproff_platform.resources.postgis import _engine

    observation = kept_version_observation(_engine(database_url()), int(millesime), context.dagster_run.run_id,
                                           context.failure_event.message or "échec de l'exécution")
    context.instance.report_runless_asset_event(observation)


PUBLICATION_ASSETS = [publication]
PUBLICATION_SENSORS = [publication_conservee]
