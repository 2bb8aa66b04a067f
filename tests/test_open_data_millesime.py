"""A millésime built from open data only: the real RNIC extract (Bondy, 93010) with either the real
open cadastre (Roussines, 36174) or the Fichiers fonciers of a tiny generated sample, nothing else.

Every optional source is absent. What must hold: the whole graph builds, no blocking check fails,
the millésime is published with the parcel source it was built on, and the absent sources are named
in the notes of their staging materialization. The Bondy rows lie far from these parcels, so most
registrations stay unmatched: that is expected, not asserted against.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from coproff_platform import labels as L
from coproff_platform.assets.models import MODEL_ASSETS
from coproff_platform.assets.publication import PUBLICATION_ASSETS
from coproff_platform.assets.reference import REFERENCE_ASSETS
from coproff_platform.assets.sources import SOURCE_ASSETS
from coproff_platform.checks import ALL_CHECKS
from coproff_platform.partitions import register_millesime
from coproff_platform.registre.assets import REGISTRE_ASSETS
from coproff_platform.resources.landing import LandingZone
from coproff_platform.runner import outcome_of

BIN = Path(sys.executable).parent
OPTIONAL_ABSENT = ("dpe", "dvf", "dv3f", "lovac")


def build(fresh_db, landing: Path, millesime: str):
    with DagsterInstance.ephemeral() as instance:
        register_millesime(instance, millesime)
        result = materialize(
            [*SOURCE_ASSETS, *REFERENCE_ASSETS, *REGISTRE_ASSETS, *MODEL_ASSETS, *PUBLICATION_ASSETS, *ALL_CHECKS],
            partition_key=millesime,
            resources={"postgis": fresh_db, "landing": LandingZone(path=str(landing))},
            instance=instance,
            raise_on_error=False,
        )
    outcome = outcome_of(result)
    assert result.success, (outcome.failed_steps, outcome.blocking_failed)
    assert outcome.blocking_failed == []
    notes = {
        e.event_specific_data.materialization.asset_key.to_user_string():
            e.event_specific_data.materialization.metadata.get(L.NOTE)
        for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    for source in OPTIONAL_ABSENT:
        note = notes[f"staging/{source}"]
        assert note is not None and "absente" in note.value and f"{source}/" in note.value, (source, note)
    return notes


def published(fresh_db, millesime: int):
    with fresh_db.engine.connect() as conn:
        source = conn.execute(sa.text("select source_parcelles from coproff.millesimes where millesime = :m"),
                              {"m": millesime}).scalar()
        registrations = conn.execute(sa.text("select count(*) from coproff.coproff where millesime = :m and num_immat is not null"),
                                     {"m": millesime}).scalar()
    return source, registrations


def rnic_only_landing(tmp_path: Path, realdata: Path, millesime: str) -> Path:
    landing = tmp_path / "landing"
    (landing / millesime / "rnic").mkdir(parents=True)
    shutil.copy(realdata / "rnic_extract_bondy.csv", landing / millesime / "rnic")
    return landing


def test_rnic_and_open_cadastre_only_publish_a_millesime_built_on_the_cadastre(fresh_db, realdata, tmp_path):
    landing = rnic_only_landing(tmp_path, realdata, "2022")
    (landing / "2022" / "cadastre").mkdir()
    shutil.copy(realdata / "cadastre-36174-parcelles.json.gz", landing / "2022" / "cadastre")

    notes = build(fresh_db, landing, "2022")

    assert "cadastre/" in notes["staging/ff_tup"].value  # says which parcel source replaces the FF
    source, registrations = published(fresh_db, 2022)
    assert source == "cadastre"
    assert registrations == 332  # every row of the extract, matched or not


def test_rnic_and_fichiers_fonciers_only_publish_a_millesime_built_on_the_ff(fresh_db, realdata, tmp_path):
    sample = tmp_path / "sample"
    subprocess.run(
        [BIN / "coproff", "sample", "--millesime", "2023", "--departements", "974", "--copros", "20",
         "--landing", str(sample), "--truth", str(tmp_path / "truth")],
        check=True, capture_output=True,
    )
    landing = rnic_only_landing(tmp_path, realdata, "2022")
    shutil.copytree(sample / "2023" / "ff", landing / "2022" / "ff")

    notes = build(fresh_db, landing, "2022")

    assert "cadastre/" in notes["staging/cadastre_parcelle"].value  # the open cadastre is named as absent
    source, registrations = published(fresh_db, 2022)
    assert source == "ff"
    assert registrations == 332
