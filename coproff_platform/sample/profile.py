"""`coproff sample --profile`: how the registry rows of a landing millésime sit on its parcels.

Measured on the landing files (`rnic/` and the FF parcels of `ff/`, else the Etalab parcels of
`cadastre/`), never on the generator's
drafts, with the definitions used for the real rows of one suburban commune (docs/sample.md):
- points: share inside a parcel, 0–1 m, 1–3 m, 3–10 m, > 10 m from the nearest parcel;
- references per registration (0–3 listed), forms of the listed ones (one-letter section padded
  `0L` — of the references outside Paris, Lyon and Marseille, whose cadastre has two-letter
  sections only —, components only, lower case, letter `O` for the padding zero, garbled section);
- absent: a listed reference that is not a parcel after normalisation; far: an existing one whose
  parcel lies 100 m or more from the point;
- 1-N: registrations whose nearest parcel is also the nearest parcel of another registration;
- decimals: points written with 3 decimals or fewer on both axes.
The real measures and the tolerance the default sample must stay within are `profil_reel.csv`.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

from coproff_platform import normalise

TARGETS_CSV = Path(__file__).with_name("profil_reel.csv")
_PLM = {"75056": "75", "69123": "69", "13055": "13"}
_SECTION_OK = re.compile(r"^[0A-Z][A-Z]$")


@dataclass(frozen=True)
class Target:
    mesure: str
    valeur: float
    tolerance: float
    description: str


def targets() -> dict[str, Target]:
    with open(TARGETS_CSV, encoding="utf-8", newline="") as f:
        return {r["mesure"]: Target(r["mesure"], float(r["valeur"]), float(r["tolerance"]), r["description"])
                for r in csv.DictReader(f)}


def _decimals(v: str) -> int:
    return len(v.split(".", 1)[1]) if "." in v else 0


def _reference_form(ref: str, section: str) -> str | None:
    """Form of one listed reference; None when nothing is listed."""
    ref, section = ref.strip(), section.strip()
    if not ref:
        return "composantes" if section and section.lower() != "non connu" else None
    sec = ref[8:10] if len(ref) == 14 else ""
    if sec != sec.upper():
        return "minuscules"
    if sec.startswith("O") and sec[1:].isalpha():
        return "lettre_o"
    if not _SECTION_OK.match(sec):
        return "section_alteree"
    return "section_une_lettre" if sec.startswith("0") else "section_deux_lettres"


def _normalised(ref: str, code: str, prefixe: str, section: str, numero: str) -> str | None:
    """The FF idpar a reference names, read as a careful analyst would (case, O for 0, components)."""
    ref = ref.strip().upper()
    if len(ref) == 14 and ref[8] == "O":
        ref = ref[:8] + "0" + ref[9:]
    try:
        value = normalise.idpar_ref_or_parts(ref or None, code, prefixe, section.upper(), numero)
    except normalise.Invalid:
        return None
    if value and value[:5] in _PLM and value[5:8] != "000":
        value = _PLM[value[:5]] + value[5:8] + "000" + value[8:]
    return value


def _departement_of_parcel(row: dict[str, str]) -> str:
    return normalise.departement_of_insee(row["idcom"] or row["idpar"][:5])


def _parcels(files: list[Path], departement: str) -> tuple[int, list[str], list]:
    """One département's FF parcels: (SRID, idpar list, geometries)."""
    ids: list[str] = []
    wkts: list[str] = []
    srid = 0
    for f in files:
        with open(f, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                if _departement_of_parcel(r) != departement:
                    continue
                head, wkt = r["geompar"].split(";", 1)
                srid = int(head[5:])
                ids.append(r["idpar"])
                wkts.append(wkt)
    return srid, ids, list(shapely.from_wkt(wkts))


_REF_FIELDS = ("reference_cadastrale_{i}", "code_insee_commune_{i}", "prefixe_{i}", "section_{i}", "numero_parcelle_{i}")


def _registrations(landing: Path, departements: frozenset[str] | None) -> dict[str, list[tuple]]:
    """Per département, the fields the profile needs: (long, lat, 3 x 5 reference fields, whether
    the commune is Paris, Lyon or Marseille)."""
    out: dict[str, list[tuple]] = {}
    for f in sorted((landing / "rnic").glob("*.csv")):
        with open(f, encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                dep = r["code_officiel_departement"].strip()
                if departements is not None and dep not in departements:
                    continue
                refs = tuple(r[k.format(i=i)] for i in (1, 2, 3) for k in _REF_FIELDS)
                plm = r["commune"].strip() in _PLM
                out.setdefault(dep, []).append((r["long"].strip(), r["lat"].strip(), refs, plm))
    return out


def _count_departement(c: Counter, regs: list[tuple], srid: int, ids: list[str], geoms: list) -> None:
    """Adds one département's counts (points, references, sharing) to `c`."""
    where = {idpar: i for i, idpar in enumerate(ids)}
    local: dict[int, object] = {}
    nearest: dict[int, int] = {}
    ks, lons, lats = [], [], []
    for k, (lon, lat, _, _) in enumerate(regs):
        if not lon or not lat:
            continue
        c["points"] += 1
        if max(_decimals(lon), _decimals(lat)) <= 3:
            c["decimales_3_ou_moins"] += 1
        ks.append(k)
        lons.append(float(lon))
        lats.append(float(lat))
    if ks and geoms:
        xs, ys = Transformer.from_crs(4326, srid, always_xy=True).transform(lons, lats)
        pts = shapely.points(np.column_stack([xs, ys]))
        idx, dist = shapely.STRtree(geoms).query_nearest(pts, return_distance=True, all_matches=False)
        for (pi, gi), d in zip(idx.T, dist):
            k = ks[pi]
            local[k], nearest[k] = pts[pi], int(gi)
            band = ("dans_parcelle" if d == 0 else "0_1m" if d <= 1 else "1_3m" if d <= 3
                    else "3_10m" if d <= 10 else "plus_10m")
            c[f"points_{band}"] += 1
    shared = Counter(nearest.values())
    c["partage_1_n"] += sum(1 for gi in nearest.values() if shared[gi] > 1)
    for k, (_, _, refs, plm) in enumerate(regs):
        listed = 0
        for i in range(3):
            ref, code, pre, sec, num = refs[5 * i: 5 * i + 5]
            form = _reference_form(ref, sec)
            if form is None:
                continue
            listed += 1
            c["references_listees"] += 1
            c[f"forme_{form}"] += 1
            if not plm:  # Paris, Lyon and Marseille have two-letter sections only
                c["references_hors_plm"] += 1
                c[f"hors_plm_forme_{form}"] += 1
            idpar = _normalised(ref, code, pre, sec, num)
            if idpar is None or idpar not in where:
                c["references_absentes"] += 1
                continue
            c["references_existantes"] += 1
            if k in local and shapely.distance(local[k], geoms[where[idpar]]) >= 100:
                c["references_lointaines"] += 1
        c[f"references_{min(listed, 3)}"] += 1


def _cadastre_parcels(files: list[Path], departement: str) -> tuple[int, list[str], list]:
    """One département's parcels of Etalab cadastre files (open-cadastre landing), projected."""
    import gzip
    import json

    from coproff_platform import reference

    srid = reference.local_srid(departement)
    tr = Transformer.from_crs(4326, srid, always_xy=True)
    ids: list[str] = []
    geoms: list = []
    for f in files:
        with (gzip.open if f.suffix == ".gz" else open)(f, "rt", encoding="utf-8") as fh:
            features = [x for x in json.load(fh)["features"]
                        if normalise.departement_of_insee(x["properties"]["commune"]) == departement]
        ids += [x["properties"]["id"] for x in features]
        g = shapely.from_geojson([json.dumps(x["geometry"]) for x in features])
        geoms += list(shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))))
    return srid, ids, geoms


def measure(landing: Path, departements: frozenset[str] | None = None) -> dict[str, float | int]:
    """The profile measures of one landing millésime (`<landing>/<millesime>`), optionally of some
    départements only (the real measures are those of one suburban commune). One département's
    parcels are in memory at a time; a reference to another département's parcel counts absent."""
    regs_by_dep = _registrations(landing, departements)
    files_of: dict[str, list[Path]] = {}
    for f in sorted((landing / "ff").glob("pnb10_parcelle*.csv")):
        with open(f, encoding="utf-8", newline="") as fh:
            for dep in {_departement_of_parcel(r) for r in csv.DictReader(fh)}:
                files_of.setdefault(dep, []).append(f)
    c: Counter = Counter()
    n_regs = 0
    for dep in sorted(regs_by_dep):
        regs = regs_by_dep[dep]
        n_regs += len(regs)
        if files_of or not (landing / "cadastre").is_dir():
            srid, ids, geoms = _parcels(files_of.get(dep, []), dep)
        else:  # no FF: the Etalab cadastre files
            srid, ids, geoms = _cadastre_parcels(sorted((landing / "cadastre").glob("*.json*")), dep)
        _count_departement(c, regs, srid, ids, geoms)
    pts, refs = c["points"] or 1, c["references_listees"] or 1
    out: dict[str, float | int] = {"immatriculations": n_regs, "points": c["points"], "references_listees": c["references_listees"]}
    for band in ("points_dans_parcelle", "points_0_1m", "points_1_3m", "points_3_10m", "points_plus_10m",
                 "partage_1_n", "decimales_3_ou_moins"):
        out[band] = round(c[band] / pts, 4)
    for n in range(4):
        out[f"references_{n}"] = round(c[f"references_{n}"] / (n_regs or 1), 4)
    for form in ("composantes", "minuscules", "lettre_o", "section_alteree"):
        out[f"forme_{form}"] = round(c[f"forme_{form}"] / refs, 4)
    out["forme_section_une_lettre"] = round(c["hors_plm_forme_section_une_lettre"] / (c["references_hors_plm"] or 1), 4)
    out["references_absentes"] = round(c["references_absentes"] / refs, 4)
    out["references_lointaines"] = round(c["references_lointaines"] / (c["references_existantes"] or 1), 4)
    return out


def lines(measures: dict[str, float | int]) -> list[str]:
    """One line per measure with the real value and whether the sample is within tolerance."""
    t = targets()
    out = [f"{measures['immatriculations']} immatriculations, {measures['points']} points, "
           f"{measures['references_listees']} références listées"]
    for name, target in t.items():
        v = measures[name]
        ok = abs(v - target.valeur) <= target.tolerance
        out.append(f"  {name:<26} {v:>7.4f}  réel {target.valeur:.3f} ± {target.tolerance:.3f}  "
                   f"{'ok' if ok else 'HORS TOLÉRANCE'}  ({target.description})")
    return out


def out_of_tolerance(measures: dict[str, float | int]) -> list[str]:
    return [n for n, t in targets().items() if abs(measures[n] - t.valeur) > t.tolerance]
