"""One département's synthetic world: parcels, TUPs, copropriétés and registrations.

The world is built once per département for the last requested millésime and then *viewed* per
millésime (see `render.py`): registrations appear on their registration date, buildings appear in
the Fichiers fonciers the year after completion, syndics change over time. Everything is drawn from
`random.Random` seeded by (seed, département, last millésime, size), so a run is reproducible and a
département does not depend on which other départements are generated.

Layout (local projection, metres): each commune is a rectangle of blocks; a block is two
back-to-back rows of parcels between two streets (the lower row faces the street below, the upper
row the street above), cut by cross streets; each TUP has its own depth behind the street front; a
TUP is one parcel or 2–4 contiguous parcels of one row. The lower-left corner of each commune is an
empty square (a park around the town hall) where a few unmatched registrations sit (a new
development not in the parcels yet, never the commune's centre).

The registry side imitates the real rows measured against a real cadastre (docs/sample.md): the
point is the address point on the street side of the address parcel (30% inside, most 0–3 m
outside, none past 9.2 m), references are listed in the real shares and forms, some are absent
from the parcels (divisions, renumbering) or far (section typos), some points sit on the
neighbouring parcel, and registrations at one address share one coordinate. The matching rules are
*not* consulted: the ground truth is the copropriété's TUP, whatever a rule would find.
"""

from __future__ import annotations

import math
import random
from itertools import accumulate
from dataclasses import dataclass, field
from datetime import date, timedelta

from coproff_platform.normalise import luhn_ok

from . import refdata
from .geography import Commune, Departement, communes, local_extent

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
_GAP_ROWS = [g for g in refdata.gap_classes() if g.part_coproff_2023 is not None]
GAP_CLASSES = [(g.code, g.part_coproff_2023) for g in _GAP_ROWS]
GAP_NOT_FILLED = next(g.code for g in refdata.gap_classes() if g.part_coproff_2023 is None)
_GAP_NAMES = [c for c, _ in GAP_CLASSES]
_GAP_CUM = list(accumulate(w for _, w in GAP_CLASSES))
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

    @property
    def front_y(self) -> float:
        return self.y1 if self.faces_up else self.y0


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
    for g in _GAP_ROWS:
        if g.ecart_exact is not None:
            if gap == g.ecart_exact:
                return g.code
        elif g.part_max is None or gap / rnic < g.part_max:
            return g.code
    return _GAP_ROWS[-1].code


def _gap_share_bounds(code: str) -> tuple[float, float]:
    """Relative gap range [lo, hi) of a proportional class (hi 2.5 for the open last class)."""
    lo = 0.0
    for g in _GAP_ROWS:
        if g.ecart_exact is not None:
            continue
        hi = g.part_max if g.part_max is not None else 2.5
        if g.code == code:
            return lo, hi
        lo = hi
    raise KeyError(code)


def _siret(rng: random.Random, valid: bool = True) -> str:
    base = "".join(str(rng.randrange(10)) for _ in range(13))
    for last in range(10):
        s = base + str(last)
        if luhn_ok(s) == valid:
            return s
    return base + "0"


_STREET_TYPES = [("Rue", "r"), ("Avenue", "av"), ("Boulevard", "bd"), ("Allée", "all"), ("Place", "pl"),
                 ("Route", "rte"), ("Impasse", "imp"), ("Chemin", "che"), ("Rue", "r"), ("Rue", "r")]
_STREET_NAMES = [
    "Victor Hugo", "Jean Jaurès", "de la République", "Gambetta", "Pasteur", "du Général de Gaulle",
    "Émile Zola", "Paul Vaillant-Couturier", "Gabriel Péri", "des Écoles", "de la Gare", "du Moulin",
    "Voltaire", "Jules Ferry", "Anatole France", "Carnot", "de Verdun", "Louis Blanc", "Édouard Vaillant",
    "du Maréchal Foch", "Jean Moulin", "des Lilas", "de Paris", "Saint-Exupéry", "Roger Salengro",
    "de la Liberté", "Henri Barbusse", "Aristide Briand", "Maurice Thorez", "des Tilleuls", "Danton",
    "Lamartine", "Georges Clemenceau", "Marcel Cachin", "de Belfort", "Rouget de Lisle", "Étienne Dolet",
    "du Parc", "de la Paix", "Pierre Brossolette", "Condorcet", "Denfert-Rochereau", "des Peupliers",
    "de Stalingrad", "Jean-Baptiste Clément", "Lénine", "de la Mairie", "des Roses", "Molière", "Racine",
]
_RESIDENCES = [
    "LES TILLEULS", "LE VICTORIA", "LES JARDINS DU PARC", "RESIDENCE DU PARC", "LE REMBRANDT",
    "LES HORTENSIAS", "LES TERRASSES", "LE CLOS FLEURI", "LES PLATANES", "RESIDENCE VERLAINE",
    "LE POINT DU JOUR", "LES EGLANTIERS", "L'ERMITAGE", "LE BELVEDERE", "LES CEDRES", "LE PANORAMA",
    "RESIDENCE LES ACACIAS", "LES MARRONNIERS", "LE CHATEAU", "LES COTEAUX",
]
_SYNDIC_WORDS = ["CABINET", "FONCIA", "NEXITY", "CITYA", "SOCIETE DE GERANCE", "IMMOBILIERE", "GESTION", "SQUARE HABITAT"]
_SYNDIC_NAMES = ["MARTIN", "LOISELET", "RICHELIEU", "DURAND", "DU PARC", "BERNARD", "ATM", "LAMY", "ORALIA", "DAUCHEZ",
                 "SERGIC", "GIBOIRE", "TAGERIM", "LEFEBVRE", "MOREAU", "PETIT", "ROUX", "FOURNIER"]

_DEP_PERIOD_WEIGHTS = {
    "75": [62, 6, 10, 10, 4, 4, 4],
    "93": [22, 12, 26, 16, 6, 8, 10],
    "974": [3, 4, 10, 30, 15, 20, 18],
}
_DEFAULT_PERIOD_WEIGHTS = [20, 10, 24, 20, 8, 10, 8]


def _stochastic_round(rng: random.Random, x: float) -> int:
    base = int(x)
    return base + (1 if rng.random() < x - base else 0)


@dataclass(slots=True)
class RegDraft:
    """A registration before layout: what the plan decides (the layout adds point and references)."""

    id: int
    an_const: int  # true construction year
    lots: int  # dwelling lots declared
    p_constr: str  # declared construction period
    group: str | None = None  # 1-N group kind: dup (re-registration), ps (principal/secondary), multi
    lots_hab_missing: bool = False
    unmatched: bool = False
    dc_partner: "_TupSpec | None" = None  # FF-only neighbour of a planted double count


@dataclass(slots=True)
class _TupSpec:
    role: str
    typetup: str
    widths: list[float]
    ctpdl: str = ""
    nlocal: int = 0
    nlogh: int = 0
    nloghcopro: int = 0
    jannatmin: int | None = None
    an_const: int = 1900
    regs: list["RegDraft"] = field(default_factory=list)  # registration drafts placed on this TUP
    dc_partner: bool = False  # second TUP of a double-count pair (FF-only neighbour)
    near_partner: int | None = None  # unmatched registration draft id for non_apparie_proche_ff
    tup_index: int = -1


class WorldBuilder:
    def __init__(self, dep: Departement, dep_index: int, n_rows: int, seed: int, final_year: int) -> None:
        self.dep = dep
        self.dep_index = dep_index
        self.n_rows = n_rows
        self.final_year = final_year
        self.rng = random.Random(f"coproff-sample:{seed}:{dep.code}:{final_year}:{n_rows}")
        self.communes = communes(dep.code)
        self.reg_serial = 0
        self.draft_serial = 0
        # cumulative weights computed once (same draws as `choices(population, weights)`)
        self.period_cum = list(accumulate(_DEP_PERIOD_WEIGHTS.get(dep.code, _DEFAULT_PERIOD_WEIGHTS)))
        self.commune_cum = list(accumulate(c.weight for c in self.communes))
        dense = dep.dense
        self.width_range = (14.0, 38.0) if dense else (30.0, 70.0)
        self.depth_range = (20.0, 40.0) if dense else (30.0, 65.0)
        self.street_range = (12.0, 16.0) if dense else (14.0, 22.0)
        self.filler_ratio = (0.15 if dep.code == "75" else 0.3) if dense else 0.9
        self.cutoff_final = date(final_year, 9, 30)
        self._numbers_cache: dict[tuple[int, str], set[int]] | None = None
        self._by_number_cache: dict[tuple[int, str], list[Parcel]] | None = None

    # ------------------------------------------------------------------ attributes
    def num_immat(self) -> str:
        k = self.reg_serial
        self.reg_serial += 1
        if k >= 200_000:
            raise ValueError(f"too many registrations in département {self.dep.code} for the numbering scheme")
        g = self.dep_index * 200_000 + k
        m = 8 * 10**7  # letters AA..AH, as in real numbers
        g2 = (g * 48_271 + 12_345_677) % m  # bijective scramble (48271 is coprime with m)
        return f"A{chr(ord('A') + g2 // 10**7)}{g2 % 10**7:07d}"

    def construction_year(self) -> int:
        rng = self.rng
        name, lo, hi = rng.choices(PERIODS, cum_weights=self.period_cum)[0]
        if name == PERIODS[0][0]:
            lo = 1850
        if name == PERIODS[-1][0]:
            hi = self.final_year - 1
        return rng.randint(lo, hi)

    def p_constr(self, year: int) -> str:
        r = self.rng.random()
        if r < 0.06:
            return UNKNOWN_PERIOD
        if r < 0.08:
            return "non renseigné"
        if r < 0.15:  # declared period off by one class
            i = [p[0] for p in PERIODS].index(period_of(year))
            j = min(len(PERIODS) - 1, max(0, i + self.rng.choice((-1, 1))))
            return PERIODS[j][0]
        return period_of(year)

    def jannatmin(self, year: int) -> int:
        """FF year of the oldest local: the construction year, or (planted incoherence) a year outside
        the RNIC period widened by the coherence margin: an older building kept on the parcel, or a later record."""
        rng = self.rng
        if rng.random() < SHARE_CONSTRUCTION_COHERENT:
            return max(1800, year + rng.randint(-2, 1))
        _, lo, hi = next(p for p in PERIODS if p[1] <= year <= p[2]) if year >= 1800 else PERIODS[0]
        if lo > 1800 and rng.random() < 0.6:
            return max(1750, lo - 4 - rng.randint(5, 60))
        return min(self.final_year - 1, max(hi + 4, year) + rng.randint(5, 30)) if hi + 9 < self.final_year else \
            max(1750, lo - 4 - rng.randint(5, 60))

    def lots_hab(self, big: bool = False) -> int:
        mu = math.log(22 if big else 11)
        return max(2, min(900, int(round(math.exp(self.rng.gauss(mu, 0.9))))))

    def ff_dwellings_for_gap(self, lots: int) -> tuple[int, int]:
        """(lots_hab, nloghcopro) drawn so that the pair falls in a planted gap class."""
        rng = self.rng
        cls = rng.choices(_GAP_NAMES, cum_weights=_GAP_CUM)[0]
        for _ in range(50):
            exact = next(g.ecart_exact for g in _GAP_ROWS if g.code == cls)
            if exact == 0:
                return lots, lots
            if exact is not None:
                ff = lots + rng.choice((-exact, exact))
                if ff < 2:
                    ff = lots + exact
                return lots, ff
            lo, hi = _gap_share_bounds(cls)
            need_min = math.ceil(2 / hi) + 1 if hi <= 1 else 2  # gap >= 2 must fit under hi
            if lots < need_min:
                lots = rng.randint(need_min, need_min * 3)
            r = rng.uniform(max(lo, 2 / lots), hi)
            gap = max(2, int(round(r * lots)))
            sign = 1 if hi > 1 else rng.choice((-1, 1))
            ff = lots + sign * gap
            if ff < 2:
                ff = lots + gap
            if gap_class(ff, lots) == cls:
                return lots, ff
        return lots, lots

    def widths(self, n: int, scale: float = 1.0) -> list[float]:
        lo, hi = self.width_range
        return [round(self.rng.uniform(lo, hi) * scale, 1) for _ in range(n)]

    def draft_reg(self, big: bool = False) -> "RegDraft":
        """A registration before layout: construction year, dwelling lots, declared period."""
        year = self.construction_year()
        lots = self.lots_hab(big)
        self.draft_serial += 1
        return RegDraft(self.draft_serial, year, lots, self.p_constr(year))

    # ------------------------------------------------------------------ plan
    def plan(self) -> tuple[list[list[_TupSpec]], list[RegDraft], dict[int, int]]:
        """Units (lists of contiguous TUP specs) per commune and unmatched drafts."""
        rng = self.rng
        n = self.n_rows
        n_unm = _stochastic_round(rng, n * SHARE_UNMATCHED)
        n_near = _stochastic_round(rng, n_unm * SHARE_NEAR_FF_UNMATCHED)
        n_1n_rows = _stochastic_round(rng, n * SHARE_RNIC_1_N)
        n_regs_est = n * (SHARE_RNIC_1_1 + SHARE_RNIC_1_N)
        n_dup = _stochastic_round(rng, n_regs_est * SHARE_DUP_PAIRS)
        n_ps = _stochastic_round(rng, n * SHARE_PRINCIPAL_GROUPS)
        n_1_1 = _stochastic_round(rng, n * SHARE_RNIC_1_1)
        n_matched = n_1_1 + n_1n_rows
        n_sans = _stochastic_round(rng, n_matched * SHARE_SANS_COPRO_FF)
        n_dc = _stochastic_round(rng, n_sans * SHARE_DOUBLE_COMPTE)
        n_ff = _stochastic_round(rng, n * SHARE_FF_ONLY)

        units: list[list[_TupSpec]] = []

        def copro_tup(role: str, lots_ff: int, an_const: int, multi_bias: float = 0.0) -> _TupSpec:
            r = rng.random()
            if r < 0.07 + multi_bias:
                typetup, npar = TUP_PDLMP, rng.randint(2, 4)
            elif r < 0.15 + multi_bias:
                typetup, npar = TUP_UF, rng.randint(2, 4)
            else:
                typetup, npar = TUP_SIMPLE, 1
            spec = _TupSpec(role, typetup, self.widths(npar, 1.15 if lots_ff > 40 else 1.0))
            spec.an_const = an_const
            return spec

        def set_ff_copro(spec: _TupSpec, ff: int, an_const: int) -> None:
            spec.ctpdl = rng.choices(COPRO_PDL, COPRO_PDL_WEIGHTS)[0]
            spec.nloghcopro = ff
            spec.nlogh = ff + (rng.randint(1, 3) if rng.random() < 0.08 else 0)
            spec.nlocal = spec.nlogh + int(ff * rng.uniform(0.3, 1.8)) + rng.randint(0, 4)
            spec.jannatmin = self.jannatmin(an_const)

        def set_ff_no_copro(spec: _TupSpec) -> None:
            r = rng.random()
            if r < 0.5:  # single-owner building FF does not see as divided
                spec.nlogh = rng.randint(2, 40)
                spec.nlocal = spec.nlogh + rng.randint(0, 10)
            elif r < 0.75:  # offices / shops
                spec.nlocal = rng.randint(1, 8)
            spec.jannatmin = self.jannatmin(spec.an_const) if spec.nlocal else None

        # 1-1 registrations, 10% of matched on a TUP where FF shows no copropriété
        sans_left = n_sans
        dc_left = n_dc
        for _ in range(n_1_1):
            d = self.draft_reg()
            if sans_left > 0 and rng.random() < n_sans / max(1, n_1_1):
                sans_left -= 1
                double_count = dc_left > 0
                # some are brand new buildings FF has not seen yet (never a double count: FF shows nothing)
                if not double_count and rng.random() < 0.25:
                    d.an_const = rng.randint(self.final_year - 1, self.final_year)
                    d.p_constr = PERIODS[-1][0]
                spec = copro_tup("reg_sans_copro", d.lots, d.an_const)
                set_ff_no_copro(spec)
                if d.an_const >= self.final_year - 1:
                    spec.nlogh = spec.nlocal = 0
                    spec.jannatmin = None
                if not double_count and rng.random() < 0.1:
                    d.lots_hab_missing = True
                spec.regs.append(d)
                if double_count:
                    dc_left -= 1
                    # the same copropriété appears in FF on the neighbouring TUP: same building, so
                    # similar dwellings and (mostly) a construction year within the declared period
                    partner = copro_tup("ff_double_compte", d.lots, d.an_const)
                    partner.typetup, partner.widths = TUP_SIMPLE, self.widths(1)
                    ff = max(2, d.lots + rng.choice((0, 0, 1, -1)))
                    set_ff_copro(partner, ff, d.an_const)
                    if rng.random() < 0.85:
                        partner.jannatmin = max(1800, d.an_const + rng.randint(-2, 1))
                    partner.dc_partner = True
                    d.dc_partner = partner
                    units.append([spec, partner] if rng.random() < 0.5 else [partner, spec])
                else:
                    units.append([spec])
                continue
            if rng.random() < SHARE_LOTS_HAB_NOT_FILLED:
                d.lots_hab_missing = True
                ff = max(2, int(d.lots * rng.uniform(0.8, 1.2)))
            else:
                d.lots, ff = self.ff_dwellings_for_gap(d.lots)
            spec = copro_tup("reg_1_1", ff, d.an_const)
            set_ff_copro(spec, ff, d.an_const)
            spec.regs.append(d)
            units.append([spec])

        # 1-N TUPs: re-registrations, principal/secondary groups, several copropriétés on one TUP
        rows_left = n_1n_rows
        groups: list[tuple[str, int]] = []
        for _ in range(n_dup):
            groups.append(("dup", 2))
        for _ in range(n_ps):
            groups.append(("ps", 3 if rng.random() < 0.2 else 2))
        rows_left -= sum(s for _, s in groups)
        while rows_left >= 2:
            s = min(rows_left, rng.choice((2, 2, 2, 3, 3, 4)))
            if rows_left - s == 1:
                s += 1
            groups.append(("multi", s))
            rows_left -= s
        for kind, size in groups:
            drafts = [self.draft_reg(big=(kind == "ps")) for _ in range(size)]
            an = drafts[0].an_const
            for d in drafts:
                d.an_const, d.p_constr = an, drafts[0].p_constr if kind != "multi" else d.p_constr
                d.group = kind
            if kind == "dup":
                drafts[1].lots = drafts[0].lots
            spec = copro_tup("reg_1_n", 0, an, multi_bias=0.35 if kind == "multi" else 0.0)
            if kind == "multi" and spec.typetup == TUP_SIMPLE:
                spec.widths = self.widths(1, 1.6)
            total = drafts[0].lots if kind == "dup" else sum(d.lots for d in drafts)
            set_ff_copro(spec, max(2, total + rng.choice((0, 0, 0, 1, -1, 2))), an)
            spec.regs.extend(drafts)
            units.append([spec])

        # FF-only copropriétés (the double-count partners above are FF-only too)
        n_ff_plain = max(0, n_ff - n_dc - n_near)
        for _ in range(n_ff_plain):
            year = min(self.construction_year(), self.final_year - 1)
            spec = copro_tup("ff_only", 0, year)
            set_ff_copro(spec, max(2, int(round(math.exp(rng.gauss(math.log(6), 0.9))))), year)
            units.append([spec])

        # unmatched registrations; some have an FF-only copropriété 100–300 m away
        unmatched: list[RegDraft] = []
        near_specs: dict[int, int] = {}
        for i in range(n_unm):
            d = self.draft_reg()
            d.unmatched = True
            if i < n_near:
                spec = _TupSpec("ff_near_unmatched", TUP_SIMPLE, self.widths(1))
                spec.an_const = min(d.an_const, self.final_year - 1)
                d.an_const = spec.an_const
                set_ff_copro(spec, max(2, d.lots + rng.choice((0, 0, 1, -1))), spec.an_const)
                spec.near_partner = d.id
                near_specs[d.id] = len(units)
                units.append([spec])
            unmatched.append(d)

        # filler TUPs: houses, single-owner buildings, shops, divided properties that are not copropriétés
        for _ in range(int(n * self.filler_ratio)):
            r = rng.random()
            year = self.construction_year()
            if r < 0.55:
                spec = _TupSpec("filler_house", TUP_SIMPLE, self.widths(1, 0.8))
                spec.nlogh, spec.nlocal = 1, rng.randint(1, 3)
            elif r < 0.65:
                spec = _TupSpec("filler_house", TUP_UF, self.widths(2, 0.7))
                spec.nlogh, spec.nlocal = 1, rng.randint(1, 3)
            elif r < 0.8:
                spec = _TupSpec("filler_building", TUP_SIMPLE, self.widths(1))
                spec.nlogh = rng.randint(2, 30)
                spec.nlocal = spec.nlogh + rng.randint(0, 8)
            elif r < 0.9:
                spec = _TupSpec("filler_activity", TUP_SIMPLE, self.widths(1))
                spec.nlocal = rng.randint(1, 6)
            elif r < 0.97:  # divided property with one dwelling: NOT a copropriété
                spec = _TupSpec("filler_pdl_1_logement", TUP_SIMPLE, self.widths(1))
                spec.ctpdl = rng.choice([COPRO_PDL[0], COPRO_PDL[0], COPRO_PDL[-1], PDL_NON_DIVISE])
                spec.nlogh = spec.nloghcopro = 1
                spec.nlocal = rng.randint(2, 6)
            else:
                spec = _TupSpec("filler_vacant", TUP_SIMPLE, self.widths(1))
            spec.an_const = min(year, self.final_year - 1)
            if spec.nlocal:
                spec.jannatmin = self.jannatmin(spec.an_const)
            units.append([spec])
        return units, unmatched, near_specs

    # ------------------------------------------------------------------ layout
    def build(self) -> World:
        rng = self.rng
        units, unmatched, near_specs = self.plan()
        ncom = len(self.communes)
        by_commune: list[list[list[_TupSpec]]] = [[] for _ in range(ncom)]
        near_commune: dict[int, int] = {}
        for unit in units:
            c = rng.choices(range(ncom), cum_weights=self.commune_cum)[0]
            by_commune[c].append(unit)
            if unit[0].near_partner is not None:
                near_commune[unit[0].near_partner] = c  # the unmatched registration goes to the same commune
        unm_commune = [near_commune.get(d.id, rng.choices(range(ncom), cum_weights=self.commune_cum)[0])
                       for d in unmatched]

        world = World(self.dep, self.dep_index, self.final_year, self.communes, [(0.0, 0.0)] * ncom, [0.0] * ncom,
                      [[] for _ in range(ncom)], [], [], [], [], [], [], [], self._syndics())
        # lay each commune out in its own frame, then pack the communes (shelves) in the extent
        extents = []
        for c in range(ncom):
            first_parcel, first_tup = len(world.parcels), len(world.tups)
            n_near = sum(1 for u in by_commune[c] if u[0].near_partner is not None)
            void_h = 240.0 + (n_near + 1) * (self.depth_range[1] + self.street_range[1])
            void_h = max(VOID_W, void_h)
            area = sum(sum(s.widths) for u in by_commune[c] for s in u) * (sum(self.depth_range) / 2) * 1.5
            width = max(VOID_W + 500.0, math.sqrt(area + VOID_W * void_h) * 1.05)
            height = self._layout_commune(world, c, width, void_h, by_commune[c])
            world.void_h[c] = void_h
            extents.append((first_parcel, first_tup, width, max(height, void_h)))
        ex0, ey0, ex1, ey1 = local_extent(self.dep)
        self._place_communes(world, [(e[2], e[3]) for e in extents], (ex0, ey0, ex1, ey1))
        for c in range(ncom):
            ox, oy = world.origins[c]
            p_end = extents[c + 1][0] if c + 1 < ncom else len(world.parcels)
            t_end = extents[c + 1][1] if c + 1 < ncom else len(world.tups)
            for p in world.parcels[extents[c][0]:p_end]:
                p.x0, p.y0, p.x1, p.y1 = round(p.x0 + ox, 2), round(p.y0 + oy, 2), round(p.x1 + ox, 2), round(p.y1 + oy, 2)
            for t in world.tups[extents[c][1]:t_end]:
                t.x0, t.y0, t.x1, t.y1 = round(t.x0 + ox, 2), round(t.y0 + oy, 2), round(t.x1 + ox, 2), round(t.y1 + oy, 2)
        self._registrations(world, units, unmatched, unm_commune, near_specs)
        self._no_accidental_double_counts(world)
        # how far the layout went past the département's box (communes stack upwards)
        ux1 = max((p.x1 for p in world.parcels), default=ex0)
        uy1 = max((p.y1 for p in world.parcels), default=ey0)
        world.overflow_m = max(0.0, ux1 - ex1, uy1 - ey1)
        world.used_extent = (ex0, ey0, max(ux1, ex0), max(uy1, ey0))
        return world

    def _place_communes(self, world: World, sizes: list[tuple[float, float]],
                        box: tuple[float, float, float, float]) -> None:
        """Spread the communes over the département like towns in the countryside: a grid of cells
        with the box's proportions, each commune at a random spot of its own cell. When a commune
        is larger than a cell (dense départements), pack them in shelves of the width that gives
        the packed block the box's proportions, centred in the box (never one long strip)."""
        rng = self.rng
        ex0, ey0, ex1, ey1 = box
        bw, bh = ex1 - ex0, ey1 - ey0
        n = len(sizes)
        cols = max(1, round(math.sqrt(n * bw / bh)))
        rows = math.ceil(n / cols)
        cw, ch = bw / cols, bh / rows
        order = list(range(n))
        rng.shuffle(order)
        if all(w + COMMUNE_GAP <= cw and h + COMMUNE_GAP <= ch for w, h in sizes):
            for cell, c in enumerate(order):
                w, h = sizes[c]
                x = ex0 + (cell % cols) * cw + rng.uniform(0, cw - w - COMMUNE_GAP)
                y = ey0 + (cell // cols) * ch + rng.uniform(0, ch - h - COMMUNE_GAP)
                world.origins[c] = (float(round(x)), float(round(y)))
            return
        area = sum((w + COMMUNE_GAP) * (h + COMMUNE_GAP) for w, h in sizes)
        widest = max(w for w, _ in sizes) + COMMUNE_GAP
        shelf_w = min(bw, max(widest, math.sqrt(area * bw / bh) * 1.15))
        # shelves of communes sorted by decreasing height waste little room
        placed: dict[int, tuple[float, float]] = {}
        x, y, shelf_h = 0.0, 0.0, 0.0
        for c in sorted(range(n), key=lambda c: (-sizes[c][1], c)):
            w, h = sizes[c]
            if x + w > shelf_w and x > 0:
                x, y, shelf_h = 0.0, y + shelf_h + COMMUNE_GAP, 0.0
            placed[c] = (x, y)
            x += w + COMMUNE_GAP
            shelf_h = max(shelf_h, h)
        used_h = y + shelf_h
        ox = ex0 + max(0.0, (bw - shelf_w) / 2)
        oy = ey0 + max(0.0, (bh - used_h) / 2)
        for c, (x, y) in placed.items():
            world.origins[c] = (float(round(ox + x)), float(round(oy + y)))

    def _no_accidental_double_counts(self, world: World) -> None:
        """Keep the truth unambiguous: a registration on a TUP where FF shows no copropriété must
        not touch an FF-only copropriété with about the same dwellings unless that pair is a planted
        double count (the data could not tell the two apart). Such accidental neighbours get other
        dwelling counts."""
        rng = self.rng
        planted = {ti for _, ti in world.dc_pairs}
        lots_on: dict[int, int | None] = {}
        for r in world.regs:
            if r.tup is not None:
                lots_on[r.tup] = r.lots_hab
        tups = world.tups
        for i, t in enumerate(tups):
            if t.role != "reg_sans_copro" or lots_on.get(i) is None:
                continue
            lots = lots_on[i]
            for j in (i - 1, i + 1):
                if not 0 <= j < len(tups):
                    continue
                n = tups[j]
                same_front = world.parcels[n.parcels[0]].front_y == world.parcels[t.parcels[0]].front_y
                touching = n.commune == t.commune and same_front and (n.x1 == t.x0 or n.x0 == t.x1)
                if not touching or j in planted or not n.role.startswith("ff_") or not n.ctpdl:
                    continue
                if abs(n.nloghcopro - lots) <= max(2, 0.25 * lots):
                    new = int(lots * rng.uniform(1.6, 3.0)) + 3
                    delta = new - n.nloghcopro
                    n.nloghcopro, n.nlogh, n.nlocal = new, n.nlogh + delta, n.nlocal + delta
                    p = world.parcels[n.parcels[0]]
                    p.nlogh, p.nlocal = p.nlogh + delta, p.nlocal + delta

    def _new_street(self, world: World, c: int) -> int:
        rng = self.rng
        t = rng.choice(_STREET_TYPES)
        name = rng.choice(_STREET_NAMES)
        world.streets[c].append((t[0], t[1], name))
        return len(world.streets[c]) - 1

    def _layout_commune(self, world: World, c: int, width: float, void_h: float, units: list[list[_TupSpec]]) -> float:
        """Blocks of two back-to-back rows of parcels between streets, cut by cross streets, in the
        commune's own frame; returns the height used. The lower row of a block faces the street
        below it, the upper row the street above; each TUP has its own depth (gardens and courtyards
        of varied sizes behind the street front)."""
        rng = self.rng
        commune = self.communes[c]
        near_queue = [u for u in units if u[0].near_partner is not None]
        queue = [u for u in units if u[0].near_partner is None]
        rng.shuffle(queue)
        # sections: one-letter (padded `0A` in idpar) in most communes of every kind of
        # département; two-letter in Paris, Lyon, Marseille arrondissements and some large communes
        two_letters = commune.code != commune.registry_code or rng.random() < 0.3
        sec_i = rng.randint(0, 20) if two_letters else 0
        sec_count, sec_size, dnupla = 0, rng.randint(60, 180), 0

        one_letter_i = 0

        def next_section() -> str:
            # communes mix one-letter sections (A–Z, written 0A in idpar) and two-letter ones (AA…)
            nonlocal sec_i, one_letter_i
            if not two_letters and one_letter_i < 26 and rng.random() < 0.55:
                one_letter_i += 1
                return "0" + chr(64 + one_letter_i)
            sec_i += 1
            k = 26 + sec_i % 650
            return chr(65 + k // 26) + chr(65 + k % 26)

        section = next_section()
        ccodep, ccocom = commune.code[:2], commune.code[2:]
        s_lo, s_hi = self.street_range
        d_lo, d_hi = self.depth_range
        y = 0.0
        qi = 0
        row = 0
        while qi < len(queue) or near_queue:
            faces_up = row % 2 == 1
            depth = round(rng.uniform(d_lo, d_hi), 1)
            in_void_band = y < void_h
            x = VOID_W + rng.uniform(s_lo, s_hi) if in_void_band else 0.0
            street = self._new_street(world, c)
            numero = rng.choice((1, 2, 3))
            block_target, block_len = rng.uniform(110, 260), 0.0
            first = True
            while True:
                from_queue = False
                if first and near_queue and in_void_band and 120.0 <= y + depth / 2 <= void_h - 120.0:
                    unit = near_queue.pop(0)
                elif qi < len(queue):
                    unit, from_queue = queue[qi], True
                elif near_queue and not in_void_band:
                    unit = near_queue.pop(0)
                    unit[0].near_partner = -1  # no room on the park's edge: an ordinary FF-only copropriété
                else:
                    break
                uw = sum(sum(s.widths) for s in unit)
                if not first and x + uw > width:
                    if not from_queue:
                        near_queue.insert(0, unit)
                    break
                if from_queue:
                    qi += 1
                first = False
                for spec in unit:
                    px0 = x
                    pids = []
                    # each TUP its own depth, aligned on the street front of its row
                    d_t = round(depth * rng.uniform(0.6, 1.0), 1)
                    ty0 = y + depth - d_t if faces_up else y
                    for w in spec.widths:
                        sec_count += 1
                        if sec_count > sec_size:
                            section, sec_count, dnupla = next_section(), 1, 0
                            sec_size = rng.randint(60, 180)
                        dnupla += 1 if rng.random() < 0.85 else rng.randint(2, 4)
                        idpar = f"{ccodep}{ccocom}000{section}{dnupla:04d}"
                        pids.append(len(world.parcels))
                        world.parcels.append(Parcel(idpar, len(world.tups), c, section, f"{dnupla:04d}",
                                                    x, ty0, x + w, ty0 + d_t, street, numero, faces_up=faces_up))
                        numero += rng.choice((2, 2, 2, 4, 6))
                        x += w
                    self._make_tup(world, spec, c, pids, px0, ty0, x, d_t)
                block_len += uw
                if block_len >= block_target:
                    x += rng.uniform(s_lo, s_hi)
                    block_len, block_target = 0.0, rng.uniform(110, 260)
                    numero += rng.choice((2, 4))
            # the upper row of a block backs onto the lower one; a street follows it
            y += depth + (rng.uniform(s_lo, s_hi) if faces_up else rng.uniform(0.0, 1.5))
            row += 1
        return y

    def _make_tup(self, world: World, spec: _TupSpec, c: int, pids: list[int], x0: float, y0: float, x1: float,
                  depth: float) -> None:
        rng = self.rng
        first = world.parcels[pids[0]].idpar
        idtup = first if spec.typetup == TUP_SIMPLE else spec.typetup.lower() + first
        t = Tup(idtup, spec.typetup, c, pids, x0, y0, x1, y0 + depth, spec.role, spec.ctpdl, spec.nlocal, spec.nlogh, spec.nloghcopro,
                spec.jannatmin, spec.an_const)
        spec.tup_index = len(world.tups)
        world.tups.append(t)
        # spread locals over the parcels: most on the first one; PDLMP parcels all carry the ctpdl
        n = len(pids)
        rest_lo, rest_lg = spec.nlocal, spec.nlogh
        for k, pid in enumerate(pids):
            p = world.parcels[pid]
            p.tup = spec.tup_index
            if k == n - 1:
                p.nlocal, p.nlogh = rest_lo, rest_lg
            else:
                share = 0.7 if k == 0 else rng.uniform(0.1, 0.4)
                p.nlocal, p.nlogh = int(rest_lo * share), int(rest_lg * share)
                rest_lo -= p.nlocal
                rest_lg -= p.nlogh
            if spec.ctpdl and (spec.typetup == TUP_PDLMP or k == 0):
                p.ctpdl = spec.ctpdl

    def _syndics(self) -> list[tuple[str, str, str, str]]:
        rng = self.rng
        out = []
        names = self.communes
        for i in range(max(5, self.n_rows // 40)):
            name = f"{rng.choice(_SYNDIC_WORDS)} {rng.choice(_SYNDIC_NAMES)}"
            if rng.random() < 0.3:
                name += rng.choice((" SARL", " SAS", " ET ASSOCIES", " IMMOBILIER"))
            siret = _siret(rng, valid=rng.random() > 0.01)
            ape = rng.choices(["6832A", "6831Z", "6820B", "6910Z"], [80, 15, 3, 2])[0]
            out.append((name, siret, ape, rng.choice(names).registry_name.upper()))
        return out

    # ------------------------------------------------------------------ registrations
    def _registrations(self, world: World, units: list[list[_TupSpec]], unmatched: list[RegDraft],
                       unm_commune: list[int], near_specs: dict[int, int]) -> None:
        rng = self.rng
        draft_to_reg: dict[int, int] = {}
        # registrations on TUPs, in layout order (deterministic)
        specs = sorted((s for u in units for s in u if s.regs), key=lambda s: s.tup_index)
        for spec in specs:
            tup = world.tups[spec.tup_index]
            group_regs: list[int] = []
            kind = spec.regs[0].group
            point_of_parcel: dict[int, Reg] = {}
            for k, d in enumerate(spec.regs):
                # a re-registration or a secondary syndicate has the address of the first one
                pid = tup.parcels[0] if kind in ("dup", "ps") else tup.parcels[k % len(tup.parcels)]
                reg = self._reg(world, d, tup, pid, k, spec)
                first = point_of_parcel.setdefault(pid, reg)
                if first is not reg and first.x is not None and reg.x is not None:
                    # registrations at one address share one coordinate (the address point)
                    reg.x, reg.y, reg.decimals, reg.on_parcel = first.x, first.y, first.decimals, first.on_parcel
                    reg.point_case = first.point_case
                draft_to_reg[d.id] = reg.index
                group_regs.append(reg.index)
                if d.dc_partner is not None:
                    world.dc_pairs.append((reg.index, d.dc_partner.tup_index))
            if kind == "dup":
                a, b = world.regs[group_regs[0]], world.regs[group_regs[1]]
                self._make_duplicate(world, a, b)
            elif kind == "ps":
                p = world.regs[group_regs[0]]
                for s_idx in group_regs[1:]:
                    s = world.regs[s_idx]
                    s.principal, s.num_principal = "non", p.num_immat
                    world.ps_pairs.append((p.index, s.index))
        # unmatched registrations: in the commune's empty square, or without a point
        for d, c in zip(unmatched, unm_commune):
            reg = self._reg(world, d, None, None, 0, None, commune=c)
            cx, cy = world.commune_centre(c)
            spec_i = near_specs.get(d.id)
            partner_spec = units[spec_i][0] if spec_i is not None else None
            if partner_spec is not None and partner_spec.near_partner == d.id:
                t = world.tups[partner_spec.tup_index]
                reg.x = t.x0 - rng.uniform(130, 160)
                reg.y = (t.y0 + t.y1) / 2
                reg.point_case = "parc_proche_copro_ff"
                world.near_pairs.append((reg.index, partner_spec.tup_index))
                reg.lots_hab = t.nloghcopro + rng.choice((0, 0, 1, -1))
                reg.lots_hab = max(2, reg.lots_hab)
                reg.lots_hbc = max(reg.lots_hbc, reg.lots_hab)
                reg.lots_total = max(reg.lots_total, reg.lots_hbc)
            elif rng.random() < 0.5:
                reg.x = reg.y = None
                reg.point_case = "sans_point"
            else:
                # an address of a new development not in the parcels yet: in the park, never at its centre
                a = rng.uniform(0, 2 * math.pi)
                r = rng.uniform(30, 110)
                reg.x, reg.y = cx + r * math.cos(a), cy + r * math.sin(a)
                reg.point_case = "hors_parcelles"
            if rng.random() < 0.25:
                # a reference to a parcel that does not exist in the parcels
                com = self.communes[c]
                reg.refs = [f"{com.code[:2]}{com.code[2:]}000ZZ{rng.randint(9000, 9999):04d}"]
                reg.ref_kind = "absente"
                reg.ref_forms = [self._ref_form()]
                reg.nb_parcelles = 1
        world.regs.sort(key=lambda r: r.index)

    def _reg(self, world: World, d: RegDraft, tup: Tup | None, pid: int | None, k: int, spec: _TupSpec | None,
             commune: int | None = None) -> Reg:
        rng = self.rng
        c = tup.commune if tup is not None else commune
        assert c is not None
        an = d.an_const
        lots = d.lots
        lots_hbc = lots + (rng.randint(1, 4) if rng.random() < 0.3 else 0)
        lots_total = lots_hbc + (int(lots * rng.uniform(0.3, 1.5)) if rng.random() < 0.8 else 0)
        lots_stat = int(lots * rng.uniform(0.2, 1.3)) if rng.random() < 0.6 else 0
        lots_total = max(lots_total, lots_hbc + lots_stat if rng.random() < 0.7 else lots_total)
        # registration date: the legal waves of `echeances_immatriculation` (bigger copropriétés
        # first), late registrations until the export, notary registrations of new buildings
        opening = REGISTRY_OPENING
        if an >= opening.year:
            start = date(max(an, opening.year + 1), 1, 1)
            di = start + timedelta(days=rng.randint(0, 420))
        else:
            deadline = next(d for lo, hi, d in REGISTRATION_DEADLINES if lots >= lo and (hi is None or lots <= hi))
            late_end = max(self.cutoff_final, deadline + timedelta(days=1))
            if rng.random() < 0.72:
                span = (opening, deadline)
            else:
                span = (deadline + timedelta(days=1), late_end)
            di = span[0] + timedelta(days=rng.randint(0, (span[1] - span[0]).days))
        # registrations dated after the export are not in this millésime: keep them, compressed
        # into the months the registry was open (an early millésime holds fewer of each wave)
        if di > self.cutoff_final:
            di = opening + timedelta(days=rng.randint(0, (self.cutoff_final - opening).days))
        di = min(di, self.cutoff_final - timedelta(days=rng.randint(0, 30)))
        parcel = world.parcels[pid] if pid is not None else None
        streets = world.streets[c]
        if parcel is not None and tup is not None and d.group == "multi" and k >= len(tup.parcels):
            # several copropriétés on one parcel: the others open on another street (corner buildings)
            st = streets[(parcel.street + 1 + k // len(tup.parcels)) % len(streets)]
            numero = 1 + (parcel.numero * 7 + k) % 150
        elif parcel is not None:
            st = streets[parcel.street]
            numero = parcel.numero
        else:
            if not streets:
                world.streets[c].append(("Rue", "r", rng.choice(_STREET_NAMES)))
            st = rng.choice(world.streets[c])
            numero = rng.randint(1, 150)
        style = rng.randint(0, 3)
        if style == 0:
            voie = f"{numero} {st[0]} {st[2]}"
        elif style == 1:
            voie = f"{numero} {st[1]} {st[2].lower()}"
        elif style == 2:
            voie = f"{numero} {st[0].upper()} {st[2].upper()}"
        else:
            voie = f"{numero}-{numero + 2} {st[1]} {st[2].lower()}"
        if rng.random() < 0.02:
            voie += rng.choice((",", " ", " ,"))  # as typed in the registry
        r = rng.random()
        if r < 0.45:
            nom = f"SDC {numero} {st[0].upper()} {st[2].upper()}"
        elif r < 0.75:
            nom = rng.choice(_RESIDENCES)
        elif r < 0.9:
            nom = f"{numero} {st[1]} {st[2].lower()}"
        else:
            nom = "non connu"
        reg = Reg(
            index=len(world.regs), num_immat=self.num_immat(), commune=c, tup=spec.tup_index if spec is not None else None, parcel=pid, x=None, y=None, refs=[], ref_kind="aucune",
            nb_parcelles=0, date_immat=di, an_const=an, p_constr=d.p_constr,
            lots_hab=None if d.lots_hab_missing else lots, lots_total=lots_total, lots_hbc=lots_hbc,
            lots_stat=lots_stat, nom=nom, numero_voie=voie, address_style=style,
        )
        reg.syndic_a = rng.randrange(len(world.syndics))
        reg.syndic_b = rng.randrange(len(world.syndics))
        if rng.random() < 0.35:
            first = date(REGISTRY_OPENING.year + 1, 1, 1)
            reg.syndic_change = first + timedelta(days=rng.randint(0, max(0, (self.cutoff_final - first).days)))
        reg.benevole = rng.random() < 0.08
        reg.status_u, reg.extra_u = rng.random(), rng.random()
        reg.bad_postcode = rng.random() < 0.003
        reg.residence_service = "oui" if rng.random() < 0.012 else "non"
        reg.cooperatif = rng.choices(["non", "non connu", "oui"], [75, 21, 4])[0]
        reg.reglement = (date(min(an + rng.randint(0, 2), self.final_year - 1), 1, 1)
                         + timedelta(days=rng.randint(0, 364))).isoformat() if rng.random() < 0.97 else ""
        world.regs.append(reg)
        if tup is None:
            return reg
        self._place(world, reg, tup, parcel, spec)
        return reg

    def _ref_form(self) -> str:
        """How a listed reference is written (measured on real registry rows): the normal
        14-character form, components only (empty reference, unpadded section and numéro), lower
        case, the letter O for the padding zero, or a garbled section."""
        u = self.rng.random()
        if u < 0.021:
            return "composantes"
        if u < 0.035:
            return "minuscules"
        if u < 0.046:
            return "lettre_o"
        if u < 0.05:
            return "section_alteree"
        return "normale"

    def _place(self, world: World, reg: Reg, tup: Tup, parcel: Parcel | None, spec: _TupSpec | None) -> None:
        """References and point of a registration whose copropriété sits on `tup` (truth).

        References: none 37%, one 48%, two 6%, three 8%: the address parcel first, then the other
        parcels of the TUP, then neighbours of the row. A listed reference is absent from the
        parcels in 12.5% of cases (a number from before or after a division, in the same
        section), far (>= 100 m) in 3% (a section typo whose number exists in another section, or a
        number typo), and for 4.5% of registrations the address point sits on the neighbouring
        parcel while the reference names the right one.
        Point: the address point, on the street side of the address parcel: 30% inside (0.3–5 m
        behind the front), 43% 0–1 m outside, 22% 1–3 m, 5% 3–9.2 m, never past mid-street.
        """
        rng = self.rng
        assert parcel is not None
        u = rng.random()
        nref = 0 if u < 0.37 else 1 if u < 0.85 else 2 if u < 0.91 else 3
        pid = reg.parcel
        assert pid is not None
        listed = [pid] + [i for i in tup.parcels if i != pid]
        k = 1
        while len(listed) < nref and k <= 4:
            for j in (pid + k, pid - k):  # neighbours in the row (same commune and front)
                if 0 <= j < len(world.parcels) and len(listed) < nref and j not in listed:
                    n = world.parcels[j]
                    if n.commune == parcel.commune and n.faces_up == parcel.faces_up:
                        listed.append(j)
            k += 1
        refs, forms, kinds = [], [], []
        for target_i in listed[:nref]:
            target = world.parcels[target_i]
            v = rng.random()
            if v < 0.125:
                refs.append(self._renumbered(world, target))
                kinds.append("absente")
            elif v < 0.155:
                far = self._section_typo(world, target) or self._far_parcel(world, target_i)
                if far is None:
                    refs.append(target.idpar)
                    kinds.append("propre")
                else:
                    refs.append(far)
                    kinds.append("lointaine")
            else:
                refs.append(target.idpar)
                kinds.append("propre")
            forms.append(self._ref_form())
        reg.refs, reg.ref_forms = refs, forms
        reg.ref_kind = kinds[0] if kinds else "aucune"
        if nref == 0:
            reg.nb_parcelles = 0 if rng.random() < 0.9 else 1
        elif nref < 3:
            reg.nb_parcelles = nref if rng.random() < 0.85 else rng.choice((0, nref + 1))
        else:
            reg.nb_parcelles = 3 if rng.random() < 0.4 else rng.randint(4, 10)
        # the address point
        host = parcel
        if kinds and kinds[0] == "propre" and rng.random() < 0.045:
            neighbours = [world.parcels[j] for j in (pid - 1, pid + 1)
                          if 0 <= j < len(world.parcels)]
            neighbours = [n for n in neighbours if n.commune == parcel.commune and n.faces_up == parcel.faces_up
                          and n.tup != parcel.tup and abs(n.front_y - parcel.front_y) < 0.01
                          and min(abs(n.x0 - parcel.x1), abs(parcel.x0 - n.x1)) < 0.01]
            if neighbours:
                host = rng.choice(neighbours)
                reg.point_case = "sur_parcelle_voisine"
        if nref and rng.random() < 0.006:
            reg.x = reg.y = None  # missing point: the references alone
            reg.point_case = "sans_point"
            return
        w = host.x1 - host.x0
        margin = min(2.0, w / 4)
        x = rng.triangular(host.x0 + margin, host.x1 - margin)
        v = rng.random()
        if v < 0.30:
            d = -rng.uniform(0.3, min(5.0, (host.y1 - host.y0) * 0.4))
            case = "dans_parcelle"
        elif v < 0.73:
            d, case = rng.uniform(0.05, 1.0), "facade_0_1m"
        elif v < 0.95:
            d, case = rng.uniform(1.0, 3.0), "facade_1_3m"
        else:
            d, case = rng.uniform(3.0, min(9.2, self.street_range[0] / 2 - 0.2)), "facade_3_10m"
        reg.x = x
        reg.y = host.front_y + (d if host.faces_up else -d)
        reg.on_parcel = host is parcel
        if not reg.point_case:
            reg.point_case = case
        # the registry keeps 6 decimals (5 for some geocoders); dropped trailing zeros make 4–5
        reg.decimals = 6 if rng.random() < 0.9 else 5

    def _renumbered(self, world: World, parcel: Parcel) -> str:
        """A number of the same section that is not in the parcels: the mother parcel before a
        division, or a child parcel created after the parcels' date."""
        existing = self._numbers_by_section(world)
        key = (parcel.commune, parcel.ccosec)
        numbers = existing[key]
        n = int(parcel.dnupla)
        for cand in (n + 1, n - 1, n + 2, n - 2, max(numbers) + 1 + self.rng.randint(0, 5)):
            if 0 < cand <= 9999 and cand not in numbers:
                return f"{parcel.idpar[:10]}{cand:04d}"
        return f"{parcel.idpar[:10]}{max(numbers) + 1:04d}"

    def _section_typo(self, world: World, parcel: Parcel) -> str | None:
        """The same number in another section of the commune, at least 100 m away (one letter typed wrong)."""
        by_number = self._parcels_by_number(world)
        for other in by_number.get((parcel.commune, parcel.dnupla), ()):
            if other is parcel or other.ccosec == parcel.ccosec:
                continue
            dx = max(other.x0 - parcel.x1, parcel.x0 - other.x1, 0.0)
            dy = max(other.y0 - parcel.y1, parcel.y0 - other.y1, 0.0)
            if math.hypot(dx, dy) >= 100:
                return other.idpar
        return None

    def _numbers_by_section(self, world: World) -> dict[tuple[int, str], set[int]]:
        if self._numbers_cache is None:
            cache: dict[tuple[int, str], set[int]] = {}
            for p in world.parcels:
                cache.setdefault((p.commune, p.ccosec), set()).add(int(p.dnupla))
            self._numbers_cache = cache
        return self._numbers_cache

    def _parcels_by_number(self, world: World) -> dict[tuple[int, str], list[Parcel]]:
        if self._by_number_cache is None:
            cache: dict[tuple[int, str], list[Parcel]] = {}
            for p in world.parcels:
                cache.setdefault((p.commune, p.dnupla), []).append(p)
            self._by_number_cache = cache
        return self._by_number_cache

    def _far_parcel(self, world: World, pid: int) -> str | None:
        """A parcel of the same section at least 100 m away (a typo in the parcel number)."""
        rng = self.rng
        parcel = world.parcels[pid]
        n = len(world.parcels)
        for _ in range(15):
            cand = world.parcels[min(n - 1, max(0, pid + rng.randint(-250, 250)))]
            if cand.commune != parcel.commune or cand.ccosec != parcel.ccosec or cand.tup == parcel.tup:
                continue
            dx = max(cand.x0 - parcel.x1, parcel.x0 - cand.x1, 0.0)
            dy = max(cand.y0 - parcel.y1, parcel.y0 - cand.y1, 0.0)
            if math.hypot(dx, dy) >= 100:
                return cand.idpar
        return None

    def _make_duplicate(self, world: World, a: Reg, b: Reg) -> None:
        """b re-registers a's copropriété after a change of syndic: same parcel and address."""
        rng = self.rng
        if b.date_immat <= a.date_immat:
            a.date_immat, b.date_immat = b.date_immat, a.date_immat
        if (b.date_immat - a.date_immat).days < 200:
            b.date_immat = min(self.cutoff_final, a.date_immat + timedelta(days=rng.randint(200, 900)))
        if b.date_immat <= a.date_immat:
            a.date_immat = b.date_immat - timedelta(days=rng.randint(200, 600))
        b.dup_of = a.index
        a.dup_date = b.date_immat
        st = world.streets[a.commune][world.parcels[a.parcel].street] if a.parcel is not None else None
        b.numero_voie = a.numero_voie
        if st is not None and rng.random() < 0.5:
            numero = world.parcels[a.parcel].numero
            b.numero_voie = f"{numero} {st[0]} {st[2]}" if a.address_style != 0 else f"{numero} {st[1]} {st[2].lower()}"
        b.nom = a.nom if rng.random() < 0.6 else b.nom
        b.lots_hab, b.lots_total, b.lots_hbc, b.lots_stat = a.lots_hab, a.lots_total, a.lots_hbc, a.lots_stat
        b.p_constr, b.reglement = a.p_constr, a.reglement
        b.syndic_a = b.syndic_b = (a.syndic_a + 1 + rng.randrange(len(world.syndics) - 1)) % len(world.syndics)
        b.syndic_change = None
        a.syndic_change = None
        a.benevole = False
        world.dup_pairs.append((a.index, b.index))
