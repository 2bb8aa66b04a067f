"""The synthetic world's data model: parcels, TUPs, registrations, the world, and the shares and
code lists drawn from the reference layer.

`plan.py` decides what to generate (frozen drafts), `layout.py` lays parcels and TUPs out along
streets, `placement.py` places the registrations (address point, references) and `duplicates.py`
plants re-registrations; `world.py` runs them in that order with one random stream.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate

from coproff_platform.normalise import luhn_ok

from . import refdata
from .geography import Commune, Departement

# CoproFF 2023 shares of the referential, from the `situations` reference table.
_SITUATIONS = refdata.situation_counts()
_TOTAL_2023 = sum(_SITUATIONS.values())
SHARE_RNIC_1_1 = _SITUATIONS["rnic_1_1"] / _TOTAL_2023
SHARE_RNIC_1_N = _SITUATIONS["rnic_1_n"] / _TOTAL_2023
SHARE_UNMATCHED = _SITUATIONS["rnic_unmatched"] / _TOTAL_2023
SHARE_FF_ONLY = _SITUATIONS["ff_only"] / _TOTAL_2023
SHARE_SANS_COPRO_FF = 0.10  # of matched registrations
SHARE_DOUBLE_COMPTE = 0.20  # of the above, an FF copropriété sits on the neighbouring TUP
SHARE_DUP_PAIRS = 0.015  # re-registrations, of registrations
SHARE_PRINCIPAL_GROUPS = 0.004  # principal + secondary groups, of rows
SHARE_NEAR_FF_UNMATCHED = 0.4  # of unmatched registrations, an FF-only copropriété 100–300 m away

# Gap classes between FF dwellings and RNIC dwelling lots and their CoproFF 2023 shares
# (`classes_ecart_logements`); the class without a share is "not filled".
GAP_ROWS = [g for g in refdata.gap_classes() if g.part_coproff_2023 is not None]
GAP_CLASSES = [(g.code, g.part_coproff_2023) for g in GAP_ROWS]
GAP_NOT_FILLED = next(g.code for g in refdata.gap_classes() if g.part_coproff_2023 is None)
GAP_NAMES = [c for c, _ in GAP_CLASSES]
GAP_CUM = list(accumulate(w for _, w in GAP_CLASSES))
SHARE_LOTS_HAB_NOT_FILLED = 0.025
SHARE_CONSTRUCTION_COHERENT = 0.74  # FF year vs RNIC period widened (CoproFF 2023: ~70% coherent)
COHERENCE_MARGIN = int(refdata.parameter("coherence_construction_marge_ans"))

# Construction periods (`periodes_construction`); open ends closed at plausible years for drawing.
OLDEST_YEAR, NEWEST_YEAR = 1800, 2100
PERIODS = [(code, lo if lo is not None else OLDEST_YEAR, hi if hi is not None else NEWEST_YEAR)
           for code, lo, hi in refdata.periods()]
UNKNOWN_PERIOD = refdata.table("valeurs_periode_inconnue")[0].valeur
# TUP types in `types_tup` order: a parcel alone, contiguous parcels of one owner, the parcels of a
# multi-parcel divided property; their idtup carries the lower-case type as prefix (not SIMPLE).
TUP_SIMPLE, TUP_UF, TUP_PDLMP = (r.code for r in refdata.table("types_tup"))
# Divided properties that are copropriétés (`types_pdl` rows named so), in file order, with the
# sample's weights (lots, lots and volumes, volumes); a building not divided, for fillers.
COPRO_PDL = [r.code for r in refdata.table("types_pdl") if r.libelle.startswith("Copropriété")]
COPRO_PDL_WEIGHTS = [88, 5, 7]
PDL_NON_DIVISE = next(r.code for r in refdata.table("types_pdl") if r.libelle.startswith("Bâti non divisé"))
REGISTRY_OPENING: date = refdata.parameter("ouverture_registre")
REGISTRATION_DEADLINES = refdata.registration_deadlines()


def first_millesime() -> int:
    """The first millésime with registrations: an export of September after the registry opened."""
    return REGISTRY_OPENING.year if REGISTRY_OPENING <= date(REGISTRY_OPENING.year, 9, 30) else REGISTRY_OPENING.year + 1


VOID_W = 400.0  # width of the empty square at each commune's lower-left corner (m)
COMMUNE_GAP = 80.0  # between communes (m); the empty squares keep unmatched points > 100 m from parcels


@dataclass(slots=True)
class Parcel:
    idpar: str
    tup: int  # index in World.tups
    commune: int
    ccosec: str
    dnupla: str
    x0: float
    y0: float
    x1: float
    y1: float
    street: int  # index in the commune's street list
    numero: int  # house number on that street
    nlocal: int = 0
    nlogh: int = 0
    ctpdl: str = ""
    faces_up: bool = False  # street side: y1 (the row faces the street above) or y0 (below)
    # the polygon (closed ring); until the final rotation x0/x1 are the street front's ends and
    # y0/y1 the front and the back, afterwards the ring's bounding box
    ring: tuple[tuple[float, float], ...] = ()

    @property
    def front_y(self) -> float:
        return self.y1 if self.faces_up else self.y0

    @property
    def area(self) -> float:
        return ring_area(self.ring)


@dataclass(slots=True)
class Tup:
    idtup: str
    typetup: str
    commune: int
    parcels: list[int]
    x0: float
    y0: float
    x1: float
    y1: float
    role: str
    ctpdl: str = ""
    nlocal: int = 0
    nlogh: int = 0
    nloghcopro: int = 0
    jannatmin: int | None = None
    an_const: int = 1900  # true construction year; FF shows the building from an_const + 1
    ring: tuple[tuple[float, float], ...] = ()  # the union of its parcels (closed ring)
    point: tuple[float, float] = (0.0, 0.0)  # a point inside, on the TUP's middle line

    @property
    def area(self) -> float:
        return ring_area(self.ring)

    @property
    def holds_ff_copro(self) -> bool:
        return bool(self.ctpdl) and self.nloghcopro >= 2


@dataclass(slots=True)
class Reg:
    """A registration (RNIC row) with its world-level attributes."""

    index: int
    num_immat: str
    commune: int
    tup: int | None  # truth; None = no TUP
    parcel: int | None  # the parcel whose address/building it carries
    x: float | None
    y: float | None
    refs: list[str]  # idpar (FF form) listed, possibly bogus
    ref_kind: str  # first reference: aucune, propre, absente, lointaine
    nb_parcelles: int
    date_immat: date
    an_const: int
    p_constr: str
    lots_hab: int | None
    lots_total: int
    lots_hbc: int
    lots_stat: int
    nom: str
    numero_voie: str
    address_style: int
    principal: str = "oui"
    num_principal: str = ""
    dup_of: int | None = None  # index of the older registration this one duplicates
    dup_date: date | None = None  # for an older registration: when the new one appeared
    syndic_a: int = 0
    syndic_b: int = 0
    syndic_change: date | None = None
    benevole: bool = False
    ref_forms: list[str] = field(default_factory=list)  # how each listed reference is written
    decimals: int = 6  # coordinates written with this many decimals (trailing zeros dropped)
    on_parcel: bool = True  # the point is at its own address parcel (not a neighbour's)
    point_case: str = ""  # planted case of the point (truth only: cases.csv)
    residence_service: str = "non"
    cooperatif: str = "non"
    reglement: str = ""
    status_u: float = 0.0  # stable draw for the mandate status and other per-registration choices
    bad_postcode: bool = False  # planted registry-control failure (postcode of another département)
    extra_u: float = 0.0


@dataclass
class World:
    dep: Departement
    dep_index: int
    final_year: int
    communes: tuple[Commune, ...]
    origins: list[tuple[float, float]]  # lower-left corner of each commune (local projection)
    void_h: list[float]
    streets: list[list[tuple[str, str, str]]]  # per commune: (type long, type short, name)
    parcels: list[Parcel]
    tups: list[Tup]
    regs: list[Reg]
    dup_pairs: list[tuple[int, int]]  # (older reg, newer reg)
    dc_pairs: list[tuple[int, int]]  # (reg, FF-only tup)
    near_pairs: list[tuple[int, int]]  # (unmatched reg, FF-only tup)
    ps_pairs: list[tuple[int, int]]  # (principal reg, secondary reg)
    syndics: list[tuple[str, str, str, str]]  # raison sociale, siret, code APE, commune
    overflow_m: float = 0.0  # layout beyond the département's box (0 when it fits)
    used_extent: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def commune_centre(self, c: int) -> tuple[float, float]:
        ox, oy = self.origins[c]
        return ox + VOID_W / 2, oy + self.void_h[c] / 2


def ring_area(ring: tuple[tuple[float, float], ...]) -> float:
    """Area of a closed ring (shoelace)."""
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:]))) / 2


def period_of(year: int) -> str:
    for name, lo, hi in PERIODS:
        if lo <= year <= hi:
            return name
    return UNKNOWN_PERIOD


def period_bounds(name: str) -> tuple[int, int] | None:
    for pname, lo, hi in PERIODS:
        if pname == name:
            return lo, hi
    return None


def construction_coherent(p_constr: str, jannatmin: int | None) -> bool | None:
    """FF year within the RNIC period widened by `COHERENCE_MARGIN` years; None when not comparable."""
    bounds = period_bounds(p_constr)
    if bounds is None or not jannatmin:
        return None
    return bounds[0] - COHERENCE_MARGIN <= jannatmin <= bounds[1] + COHERENCE_MARGIN


def gap_class(ff: int, rnic: int | None) -> str:
    """Gap class between FF dwellings and RNIC dwelling lots, relative to the RNIC count
    (`classes_ecart_logements`: an exact gap, else the first class whose `part_max` exceeds it)."""
    if rnic is None or rnic <= 0:
        return GAP_NOT_FILLED
    gap = abs(ff - rnic)
    for g in GAP_ROWS:
        if g.ecart_exact is not None:
            if gap == g.ecart_exact:
                return g.code
        elif g.part_max is None or gap / rnic < g.part_max:
            return g.code
    return GAP_ROWS[-1].code


def gap_share_bounds(code: str) -> tuple[float, float]:
    """Relative gap range [lo, hi) of a proportional class (hi 2.5 for the open last class)."""
    lo = 0.0
    for g in GAP_ROWS:
        if g.ecart_exact is not None:
            continue
        hi = g.part_max if g.part_max is not None else 2.5
        if g.code == code:
            return lo, hi
        lo = hi
    raise KeyError(code)


def siret(rng: random.Random, valid: bool = True) -> str:
    base = "".join(str(rng.randrange(10)) for _ in range(13))
    for last in range(10):
        s = base + str(last)
        if luhn_ok(s) == valid:
            return s
    return base + "0"


def stochastic_round(rng: random.Random, x: float) -> int:
    base = int(x)
    return base + (1 if rng.random() < x - base else 0)



@dataclass(frozen=True, slots=True)
class Settings:
    """What every stage of one département's build reads: the département, its size and the
    dimension ranges of its kind (dense or not)."""

    dep: Departement
    dep_index: int
    n_rows: int
    final_year: int
    communes: tuple[Commune, ...]
    width_range: tuple[float, float]  # street frontage of a parcel (m)
    depth_range: tuple[float, float]  # depth of a row of parcels behind the street (m)
    street_range: tuple[float, float]  # street width (m)
    filler_ratio: float  # TUPs without copropriété, per referential row
    cutoff_final: date  # the last export date

    @classmethod
    def of(cls, dep: Departement, dep_index: int, n_rows: int, final_year: int,
           communes: tuple[Commune, ...]) -> "Settings":
        dense = dep.dense
        return cls(dep, dep_index, n_rows, final_year, communes,
                   (14.0, 38.0) if dense else (30.0, 70.0),
                   (20.0, 40.0) if dense else (30.0, 65.0),
                   (12.0, 16.0) if dense else (14.0, 22.0),
                   (0.15 if dep.code == "75" else 0.3) if dense else 0.9,
                   date(final_year, 9, 30))
