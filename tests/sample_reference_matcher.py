"""A plain-Python application of the first matching rules, and an independent plain reading, scored on the sample.

Not the product's matcher (that one is SQL): a small, readable reference the sample tests score
against the ground truth, with shapely for the geometry.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import shapely
from pyproj import Transformer

from coproff_platform import reference

PLM = {"75056": "75", "69123": "69", "13055": "13"}
REFERENCE_MAX_M = reference.parameter("reference_distance_max_m")
GEOLOC_MAX_M = reference.parameter("geoloc_copro_ff_distance_max_m")


def _polygon(ewkt: str):
    head, wkt = ewkt.split(";", 1)
    return int(head[5:]), shapely.from_wkt(wkt)


def normalise_reference(row: dict[str, str], i: int) -> str | None:
    code, pre, sec, num = (row[f"{k}_{i}"] for k in ("code_insee_commune", "prefixe", "section", "numero_parcelle"))
    if "non connu" in (code, pre, sec, num) or not code:
        return None
    sec = sec.upper()
    if len(sec) == 2 and sec[0] == "O":  # the letter O written for the padding zero
        sec = "0" + sec[1]
    if code in PLM and pre != "000":
        code, pre = PLM[code] + pre, "000"
    return f"{code}{pre}{sec.rjust(2, '0')}{num.rjust(4, '0')}"


def match(landing: Path, independent: bool = False) -> dict[str, str]:
    """num_immat -> idtup ('' when no TUP).

    Default: the first matching rules (a reference within `REFERENCE_MAX_M` of the point, the TUP at
    the point, a TUP holding an FF copropriété within `GEOLOC_MAX_M`). `independent=True`: a plain
    reading of the same data that knows nothing of FF copropriétés (a reference within
    `REFERENCE_MAX_M`, else the TUP at the point, else the nearest TUP within 10 m, the farthest a
    real address point lies from its parcel)."""
    keys_of: dict[int, list[str]] = defaultdict(list)
    geoms_of: dict[int, list] = defaultdict(list)
    holds_of: dict[str, bool] = {}
    parcel: dict[str, tuple[str, object]] = {}
    srid_of_dep: dict[str, int] = {}
    for f in sorted((landing / "ff").glob("tup_*.csv")):
        dep = f.stem.split("_", 1)[1]
        for r in csv.DictReader(open(f, encoding="utf-8")):
            srid, geom = _polygon(r["geomtup"])
            srid_of_dep[dep] = srid
            key = f"{srid}:{r['idtup']}"
            holds_of[key] = bool(r["ctpdl"]) and int(r["nloghcopro"] or 0) >= 2
            keys_of[srid].append(key)
            geoms_of[srid].append(geom)
    trees = {srid: shapely.STRtree(g) for srid, g in geoms_of.items()}
    for f in sorted((landing / "ff").glob("pnb10_parcelle_*.csv")):
        for r in csv.DictReader(open(f, encoding="utf-8")):
            srid, geom = _polygon(r["geompar"])
            parcel[r["idpar"]] = (f"{srid}:{r['idtup']}", geom)
    out: dict[str, str] = {}
    transformers: dict[int, Transformer] = {}
    for f in sorted((landing / "rnic").glob("*.csv")):
        dep = f.stem.split("_", 1)[1]
        srid = srid_of_dep[dep]
        tr = transformers.setdefault(srid, Transformer.from_crs(4326, srid, always_xy=True))
        tree, keys, geoms = trees[srid], keys_of[srid], geoms_of[srid]
        for r in csv.DictReader(open(f, encoding="utf-8-sig")):
            num = r["numero_d_immatriculation"]
            pt = None
            if r["long"] and r["lat"]:
                pt = shapely.Point(tr.transform(float(r["long"]), float(r["lat"])))
            # 1. cadastral references, accepted when the point is near the parcel or missing
            chosen = ""
            for i in (1, 2, 3):
                idpar = normalise_reference(r, i)
                if idpar and idpar in parcel:
                    key, geom = parcel[idpar]
                    if pt is None or shapely.distance(pt, geom) <= REFERENCE_MAX_M:
                        chosen = key
                        break
            if not chosen and pt is not None:
                inside = tree.query(pt, predicate="intersects")
                if len(inside):
                    chosen = keys[int(min(inside))]
                else:
                    limit = 10 if independent else GEOLOC_MAX_M
                    near = [int(i) for i in tree.query(pt.buffer(limit))]
                    best = min(((shapely.distance(pt, geoms[i]), keys[i]) for i in near
                                if independent or holds_of[keys[i]]), default=None)
                    if best and best[0] <= limit:
                        chosen = best[1]
            out[num] = chosen.split(":", 1)[1] if chosen else ""
    return out


def score(landing: Path, truth: Path, independent: bool = False) -> tuple[float, float, int]:
    """(precision, recall, registrations) of the reference matcher against links.csv."""
    got = match(landing, independent)
    truth_links = {r["num_immat"]: r["idtup"] for r in csv.DictReader(open(truth / "links.csv", encoding="utf-8"))}
    predicted = [n for n, t in got.items() if t]
    correct_pred = sum(1 for n in predicted if got[n] == truth_links.get(n))
    correct_all = sum(1 for n, t in truth_links.items() if got.get(n, "") == t)
    precision = correct_pred / len(predicted) if predicted else 0.0
    recall = correct_all / len(truth_links) if truth_links else 0.0
    return precision, recall, len(truth_links)
