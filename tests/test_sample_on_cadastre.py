"""`coproff sample --cadastre`: registrations laid on the real parcels of a real commune (Roussines)."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

from coproff_platform.sample import profile
from coproff_platform.sample.on_cadastre import generate_on_cadastre

from conftest import REALDATA

CADASTRE = REALDATA / "cadastre-36174-parcelles.json.gz"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_registrations_sit_on_the_real_parcels_of_the_commune(tmp_path: Path):
    generate_on_cadastre(CADASTRE, 2023, 150, 7, tmp_path / "landing", tmp_path / "truth", lambda _: None)
    landing, truth = tmp_path / "landing" / "2023", tmp_path / "truth" / "2023"
    assert sorted(p.name for p in landing.iterdir() if p.is_dir()) == ["cadastre", "rnic"]
    assert (landing / "cadastre" / CADASTRE.name).read_bytes() == CADASTRE.read_bytes()
    with gzip.open(CADASTRE, "rt", encoding="utf-8") as f:
        features = json.load(f)["features"]
    ids = [x["properties"]["id"] for x in features]
    tr = Transformer.from_crs(4326, 2154, always_xy=True)
    geoms = shapely.transform(shapely.from_geojson([json.dumps(x["geometry"]) for x in features]),
                              lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    where = {idpar: g for idpar, g in zip(ids, geoms)}
    rnic = {r["numero_d_immatriculation"]: r for r in _rows(landing / "rnic" / "rnic_36.csv")}
    links = {r["num_immat"]: r["idtup"] for r in _rows(truth / "links.csv")}
    assert set(links) == set(rnic) and 130 <= len(rnic) <= 170
    assert all(r["commune"] == "36174" for r in rnic.values())
    # the commune's real name and postcode, not a placeholder
    assert {(r["nom_officiel_commune"].lower(), r["code_postal_adresse_de_reference"]) for r in rnic.values()
            if r["code_postal_adresse_de_reference"][:2] == "36"} == {("roussines", "36170")}
    planted = json.loads((truth / "planted.json").read_text(encoding="utf-8"))
    assert (planted["nom_commune"], planted["nom_commune_reel"]) == ("Roussines", True)
    # open-cadastre mode: the truth's TUP is a real parcel; its point is at that parcel's street
    # side (inside, or outside within 10 m), or on a neighbour
    linked = [(n, idtup) for n, idtup in links.items() if idtup]
    assert len(linked) >= 0.98 * len(links) and all(idtup in where for _, idtup in linked)
    cases = {r["num_immat"]: r["cas_point"] for r in _rows(truth / "cases.csv")}
    inside = outside = 0
    for n, idtup in linked:
        r = rnic[n]
        if not r["long"]:
            continue
        pt = shapely.Point(tr.transform(float(r["long"]), float(r["lat"])))
        d = shapely.distance(pt, where[idtup])
        if cases[n] == "sur_parcelle_voisine":
            assert d < 60
            continue
        assert d <= 9.3, (n, cases[n], d)
        inside += d == 0
        outside += d > 0
    assert 0.2 < inside / (inside + outside) < 0.45
    # references name real parcels (absent ones excepted), the profile reads the cadastre folder
    measures = profile.measure(landing)
    assert measures["points_plus_10m"] == 0 and abs(measures["references_absentes"] - 0.125) < 0.08
    assert measures["forme_section_une_lettre"] > 0.8  # Roussines has one-letter sections only
    dups = _rows(truth / "duplicates.csv")
    pairs = [(rnic[d["num_immat_a"]], rnic[d["num_immat_b"]]) for d in dups]
    assert pairs and all((a["long"], a["lat"]) == (b["long"], b["lat"]) for a, b in pairs if a["long"] and b["long"])
