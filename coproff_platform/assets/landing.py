"""Landing files as observable source assets: `landing/<source>`, partitioned by millésime.

Their data version is the fingerprint of the files the source's loader reads
(`versions.source_fingerprint`): when it changes, `staging/<source>` and everything downstream
are stale in the UI, and the next `coproff materialize` rebuilds them. `coproff materialize`, the
schedule and the landing sensor record it themselves before planning (`versions.observe_landing`);
"Observe" in the UI does the same for every registered millésime.
"""

import warnings

from dagster import BetaWarning, DataVersion, DataVersionsByPartition, observable_source_asset

from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.landing import LandingZone
from coproff_platform.ui import OWNERS, group_of
from coproff_platform.versions import landing_key, landing_sources, source_fingerprint


def landing_asset(source: str):
    # Observable source assets are flagged beta on every code load: known, silenced here only.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=BetaWarning, message=".*observable_source_asset")

        @observable_source_asset(
            key=landing_key(source),
            partitions_def=millesime_partitions,
            group_name=group_of(landing_key(source)),
            owners=OWNERS,
            description=f"Fichiers déposés de la source `{source}` pour un millésime. Version des données : "
            "empreinte des fichiers lus (chemin, taille, date de modification) ; quand elle change, "
            "la table chargée depuis ces fichiers et tout ce qui en dépend deviennent périmés.",
        )
        def _observe(context, landing: LandingZone):
            keys = context.instance.get_dynamic_partitions(millesime_partitions.name)
            return DataVersionsByPartition(
                {k: DataVersion(source_fingerprint(landing.root, k, source)[0]) for k in keys})

    return _observe


LANDING_ASSETS = [landing_asset(s) for s in landing_sources()]
