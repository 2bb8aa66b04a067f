"""What consumers still read after a failed (re)build: the published version, since when, by which run."""

from __future__ import annotations

from dagster import AssetKey, AssetObservation, MetadataValue
from sqlalchemy.engine import Engine

from coproff_platform.publish.catalog import SCHEMA
from coproff_platform.publish.registry import published_version

PUBLICATION_KEY = AssetKey([SCHEMA, "publication"])


def kept_version_metadata(engine: Engine, millesime: int, failed_run_id: str | None, cause: str) -> dict:
    """Metadata (French labels) describing the version that stays published after a failure."""
    try:
        with engine.connect() as conn:
            version = published_version(conn, millesime)
    except Exception as exc:  # the database may be what failed: say so rather than hide the failure
        return {"version publiée": f"inconnue (base injoignable : {type(exc).__name__})",
                "exécution en échec": failed_run_id or "", "cause": cause[:500]}
    meta: dict = {"exécution en échec": failed_run_id or "", "cause": cause[:500]}
    if version is None:
        meta["version publiée"] = "aucune : ce millésime n'a jamais été publié"
        meta["toujours publié"] = False
        return meta
    meta.update({
        "toujours publié": True,
        "version publiée": f"millésime {millesime} publié le {version.published_at.isoformat()} "
                           f"par l'exécution {version.run_id or 'inconnue'}, inchangé",
        "publié depuis": MetadataValue.timestamp(version.published_at),
        "exécution de publication": version.run_id or "",
        "lignes publiées": MetadataValue.json(version.row_counts),
    })
    return meta


def kept_version_observation(engine: Engine, millesime: int, failed_run_id: str | None, cause: str) -> AssetObservation:
    metadata = kept_version_metadata(engine, millesime, failed_run_id, cause)
    kept = metadata.get("toujours publié") is True
    return AssetObservation(
        asset_key=PUBLICATION_KEY,
        partition=str(int(millesime)),
        description=f"Échec de la construction du millésime {int(millesime)} : "
        + ("la version précédente reste publiée, inchangée" if kept else "aucune version n'est publiée"),
        metadata=metadata,
    )
