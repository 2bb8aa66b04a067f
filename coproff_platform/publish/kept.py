"""What consumers still read after a failed (re)build: the published version, since when, by which run."""

from __future__ import annotations

from dagster import AssetKey, AssetObservation, MetadataValue
from sqlalchemy.engine import Engine

from coproff_platform import labels as L
from coproff_platform.publish.catalog import SCHEMA
from coproff_platform.publish.registry import published_version

PUBLICATION_KEY = AssetKey([SCHEMA, "publication"])


def kept_version_metadata(engine: Engine, millesime: int, failed_run_id: str | None, cause: str) -> dict:
    """Metadata (French labels) describing the version that stays published after a failure."""
    try:
        with engine.connect() as conn:
            version = published_version(conn, millesime)
    except Exception as exc:  # the database may be what failed: say so rather than hide the failure
        return {L.VERSION_PUBLIEE: f"inconnue (base injoignable : {type(exc).__name__})",
                L.EXECUTION_EN_ECHEC: failed_run_id or "", L.CAUSE: cause[:500]}
    meta: dict = {L.MILLESIME: MetadataValue.text(str(int(millesime))),
                  L.EXECUTION_EN_ECHEC: failed_run_id or "", L.CAUSE: cause[:500]}
    if version is None:
        meta[L.VERSION_PUBLIEE] = "aucune : ce millésime n'a jamais été publié"
        meta[L.TOUJOURS_PUBLIE] = False
        return meta
    meta.update({
        L.TOUJOURS_PUBLIE: True,
        L.VERSION_PUBLIEE: f"millésime {millesime} publié le {version.published_at.isoformat()} "
                           f"par l'exécution {version.run_id or 'inconnue'}, inchangé",
        L.PUBLIE_DEPUIS: MetadataValue.timestamp(version.published_at),
        L.EXECUTION_DE_PUBLICATION: version.run_id or "",
        L.LIGNES_PUBLIEES: MetadataValue.json(version.row_counts),
    })
    return meta


def kept_version_observation(engine: Engine, millesime: int, failed_run_id: str | None, cause: str) -> AssetObservation:
    metadata = kept_version_metadata(engine, millesime, failed_run_id, cause)
    kept = metadata.get(L.TOUJOURS_PUBLIE) is True
    return AssetObservation(
        asset_key=PUBLICATION_KEY,
        partition=str(int(millesime)),
        description=f"Échec de la construction du millésime {int(millesime)} : "
        + ("la version précédente reste publiée, inchangée" if kept else "aucune version n'est publiée"),
        metadata=metadata,
    )
