"""`coproff sample --cadastre FILE`: registrations laid on the real parcels of one commune.

The synthetic world of the commune's département is built as usual (plan, layout, placement, so
the registrations keep their attributes, dates, 1-N groups and duplicates), then every TUP that
carries registrations is moved onto a real parcel of the Etalab file (`cadastre-<insee>-
parcelles.json[.gz]`), and the registration's point and references are drawn again on it with the
same cases: the address point on a street side of the parcel (a stretch of its boundary no
neighbour shares), inside or 0–1 / 1–3 / 3–9.2 m outside, on a neighbour for a few, shared by the
registrations of one address; references to the parcel, then to touching neighbours, in the real
forms, some absent (a number of the same section not in the file) or far (the same number in
another section, 100 m or more away). Open-cadastre mode: a TUP is a parcel (`idtup` = `idpar`),
there are no FF copropriétés, so no FF-only row nor FF double count is planted.

The landing millésime holds `rnic/` and `cadastre/` (a copy of the file); the truth folder the
same files as a normal sample (links, duplicates, principal/secondary, cases, planted.json).
"""

from __future__ import annotations

import gzip
import json
import math
import random
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np
import shapely
from pyproj import Transformer

from coproff_platform import normalise

from . import render
from .geography import DEPARTEMENTS, Commune, real_commune
from .model import TUP_SIMPLE
from .world import WorldBuilder

SHARE_REGISTERED = 0.62  # registrations per referential row (CoproFF 2023: 1-1, 1-N, unmatched)
_BANDS = {"facade_0_1m": (0.05, 1.0), "facade_1_3m": (1.0, 3.0), "facade_3_10m": (3.0, 9.2)}


def _read(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    return doc["features"]


class _Cadastre:
    """The file's parcels in the département's local projection, with their street sides."""

    def __init__(self, features: list[dict], srid: int) -> None:
        tr = Transformer.from_crs(4326, srid, always_xy=True)
        self.ids = [f["properties"]["id"] for f in features]
        geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
        self.geoms = shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        self.index = {idpar: i for i, idpar in enumerate(self.ids)}
        self.tree = shapely.STRtree(self.geoms)
        self.by_number: dict[str, list[int]] = {}
        self.numbers: dict[str, set[int]] = {}
        for i, idpar in enumerate(self.ids):
            self.by_number.setdefault(idpar[10:], []).append(i)
            self.numbers.setdefault(idpar[:10], set()).add(int(idpar[10:]))
        self._street: dict[int, object] = {}

    def neighbours(self, i: int) -> list[int]:
        g = self.geoms[i]
        return [int(j) for j in self.tree.query(g.buffer(0.5)) if j != i]

    def street_side(self, i: int):
        """The part of the parcel's boundary no neighbour shares (a façade on a street or a path)."""
        if i not in self._street:
            g = self.geoms[i]
            near = [self.geoms[j] for j in self.neighbours(i)]
            side = g.boundary
            if near:
                side = side.difference(shapely.union_all(near).buffer(0.5))
            self._street[i] = side
        return self._street[i]


def _place_point(rng: random.Random, cad: _Cadastre, i: int, case: str) -> tuple[float, float] | None:
    """A point for `case` on parcel i's street side: inside (0.3–5 m behind it) or outside in the band."""
    g, side = cad.geoms[i], cad.street_side(i)
    if side.is_empty or side.length < 4:
        return None
    lo, hi = _BANDS.get(case, (0.3, 5.0))
    for _ in range(30):
        q = side.interpolate(rng.uniform(0.1, 0.9) * side.length)
        a, b = side.interpolate(max(0.0, side.project(q) - 0.5)), side.interpolate(min(side.length, side.project(q) + 0.5))
        dx, dy = b.x - a.x, b.y - a.y
        n = math.hypot(dx, dy)
        if n == 0:
            continue
        d = rng.uniform(lo, min(hi, 5.0 if case == "dans_parcelle" else hi))
        for sgn in (1, -1):
            p = shapely.Point(q.x - sgn * dy / n * d, q.y + sgn * dx / n * d)
            if case == "dans_parcelle":
                if g.contains(p):
                    return p.x, p.y
                continue
            if g.contains(p):
                continue
            j, dist = cad.tree.query_nearest(p, return_distance=True, all_matches=False)
            if int(j[0]) == i and lo <= float(dist[0]) <= hi:
                return p.x, p.y
    return None


def generate_on_cadastre(cadastre: Path, millesime: int, copros: int | None, seed: int, landing: Path, truth: Path,
                         log: Callable[[str], None] = print) -> dict:
    """Write `<landing>/<millesime>/{rnic,cadastre}` and `<truth>/<millesime>/`; returns planted.json."""
    features = _read(cadastre)
    if not features:
        raise ValueError(f"{cadastre}: aucune parcelle")
    insee = features[0]["properties"]["commune"]
    dep_code = normalise.departement_of_insee(insee)
    dep = DEPARTEMENTS[dep_code]
    cad = _Cadastre(features, dep.srid)
    # the commune's real name and postcode when the generator has them (geography.real_commune), else
    # a placeholder that says so, never a real-looking name of another commune
    com = real_commune(dep_code, insee)
    named = com is not None
    if com is None:
        com = Commune(insee, f"Commune {insee}", f"{dep_code[:2]}000"[:5], 1.0, insee, f"Commune {insee}")
        log(f"coproff sample --cadastre: no real name known for commune {insee}; the registrations say "
            f"'{com.name}' (add it to geography._CADASTRE_COMMUNES)")
    areas = shapely.area(cad.geoms)
    candidates = [i for i in range(len(cad.ids)) if 150 <= areas[i] <= 20_000]
    n_regs = copros or max(20, min(400, len(candidates) // 12))
    rows = int(round(n_regs / SHARE_REGISTERED))

    builder = WorldBuilder(dep, list(DEPARTEMENTS).index(dep_code), rows, seed, millesime)
    builder.communes = [com]
    builder.settings = replace(builder.settings, communes=(com,))
    builder.commune_cum = [1.0]
    world = builder.build()
    rng = random.Random(f"coproff-sample-cadastre:{seed}:{insee}:{millesime}")
    rng.shuffle(candidates)
    # open-cadastre mode: no FF copropriété, so nothing FF-only to plant
    world.dc_pairs.clear()
    world.near_pairs.clear()
    real_of_tup: dict[int, int] = {}
    free = iter(candidates)
    point_of_parcel: dict[int, tuple[float, float] | None] = {}
    for r in world.regs:
        if r.tup is None:  # unmatched: no point, maybe a reference absent from the parcels
            r.x = r.y = None
            r.point_case = "sans_point"
            continue
        if r.tup not in real_of_tup:
            for i in free:
                if cad.street_side(i).length >= 4:
                    real_of_tup[r.tup] = i
                    break
            else:
                raise ValueError(f"{cadastre}: trop peu de parcelles pour {n_regs} immatriculations (--copros)")
            t = world.tups[r.tup]
            t.idtup, t.typetup, t.ctpdl, t.nloghcopro = cad.ids[real_of_tup[r.tup]], TUP_SIMPLE, "", 0
        i = real_of_tup[r.tup]
        own = cad.ids[i]
        # references: the parcel, then touching neighbours; absent and far ones as drawn
        listed = [own] + [cad.ids[j] for j in cad.neighbours(i)][: max(0, len(r.refs) - 1)]
        refs = []
        for k, _ in enumerate(r.refs[: len(listed)]):
            kind = r.ref_kind if k == 0 else ("absente" if rng.random() < 0.125 else "propre")
            ref = listed[k]
            if kind == "absente":
                numbers = cad.numbers[ref[:10]]
                n = next((c for c in (int(ref[10:]) + 1, int(ref[10:]) - 1, max(numbers) + 1) if 0 < c <= 9999 and c not in numbers),
                         max(numbers) + 1)
                ref = f"{ref[:10]}{n:04d}"
            elif kind == "lointaine":
                far = [j for j in cad.by_number.get(ref[10:], ()) if cad.ids[j][8:10] != ref[8:10]
                       and shapely.distance(cad.geoms[j], cad.geoms[i]) >= 100]
                ref = cad.ids[far[0]] if far else ref
                if not far:
                    r.ref_kind = "propre" if k == 0 else r.ref_kind
            refs.append(ref)
        r.refs, r.ref_forms = refs, r.ref_forms[: len(refs)]
        if not refs:
            r.ref_kind = "aucune"
        # the point: shared by the registrations at one address
        key = r.parcel if r.parcel is not None else -1
        if r.point_case == "sans_point":
            r.x = r.y = None
            continue
        if (r.tup, key) not in point_of_parcel:
            host, case = i, r.point_case
            if case == "sur_parcelle_voisine":
                near = [j for j in cad.neighbours(i) if cad.street_side(j).length >= 4]
                host, case = (rng.choice(near), "facade_0_1m") if near else (i, "facade_0_1m")
            pt = _place_point(rng, cad, host, case)
            if pt is None:  # no usable street side: inside the parcel
                p = cad.geoms[i].point_on_surface()
                pt, r.point_case = (p.x, p.y), "dans_parcelle"
            point_of_parcel[(r.tup, key)] = pt
        r.x, r.y = point_of_parcel[(r.tup, key)]

    year = millesime
    land_dir, truth_dir = landing / str(year), truth / str(year)
    for d in (land_dir, truth_dir):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    view = render.YearView.of(world, year)
    (land_dir / "rnic").mkdir()
    with open(land_dir / "rnic" / f"rnic_{dep_code}.csv", "w", encoding="utf-8", newline="") as f:
        n_rnic = render.write_rnic(f, world, view, seed, False, True)
    (land_dir / "cadastre").mkdir()
    shutil.copyfile(cadastre, land_dir / "cadastre" / cadastre.name)
    links, dups, ps = render.truth_rows(world, view)
    with open(truth_dir / "links.csv", "w", encoding="utf-8", newline="") as f:
        f.write("num_immat,idtup\n" + "".join(f"{a},{b}\n" for a, b in links))
    with open(truth_dir / "duplicates.csv", "w", encoding="utf-8", newline="") as f:
        f.write("num_immat_a,num_immat_b,kind\n" + "".join(f"{a},{b},{k}\n" for a, b, k in dups))
    with open(truth_dir / "principal_secondaire.csv", "w", encoding="utf-8", newline="") as f:
        f.write("num_immat_principal,num_immat_secondaire\n" + "".join(f"{a},{b}\n" for a, b in ps))
    with open(truth_dir / "cases.csv", "w", encoding="utf-8", newline="") as f:
        f.write("num_immat,situation,cas_point,cas_reference\n")
        f.writelines(",".join(row) + "\n" for row in render.case_rows(world, view))
    situations = Counter("rnic_unmatched" if not b else "linked" for _, b in links)
    doc = {"millesime": year, "seed": seed, "cadastre": cadastre.name, "commune": insee,
           "nom_commune": com.name, "nom_commune_reel": named,
           "parcelles": len(cad.ids), "registrations": n_rnic,
           "tups_with_registrations": len(real_of_tup), "unmatched": situations["rnic_unmatched"],
           "duplicates": dict(Counter(k for _, _, k in dups)),
           "points": dict(Counter(r.point_case for r in view.present))}
    (truth_dir / "planted.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    from .generator import MARKER
    (land_dir / MARKER).write_text(json.dumps({"seed": seed, "cadastre": cadastre.name}) + "\n")
    (truth_dir / MARKER).write_text("")
    log(f"coproff sample --cadastre {cadastre.name}: {n_rnic} immatriculations on {len(real_of_tup)} of "
        f"{len(cad.ids)} parcels of {insee} -> {land_dir}")
    return doc
