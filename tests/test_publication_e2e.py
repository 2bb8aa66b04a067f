"""End to end on a tiny generated millésime: sources → models → publication, then what a consumer
sees in schema coproff. A volunteer syndic's name planted in the registry file must not reach any
published table, and the latest-millésime view serves the build."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from coproff_platform.assets.models import MODEL_ASSETS
from coproff_platform.assets.publication import PUBLICATION_ASSETS
from coproff_platform.assets.sources import SOURCE_ASSETS
from coproff_platform.checks import ALL_CHECKS
from coproff_platform.partitions import register_millesime
from coproff_platform.resources.landing import LandingZone

BIN = Path(sys.executable).parent
VOLUNTEER = "Jeanne DUPONTEL"  # a natural person, as a restricted (non open-data) export would carry


def plant_volunteer_name(rnic_file: Path) -> str:
    with rnic_file.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    row = next((r for r in body if r[col["type_de_syndic_benevole_professionnel_non_connu"]] == "bénévole"), body[0])
    row[col["type_de_syndic_benevole_professionnel_non_connu"]] = "bénévole"
    row[col["identification_du_representant_legal_raison_sociale_et_le_numer"]] = f"{VOLUNTEER} 12 rue des Lilas"
    row[col["raison_sociale_du_representant_legal"]] = VOLUNTEER
    with rnic_file.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return row[col["numero_d_immatriculation"]]


def test_a_built_millesime_is_published_without_a_volunteer_syndic_name(fresh_db, tmp_path):
    landing = tmp_path / "landing"
    subprocess.run(
        [BIN / "coproff", "sample", "--millesime", "2023", "--departements", "974", "--copros", "30",
         "--landing", str(landing), "--truth", str(tmp_path / "truth")],
        check=True, capture_output=True,
    )
    [rnic_file] = sorted((landing / "2023" / "rnic").glob("*.csv"))
    num_immat = plant_volunteer_name(rnic_file)

    with DagsterInstance.ephemeral() as instance:
        register_millesime(instance, "2023")
        result = materialize(
            [*SOURCE_ASSETS, *MODEL_ASSETS, *PUBLICATION_ASSETS, *ALL_CHECKS],
            partition_key="2023",
            resources={"postgis": fresh_db, "landing": LandingZone(path=str(landing))},
            instance=instance,
            raise_on_error=False,
        )
        assert result.success

    with fresh_db.engine.connect() as conn:
        # The registration itself is published ...
        assert conn.execute(
            sa.text("select count(*) from coproff.coproff_dernier where num_immat = replace(:n, '-', '')"), {"n": num_immat}
        ).scalar() == 1
        assert conn.execute(sa.text("select array_agg(millesime) from coproff.millesimes")).scalar() == [2023]
        # ... but no column of any published table or view carries the volunteer's name.
        relations = conn.execute(sa.text(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'coproff' and c.relkind in ('r', 'p', 'v')")).scalars().all()
        assert "coproff" in relations and "coproff_dernier" in relations
        for relation in relations:
            hits = conn.execute(sa.text(
                f"select count(*) from coproff.{relation} t where t::text ilike :name"), {"name": "%DUPONTEL%"}).scalar()
            assert hits == 0, f"coproff.{relation} publishes a volunteer syndic's name"
