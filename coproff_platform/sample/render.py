"""Render one département's world as the landing files of one millésime, plus its ground truth.

Each writer streams lines to an open text file. Per-millésime randomness (update dates, DPE issued
in a year, DVF sales of a year, vacancy) comes from generators seeded by (seed, département, year),
so a millésime's files do not depend on which other millésimes are generated in the same run, and
a sale or a DPE of year Y appears identically in every millésime that covers Y.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TextIO

from coproff_platform.normalise import luhn_ok

from .formats import (DPE_COLUMNS, DVF_COLUMNS, FF_PARCELLE_COLUMNS, FF_TUP_COLUMNS, LOVAC_COLUMNS,
                      RNIC_COLUMNS, RNIC_DATES, RNIC_LABELS, RNIC_NUMERIC, csv_line, q)
from . import refdata
from .geography import REGIONS, dep3, epci, to_wgs84
from .world import Reg, Tup, World, construction_coherent, gap_class

NC = "non connu"

# Mandate statuses of the registry (`mandats`): current, none, expired without / with a successor.
_MANDATS = sorted(refdata.table("mandats"), key=lambda r: r.ordre)
MANDAT_EN_COURS = next(m.libelle for m in _MANDATS if m.en_cours)
PAS_DE_MANDAT = next(m.libelle for m in _MANDATS if not m.en_cours and not m.expire)
EXPIRE_SANS_SUCCESSEUR, EXPIRE_AVEC_SUCCESSEUR = (m.libelle for m in _MANDATS if m.expire)


def cutoff(year: int) -> date:
    """Millésime N = RNIC export of September N."""
    return date(year, 9, 30)


def ff_copro_visible(t: Tup, year: int) -> bool:
    """The FF of millésime N (MAJIC at 1 January N) show buildings completed before N."""
    return t.holds_ff_copro and t.an_const < year


@dataclass
class YearView:
    """Which registrations exist in a millésime and where the truth puts them."""

    year: int
    present: list[Reg]
    regs_on_tup: Counter = field(default_factory=Counter)

    @classmethod
    def of(cls, world: World, year: int) -> "YearView":
        cut = cutoff(year)
        present = [r for r in world.regs if r.date_immat <= cut]
        view = cls(year, present)
        for r in present:
            if r.tup is not None:
                view.regs_on_tup[r.tup] += 1
        return view


# ---------------------------------------------------------------------------------------------- RNIC
def _variant(name: str, u: float) -> str:
    if u < 0.55:
        return name
    if u < 0.9:
        return name.upper()
    return name.lower() if u < 0.97 else name + " "


def write_rnic(out: TextIO, world: World, view: YearView, seed: int, labels: bool, write_header: bool) -> int:
    """RNIC rows of the millésime (open-data CSV: strings quoted, numbers bare)."""
    dep = world.dep
    if write_header:
        names = [RNIC_LABELS[c] for c in RNIC_COLUMNS] if labels else list(RNIC_COLUMNS)
        out.write(",".join(q(n) for n in names) + "\n")
    year = view.year
    cut = cutoff(year)
    rng = random.Random(f"rnic:{seed}:{dep.code}:{world.final_year}:{year}")
    lons, lats = _wgs84_points(world, view.present)
    region = dep.region
    numeric_idx = [i for i, c in enumerate(RNIC_COLUMNS) if c in RNIC_NUMERIC]
    date_idx = [i for i, c in enumerate(RNIC_COLUMNS) if c in RNIC_DATES]
    by_index = {r.index: r for r in view.present}
    dup_newer: dict[int, Reg] = {}
    for a, b in world.dup_pairs:
        if b in by_index:
            dup_newer[a] = by_index[b]
    n = 0
    for r, lon, lat in zip(view.present, lons, lats):
        # fixed number of draws per registration keeps later rows independent of earlier branches
        u1, u2, u3, u4, u5 = rng.random(), rng.random(), rng.random(), rng.random(), rng.random()
        # earlier millésimes sometimes hold an older declaration of the lots (updated since)
        lots_stat, lots_total = r.lots_stat, r.lots_total
        if year < world.final_year and u5 < 0.04 * (world.final_year - year):
            delta = min(lots_stat, lots_total - r.lots_hbc, 1 + int(u5 * 50) % 5)  # totals stay consistent
            lots_stat, lots_total = lots_stat - delta, lots_total - delta
        com = world.communes[r.commune]
        epci_code, epci_name = epci(dep.code, com.code)
        # syndic and mandate as of September of the millésime
        syndic = world.syndics[r.syndic_b if r.syndic_change and r.syndic_change <= cut else r.syndic_a]
        newer = dup_newer.get(r.index)
        if newer is not None:
            mandat = EXPIRE_AVEC_SUCCESSEUR if r.status_u < 0.6 else EXPIRE_SANS_SUCCESSEUR
            fin = newer.date_immat - timedelta(days=int(30 + 300 * u1))
        elif r.status_u < 0.56 or r.dup_of is not None:
            mandat = MANDAT_EN_COURS
            fin = cut + timedelta(days=int(30 + 1000 * u1))
        elif r.status_u < 0.91:
            mandat = PAS_DE_MANDAT
            fin = cut - timedelta(days=int(100 + 1500 * u1))
        elif r.status_u < 0.99:
            mandat = EXPIRE_SANS_SUCCESSEUR
            fin = cut - timedelta(days=int(30 + 700 * u1))
        else:
            mandat = EXPIRE_AVEC_SUCCESSEUR
            fin = cut - timedelta(days=int(30 + 300 * u1))
        fin_s = fin.isoformat() if u2 > 0.15 or mandat == MANDAT_EN_COURS else ""
        if mandat == PAS_DE_MANDAT:
            type_syndic, ident, raison, siret, ape, com_rep = NC, NC, NC, NC, NC, NC
        elif r.benevole:
            type_syndic = "bénévole"
            ident = raison = "Identité non partagée en Open Data"
            siret, ape, com_rep = NC, NC, com.registry_name.upper()
        else:
            type_syndic = "professionnel"
            raison = syndic[0] + " "
            ident = f"{syndic[0]} {syndic[1]}"
            siret, ape, com_rep = syndic[1], syndic[2], syndic[3]
        # last update: most registrations are touched in the year before the export
        if u3 < 0.8:
            maj = max(r.date_immat, cut - timedelta(days=int(365 * u4)))
        else:
            maj = max(r.date_immat, cut - timedelta(days=int(365 + 900 * u4)))
        # a few postcodes typed with the digits of the département swapped (registry control: soft flag)
        postcode = com.postcode[1] + com.postcode[0] + com.postcode[2:] if r.bad_postcode else com.postcode
        commune_adr = _variant(com.registry_name if com.registry_code != com.code else com.name, r.extra_u)
        if com.registry_code != com.code:
            commune_adr = _variant(com.registry_name.title(), r.extra_u)
        adresse = f"{r.numero_voie} {postcode} {commune_adr.strip()}"
        if r.extra_u < 0.75:
            compl = [NC, NC, NC]
            n_compl = 0 if r.status_u > 0.1 else 1
        else:
            compl = [f"{r.numero_voie} {postcode} {com.name.upper()}", NC, NC]
            if r.extra_u > 0.9:
                compl[1] = f"{r.nom} - {r.numero_voie} {postcode} {com.name.upper()}"
            n_compl = sum(1 for c in compl if c != NC) + (2 if r.extra_u > 0.97 else 0)
        lon_s, lat_s = _coordinates(lon, lat, r.decimals)
        refs: list[str] = []
        for i in range(3):
            if i < len(r.refs):
                idpar = r.refs[i]
                if com.registry_code != com.code and r.extra_u < 0.92:
                    # Paris, Lyon, Marseille: the registry writes the commune and puts the arrondissement in the préfixe
                    code, prefixe = com.registry_code, idpar[2:5]
                else:
                    code, prefixe = idpar[:5], idpar[5:8]
                refs += _reference(code, prefixe, idpar[8:10], idpar[10:14], r.ref_forms[i] if i < len(r.ref_forms) else "normale")
            else:
                refs += ["", NC, NC, NC, NC]
        in_qp = com.weight >= 2 and r.extra_u > 0.85
        qp_num = 1 + int(r.status_u * 3)
        qp15_name = qp24_name = qp15 = qp24 = ""
        if in_qp:
            qp15_name = qp24_name = f"Quartier {world.streets[r.commune][0][2]} {qp_num}"
            qp15 = f"QP{dep3(dep.code)}{(int(com.code[-2:]) * 3 + qp_num) % 1000:03d}"
            qp24 = f"QN{dep3(dep.code)}{(int(com.code[-2:]) + qp_num) % 100:02d}{chr(65 + qp_num)}"
        values = [
            epci_code, com.registry_code, r.num_immat, r.date_immat.isoformat(), maj.isoformat(),
            type_syndic, ident, raison, siret, ape, com_rep, mandat, fin_s, r.nom, adresse, r.numero_voie,
            postcode, commune_adr, compl[0], compl[1], compl[2], str(n_compl), lon_s, lat_s, r.reglement,
            r.residence_service, r.cooperatif, r.principal,
            r.num_principal if r.principal == "non" else (NC if r.extra_u < 0.85 else ""),
            "1" if r.status_u > 0.97 else "0", "0", "0",
            str(lots_total), str(r.lots_hbc), "" if r.lots_hab is None else str(r.lots_hab), str(lots_stat),
            r.p_constr, *refs, str(r.nb_parcelles), qp15_name, qp15, qp24_name, qp24,
            "Non", "Oui" if r.extra_u > 0.995 else "Non", "", "0", "Oui" if r.status_u < 0.03 else "Non",
            com.registry_code, _variant(com.registry_name, r.status_u).strip(), com.code, com.name,
            epci_code, epci_name, dep.code, dep.name, region, REGIONS[region],
        ]
        if labels:
            for i in date_idx:
                v = values[i]
                if len(v) == 10 and v[4] == "-":
                    values[i] = f"{v[8:10]}/{v[5:7]}/{v[0:4]}"
        for i, v in enumerate(values):
            values[i] = q(v)
        for i in numeric_idx:
            values[i] = values[i][1:-1]
        out.write(",".join(values) + "\n")
        n += 1
    return n


def _coordinates(lon: float | None, lat: float | None, decimals: int) -> tuple[str, str]:
    """The registry writes 4–6 decimals with trailing zeros dropped, never 3 or fewer on both axes."""
    if lon is None or lat is None:
        return "", ""
    lon_s = f"{lon:.{decimals}f}".rstrip("0")
    lat_s = f"{lat:.{decimals}f}".rstrip("0")
    if len(lon_s.split(".")[1]) <= 3 and len(lat_s.split(".")[1]) <= 3:
        # both axes round at 3 decimals or fewer (1 in ~10^6): move by 10^-6 degree (< 10 cm)
        lon_s = f"{lon + 10 ** -decimals:.{decimals}f}".rstrip("0")
    return lon_s.rstrip("."), lat_s.rstrip(".")


def _reference(code: str, prefixe: str, section: str, numero: str, form: str) -> list[str]:
    """`reference_cadastrale_N` and its four components, written in one of the real forms."""
    if form == "composantes":  # components only: empty reference, unpadded section and numéro
        return ["", code, prefixe, section.lstrip("0") or section, numero.lstrip("0") or numero]
    if form == "minuscules":
        section = section.lower()
    elif form == "lettre_o" and section.startswith("0"):
        section = "O" + section[1:]
    elif form == "section_alteree":
        section = section[-1] + "-"  # e.g. `L-` for `0L`: no section reads like that
    return [code + prefixe + section + numero, code, prefixe, section, numero]


def _wgs84_points(world: World, regs: list[Reg]) -> tuple[list[float | None], list[float | None]]:
    xs = [r.x for r in regs if r.x is not None]
    ys = [r.y for r in regs if r.x is not None]
    if xs:
        lon, lat = to_wgs84(world.dep.srid).transform(xs, ys)
        lon, lat = list(lon), list(lat)
    else:
        lon, lat = [], []
    out_lon: list[float | None] = []
    out_lat: list[float | None] = []
    k = 0
    for r in regs:
        if r.x is None:
            out_lon.append(None)
            out_lat.append(None)
        else:
            out_lon.append(lon[k])
            out_lat.append(lat[k])
            k += 1
    return out_lon, out_lat


# ---------------------------------------------------------------------------------------------- FF
def _polygon(srid: int, ring: tuple[tuple[float, float], ...]) -> str:
    coords = ",".join(f"{x:.2f} {y:.2f}" for x, y in ring)
    return f'"SRID={srid};MULTIPOLYGON((({coords})))"'


def write_ff_parcelle(out: TextIO, world: World, year: int, write_header: bool) -> int:
    """`pnb10_parcelle` rows: every parcel, with its locals once its building exists."""
    srid = world.dep.srid
    if write_header:
        out.write(",".join(FF_PARCELLE_COLUMNS) + "\n")
    n = 0
    for t in world.tups:
        built = t.an_const < year
        com = world.communes[t.commune]
        ccodep, ccocom = com.code[:2], com.code[2:]
        jann = str(t.jannatmin) if (built and t.jannatmin) else ""
        for pid in t.parcels:
            p = world.parcels[pid]
            area = int(round(p.area))
            if built:
                nlocal, nlogh, ctpdl = p.nlocal, p.nlogh, p.ctpdl
            else:
                nlocal = nlogh = 0
                ctpdl = ""
            out.write(
                f"{p.idpar},{t.idtup},{com.code},{ccodep},{ccocom},000,{p.ccosec},{p.dnupla},{area},"
                f"{jann if (built and nlocal) else ''},{nlocal},{nlogh},{ctpdl},{_polygon(srid, p.ring)}\n")
            n += 1
    return n


def write_ff_tup(out: TextIO, world: World, year: int, write_header: bool) -> int:
    """The derived `TUP` table: one row per TUP (polygon and point in the local projection)."""
    srid = world.dep.srid
    if write_header:
        out.write(",".join(FF_TUP_COLUMNS) + "\n")
    for t in world.tups:
        built = t.an_const < year
        com = world.communes[t.commune]
        ccodep = com.code[:2]
        jann = str(t.jannatmin) if (built and t.jannatmin) else ""
        idpars = [world.parcels[pid].idpar for pid in t.parcels]
        total_area = sum(int(round(world.parcels[i].area)) for i in t.parcels)
        if built:
            ctpdl, nlocal, nlogh, nlc = t.ctpdl, t.nlocal, t.nlogh, t.nloghcopro
        else:
            ctpdl, nlocal, nlogh, nlc = "", 0, 0, 0
        cx, cy = t.point
        out.write(
            f'{t.idtup},{t.typetup},{com.code},{ccodep},"{{{",".join(idpars)}}}",{len(idpars)},{total_area},'
            f"{ctpdl},{nlocal},{nlogh},{nlc},{jann},{_polygon(srid, t.ring)},"
            f"SRID={srid};POINT({cx:.2f} {cy:.2f})\n")
    return len(world.tups)


# ---------------------------------------------------------------------------------------------- DPE
# DPE labels A–G from `etiquettes_dpe` (in order); the sample's weights and consumption ranges per
# label, best label first.
_LABELS = [r.code for r in sorted(refdata.table("etiquettes_dpe"), key=lambda r: r.ordre)]
_LABEL_W = [3, 7, 20, 30, 22, 11, 7]
_CONSO = dict(zip(_LABELS, [(40, 70), (71, 110), (111, 180), (181, 250), (251, 330), (331, 420), (421, 600)]))


def _ademe_period(year: int) -> str:
    for lim, name in ((1947, "avant 1948"), (1974, "1948-1974"), (1977, "1975-1977"), (1982, "1978-1982"),
                      (1988, "1983-1988"), (2000, "1989-2000"), (2005, "2001-2005"), (2012, "2006-2012"),
                      (2021, "2013-2021")):
        if year <= lim:
            return name
    return "après 2021"


def _address(world: World, t: Tup) -> tuple[str, int, tuple[str, str, str]]:
    p = world.parcels[t.parcels[0]]
    return p.idpar, p.numero, world.streets[t.commune][p.street]


# The current DPE schema (dpe03existant) starts on this day; earlier millésimes have no DPE source.
DPE_FIRST_DAY: date = refdata.parameter("dpe_format_actuel_depuis")


def write_dpe(out: TextIO, world: World, view: YearView, seed: int, write_header: bool) -> int:
    """DPE issued from `DPE_FIRST_DAY` to September of the millésime, per building."""
    dep = world.dep
    if write_header:
        out.write("\ufeff" + ",".join(DPE_COLUMNS) + "\n")
    year = view.year
    present = {r.index for r in view.present}
    regs_by_tup: dict[int, list[Reg]] = {}
    for r in world.regs:
        if r.tup is not None:
            regs_by_tup.setdefault(r.tup, []).append(r)
    n = 0
    prefix = dep.code[:2]
    drom_offset = {"971": 0, "972": 1, "973": 2, "974": 3, "976": 4}.get(dep.code)
    first = DPE_FIRST_DAY
    for issue_year in range(first.year, year + 1):
        rng = random.Random(f"dpe:{seed}:{dep.code}:{world.final_year}:{issue_year}")
        start = first if issue_year == first.year else date(issue_year, 1, 1)
        days = (date(issue_year, 12, 31) - start).days
        k = 0
        rows = []
        for ti, t in enumerate(world.tups):
            copro = t.role.startswith(("reg", "ff"))
            if not copro and t.role != "filler_house":
                continue
            size = max(t.nloghcopro, t.nlogh, 1)
            lam = min(2.0, 0.12 + size * 0.01) if copro else 0.03
            u = rng.random()
            count = int(lam) + (1 if u < lam - int(lam) else 0)
            for _ in range(count):
                d = start + timedelta(days=rng.randint(0, days))
                label = rng.choices(_LABELS, _LABEL_W)[0]
                ges = _LABELS[max(0, min(len(_LABELS) - 1, _LABELS.index(label) + rng.choice((-1, 0, 0, 1, -2))))]
                k += 1
                collective, u_num, surf = rng.random() < 0.2, rng.random(), round(rng.uniform(18, 110), 1)
                u1, u2 = rng.random(), rng.random()
                if d > cutoff(year) or t.an_const >= d.year:
                    continue
                serial = k * 5 + drom_offset if drom_offset is not None else k
                numero = f"{issue_year % 100:02d}{prefix}E{serial:07d}{chr(65 + (serial * 7) % 26)}"
                if copro:
                    type_bat = "immeuble" if collective else "appartement"
                    methode = "dpe immeuble collectif" if collective else "dpe appartement individuel"
                else:
                    type_bat, methode = "maison", "dpe maison individuelle"
                regs = [r for r in regs_by_tup.get(ti, ()) if r.index in present and r.date_immat <= d]
                num_immat = regs[0].num_immat if regs and u_num < 0.35 else ""
                rows.append((t, numero, d, label, ges, type_bat, methode, num_immat, surf, u1, u2))
        if not rows:
            continue
        for (t, numero, d, label, ges, type_bat, methode, num_immat, surf, u1, u2) in rows:
            com = world.communes[t.commune]
            idpar, numero_voie, st = _address(world, t)
            rue = f"{st[0]} {st[2]}"
            adresse = f"{numero_voie} {rue} {com.postcode} {com.name}"
            geocoded = u1 > 0.08
            x = (t.x0 + t.x1) / 2 + (u2 - 0.5) * 6
            y = (t.y0 + t.y1) / 2 + (u1 - 0.5) * 6
            conso_lo, conso_hi = _CONSO[label]
            an = t.an_const
            nb_app = str(max(t.nloghcopro, 1)) if type_bat == "immeuble" else "1"
            values = [
                numero, d.isoformat(), d.isoformat(), d.isoformat(), (d + timedelta(days=2)).isoformat(),
                (d + timedelta(days=3652)).isoformat(), "", "", num_immat, "DPE 3CL 2021 méthode logement",
                "2.4" if d.year >= 2024 else "2", methode, label, ges, type_bat,
                str(an) if u1 < 0.7 else "", _ademe_period(an), nb_app,
                str(2 + int(u2 * 6)) if type_bat == "immeuble" else "",
                f"{surf * max(1, t.nloghcopro):.1f}" if type_bat == "immeuble" else "", f"{surf}",
                "H1a" if dep.code in {"75", "93"} else ("H3" if dep.code == "974" else "H2b"),
                adresse if geocoded else "", str(numero_voie) if geocoded else "", rue if geocoded else "",
                com.name if geocoded else "", com.postcode if geocoded else "", com.code if geocoded else "",
                dep.code, dep.region, f"{com.code}_{int(u2 * 9000) + 1000:04d}_{numero_voie:05d}" if geocoded else "",
                f"{x:.2f}" if geocoded else "", f"{y:.2f}" if geocoded else "", f"{0.45 + 0.54 * u2:.2f}" if geocoded else "",
                "adresse géocodée ban à l'adresse" if geocoded else "adresse non géocodée ban car aucune correspondance trouvée",
                f"{numero_voie} {st[1]} {st[2].lower()}", com.name.upper(), com.postcode,
                str(int(u2 * 6)) if type_bat == "appartement" else "",
                f"{(conso_lo + (conso_hi - conso_lo) * u2):.1f}", f"{(conso_lo + (conso_hi - conso_lo) * u1) / 6:.1f}",
            ]
            out.write(csv_line(values))
            n += 1
    return n


# ---------------------------------------------------------------------------------------------- DVF
_PRICE_M2 = {"75": 10_500, "92": 7_000, "93": 4_000, "94": 5_000, "974": 2_600, "06": 5_200, "69": 4_800, "13": 3_800}


def write_dvf(out: TextIO, world: World, view: YearView, seed: int, write_header: bool) -> tuple[int, int]:
    """Apartment sales of the five years before the millésime, Etalab géolocalisées layout.

    Returns (lines, exact duplicate lines). Multi-line mutations repeat `valeur_fonciere`.
    """
    dep = world.dep
    if write_header:
        out.write(",".join(DVF_COLUMNS) + "\n")
    price = _PRICE_M2.get(dep.code, 3_000)
    lines = dups = 0
    for sale_year in range(view.year - 5, view.year):
        rng = random.Random(f"dvf:{seed}:{dep.code}:{world.final_year}:{sale_year}")
        k = 0
        muts = []
        for t in world.tups:
            copro = t.role.startswith(("reg", "ff"))
            if not copro and t.role != "filler_house":
                continue
            size = max(t.nloghcopro, t.nlogh, 1)
            lam = min(3.0, size * 0.025) if copro else 0.04
            u = rng.random()
            count = int(lam) + (1 if u < lam - int(lam) else 0)
            for _ in range(count):
                k += 1
                d = date(sale_year, 1, 2) + timedelta(days=rng.randint(0, 360))
                muts.append((t, k, d, copro, rng.random(), rng.random(), rng.random()))
        if not muts:
            continue
        xs = [(m[0].x0 + m[0].x1) / 2 for m in muts]
        ys = [(m[0].y0 + m[0].y1) / 2 for m in muts]
        lons, lats = to_wgs84(dep.srid).transform(xs, ys)
        for (t, k, d, copro, u1, u2, u3), lon, lat in zip(muts, lons, lats):
            if t.an_const > sale_year:
                continue
            com = world.communes[t.commune]
            idpar, numero_voie, st = _address(world, t)
            surf = int(18 + 90 * u1)
            vefa = t.an_const >= sale_year - 1
            valeur = round(surf * price * (0.7 + 0.6 * u2) / 100) * 100
            mid = f"{sale_year}-{world.dep_index * 1_000_000 + k}"
            base = [mid, d.isoformat(), "000001", "Vente en l'état futur d'achèvement" if vefa else "Vente",
                    str(valeur), str(numero_voie), "", f"{st[0]} {st[2]}".upper(),
                    f"{sum(map(ord, st[2])) % 9000 + 100:04d}",
                    com.postcode, com.code, com.name, dep.code, "", "", idpar, "", ""]
            rows = []
            if copro:
                lot = str(1 + int(u3 * 300))
                carrez = f"{surf - 0.5 + u2:.2f}" if u3 < 0.8 else ""
                rows.append(base + [lot, carrez, "", "", "", "", "", "", "", "", "1", "2", "Appartement", str(surf),
                                    str(max(1, surf // 22)), "", "", "", "", "", f"{lon:.6f}", f"{lat:.6f}"])
                if u3 < 0.4:  # cellar or parking sold with the flat: another line of the same mutation
                    rows.append(base + [str(int(u1 * 500) + 301), "", "", "", "", "", "", "", "", "", "1", "3",
                                        "Dépendance", "", "0", "", "", "", "", "", f"{lon:.6f}", f"{lat:.6f}"])
            else:
                rows.append(base + ["", "", "", "", "", "", "", "", "", "", "0", "1", "Maison", str(surf + 30),
                                    str(max(2, surf // 20)), "S", "sols", "", "",
                                    str(int(t.area)), f"{lon:.6f}", f"{lat:.6f}"])
            for row in rows:
                line = csv_line(row)
                out.write(line)
                lines += 1
                if u2 < 0.06:  # raw files hold exact duplicate lines
                    out.write(line)
                    lines += 1
                    dups += 1
    return lines, dups


# ---------------------------------------------------------------------------------------------- LOVAC
def write_lovac(out: TextIO, world: World, year: int, seed: int, write_header: bool) -> int:
    dep = world.dep
    if write_header:
        out.write("|".join(LOVAC_COLUMNS) + "\n")
    rng = random.Random(f"lovac:{seed}:{dep.code}:{world.final_year}:{year}")
    n = 0
    ccodep = dep.code[:2]
    for ti, t in enumerate(world.tups):
        if t.an_const >= year - 1 or not (t.nlogh >= 2 or t.nloghcopro >= 2):
            continue
        lam = min(40.0, max(t.nloghcopro, t.nlogh) * 0.07)
        u = rng.random()
        count = int(lam) + (1 if u < lam - int(lam) else 0)
        for j in range(count):
            p = world.parcels[t.parcels[0]]
            invar = f"{(ti * 64 + j) % 10**9:09d}{chr(65 + (ti + j) % 26)}"
            debut = year - 1 - min(15, int(rng.expovariate(0.4)))
            x = (p.x0 + p.x1) / 2 + rng.uniform(-3, 3)
            y = (p.y0 + p.y1) / 2 + rng.uniform(-3, 3)
            out.write("|".join([
                f"{ccodep}{invar}", p.idpar, invar, t.ctpdl if t.an_const < year else "", str(debut), "V",
                str(t.jannatmin or ""), str(int(rng.uniform(14, 110))), f"{x:.2f}", f"{y:.2f}", "2",
                str(rng.randint(1, 5)), str(year),
            ]) + "\n")
            n += 1
    return n


# ---------------------------------------------------------------------------------------------- truth
def case_rows(world: World, view: YearView) -> list[tuple[str, str, str, str]]:
    """Planted case of each registration (truth only): situation, point case, first reference case.
    The evaluation groups its misses by these."""
    out = []
    for r in view.present:
        if r.tup is None:
            situation = "rnic_unmatched"
        else:
            situation = "rnic_1_1" if view.regs_on_tup[r.tup] == 1 else "rnic_1_n"
        out.append((r.num_immat, situation, r.point_case or "inconnu", r.ref_kind))
    return out


def truth_rows(world: World, view: YearView) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(links, duplicates, principal/secondary pairs) of the millésime."""
    present = {r.index: r for r in view.present}
    links = [(r.num_immat, world.tups[r.tup].idtup if r.tup is not None else "") for r in view.present]
    dups: list[tuple[str, str, str]] = []
    for a, b in world.dup_pairs:
        if a in present and b in present:
            dups.append((present[a].num_immat, present[b].num_immat, "double_immatriculation"))
    for reg, ti in world.dc_pairs:
        t = world.tups[ti]
        if reg in present and ff_copro_visible(t, view.year) and view.regs_on_tup[ti] == 0:
            dups.append((present[reg].num_immat, f"FF_{t.idtup}", "double_compte_ff"))
    for reg, ti in world.near_pairs:
        t = world.tups[ti]
        if reg in present and ff_copro_visible(t, view.year) and view.regs_on_tup[ti] == 0:
            dups.append((present[reg].num_immat, f"FF_{t.idtup}", "non_apparie_proche_ff"))
    ps = [(present[a].num_immat, present[b].num_immat) for a, b in world.ps_pairs if a in present and b in present]
    return links, dups, ps


def planted_counts(world: World, view: YearView) -> Counter:
    """Counts later tests compare with computed statistics (summed over départements)."""
    c: Counter = Counter()
    year = view.year
    for r in view.present:
        if r.tup is None:
            c["situation:rnic_unmatched"] += 1
            continue
        t = world.tups[r.tup]
        n_on = view.regs_on_tup[r.tup]
        c["situation:rnic_1_1" if n_on == 1 else "situation:rnic_1_n"] += 1
        visible = ff_copro_visible(t, year)
        if not visible:
            c["tup_sans_copro_ff"] += 1
        if n_on == 1 and visible:
            c[f"gap:{gap_class(t.nloghcopro, r.lots_hab)}"] += 1
            ok = construction_coherent(r.p_constr, t.jannatmin)
            if ok is not None:
                c["construction:compared"] += 1
                c["construction:coherent"] += int(ok)
        c[f"refs:{r.ref_kind}"] += 1
        c[f"point:{r.point_case or 'inconnu'}"] += 1
        c[f"refs_listed:{len(r.refs)}"] += 1
        for form in r.ref_forms:
            c[f"ref_form:{form}"] += 1
        if r.bad_postcode:
            c["defect:code_postal_hors_departement"] += 1
        if r.numero_voie.endswith((",", " ")):
            c["defect:adresse_ponctuation_finale"] += 1
        syndic = world.syndics[r.syndic_a]
        if not luhn_ok(syndic[1]):
            c["defect:siret_cle_invalide_possible"] += 1
    for r in view.present:
        if r.tup is None:
            c[f"unmatched_point:{r.point_case}"] += 1
    for ti, t in enumerate(world.tups):
        if ff_copro_visible(t, year) and view.regs_on_tup[ti] == 0:
            c["situation:ff_only"] += 1
        if t.an_const < year and t.ctpdl and t.nloghcopro < 2:
            c["ff_pdl_moins_de_2_logements"] += 1
        c[f"typetup:{t.typetup}"] += 1
    c["parcels"] += len(world.parcels)
    c["tups"] += len(world.tups)
    return c
