"""What to generate in one département: frozen drafts of TUPs and registrations, before any layout.

The plan draws the referential's situations in their CoproFF 2023 shares (1-1, 1-N, unmatched,
FF-only), the planted cases (no FF copropriété, double counts, re-registrations, principal and
secondary syndicates, unmatched next to an FF copropriété) and the filler TUPs. A unit is a tuple
of TUP drafts laid out side by side (a double-count pair); layout and placement never change a
draft, they only read it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from itertools import accumulate
from typing import Mapping

from .model import (
    COPRO_PDL, COPRO_PDL_WEIGHTS, GAP_CUM, GAP_NAMES, GAP_ROWS, PDL_NON_DIVISE, PERIODS, SHARE_CONSTRUCTION_COHERENT,
    SHARE_DOUBLE_COMPTE, SHARE_DUP_PAIRS, SHARE_FF_ONLY, SHARE_LOTS_HAB_NOT_FILLED, SHARE_NEAR_FF_UNMATCHED,
    SHARE_PRINCIPAL_GROUPS, SHARE_RNIC_1_1, SHARE_RNIC_1_N, SHARE_SANS_COPRO_FF, SHARE_UNMATCHED, TUP_PDLMP,
    TUP_SIMPLE, TUP_UF, UNKNOWN_PERIOD, Settings, gap_class, gap_share_bounds, period_of, stochastic_round,
)

_DEP_PERIOD_WEIGHTS = {
    "75": [62, 6, 10, 10, 4, 4, 4],
    "93": [22, 12, 26, 16, 6, 8, 10],
    "974": [3, 4, 10, 30, 15, 20, 18],
}
_DEFAULT_PERIOD_WEIGHTS = [20, 10, 24, 20, 8, 10, 8]


@dataclass(frozen=True, slots=True)
class RegDraft:
    """A registration before layout: what the plan decides (placement adds point and references)."""

    id: int
    an_const: int  # true construction year
    lots: int  # dwelling lots declared
    p_constr: str  # declared construction period
    group: str | None = None  # 1-N group kind: dup (re-registration), ps (principal/secondary), multi
    lots_hab_missing: bool = False
    unmatched: bool = False
    dc_partner: int | None = None  # key of the FF-only neighbour TUP draft of a planted double count


@dataclass(frozen=True, slots=True)
class TupDraft:
    """A TUP before layout: its role, type, parcel frontages and FF attributes."""

    key: int  # unique in the plan; layout maps it to the TUP's index
    role: str
    typetup: str
    widths: tuple[float, ...]  # street frontage of each parcel, in row order
    ctpdl: str = ""
    nlocal: int = 0
    nlogh: int = 0
    nloghcopro: int = 0
    jannatmin: int | None = None
    an_const: int = 1900
    regs: tuple[RegDraft, ...] = ()  # registration drafts placed on this TUP
    dc_partner: bool = False  # second TUP of a double-count pair (FF-only neighbour)
    near_partner: int | None = None  # unmatched registration draft id for non_apparie_proche_ff


Unit = tuple[TupDraft, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    units: tuple[Unit, ...]
    unmatched: tuple[RegDraft, ...]
    near_specs: Mapping[int, int]  # unmatched draft id -> index of its FF-only neighbour's unit


class Planner:
    """Draws the plan and the per-copropriété attributes (years, lots, FF dwellings)."""

    def __init__(self, rng: random.Random, settings: Settings) -> None:
        self.rng = rng
        self.s = settings
        self.final_year = settings.final_year
        self.draft_serial = 0
        self.key_serial = 0
        # cumulative weights computed once (same draws as `choices(population, weights)`)
        self.period_cum = list(accumulate(_DEP_PERIOD_WEIGHTS.get(settings.dep.code, _DEFAULT_PERIOD_WEIGHTS)))

    # ------------------------------------------------------------------ attributes
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
        cls = rng.choices(GAP_NAMES, cum_weights=GAP_CUM)[0]
        for _ in range(50):
            exact = next(g.ecart_exact for g in GAP_ROWS if g.code == cls)
            if exact == 0:
                return lots, lots
            if exact is not None:
                ff = lots + rng.choice((-exact, exact))
                if ff < 2:
                    ff = lots + exact
                return lots, ff
            lo, hi = gap_share_bounds(cls)
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

    def widths(self, n: int, scale: float = 1.0) -> tuple[float, ...]:
        """Street frontages: log-normal around the middle of the département's range (many plots
        of about the usual size, a few very wide ones), kept between 0.75 × and 1.6 × its ends."""
        lo, hi = self.s.width_range
        mu = math.log((lo + hi) / 2)
        return tuple(round(min(1.6 * hi, max(0.75 * lo, math.exp(self.rng.gauss(mu, 0.32)))) * scale, 1)
                     for _ in range(n))

    def draft_reg(self, big: bool = False) -> RegDraft:
        """A registration before layout: construction year, dwelling lots, declared period."""
        year = self.construction_year()
        lots = self.lots_hab(big)
        self.draft_serial += 1
        return RegDraft(self.draft_serial, year, lots, self.p_constr(year))

    def tup_draft(self, role: str, typetup: str, widths: tuple[float, ...], **kw) -> TupDraft:
        self.key_serial += 1
        return TupDraft(self.key_serial, role, typetup, widths, **kw)

    # ------------------------------------------------------------------ plan
    def plan(self) -> Plan:
        """Units (tuples of contiguous TUP drafts) and unmatched drafts."""
        rng = self.rng
        n = self.s.n_rows
        n_unm = stochastic_round(rng, n * SHARE_UNMATCHED)
        n_near = stochastic_round(rng, n_unm * SHARE_NEAR_FF_UNMATCHED)
        n_1n_rows = stochastic_round(rng, n * SHARE_RNIC_1_N)
        n_regs_est = n * (SHARE_RNIC_1_1 + SHARE_RNIC_1_N)
        n_dup = stochastic_round(rng, n_regs_est * SHARE_DUP_PAIRS)
        n_ps = stochastic_round(rng, n * SHARE_PRINCIPAL_GROUPS)
        n_1_1 = stochastic_round(rng, n * SHARE_RNIC_1_1)
        n_matched = n_1_1 + n_1n_rows
        n_sans = stochastic_round(rng, n_matched * SHARE_SANS_COPRO_FF)
        n_dc = stochastic_round(rng, n_sans * SHARE_DOUBLE_COMPTE)
        n_ff = stochastic_round(rng, n * SHARE_FF_ONLY)

        units: list[Unit] = []

        def copro_tup(role: str, lots_ff: int, an_const: int, multi_bias: float = 0.0) -> TupDraft:
            r = rng.random()
            if r < 0.07 + multi_bias:
                typetup, npar = TUP_PDLMP, rng.randint(2, 4)
            elif r < 0.15 + multi_bias:
                typetup, npar = TUP_UF, rng.randint(2, 4)
            else:
                typetup, npar = TUP_SIMPLE, 1
            return self.tup_draft(role, typetup, self.widths(npar, 1.15 if lots_ff > 40 else 1.0), an_const=an_const)

        def with_ff_copro(spec: TupDraft, ff: int, an_const: int) -> TupDraft:
            ctpdl = rng.choices(COPRO_PDL, COPRO_PDL_WEIGHTS)[0]
            nlogh = ff + (rng.randint(1, 3) if rng.random() < 0.08 else 0)
            nlocal = nlogh + int(ff * rng.uniform(0.3, 1.8)) + rng.randint(0, 4)
            return replace(spec, ctpdl=ctpdl, nloghcopro=ff, nlogh=nlogh, nlocal=nlocal,
                           jannatmin=self.jannatmin(an_const))

        def with_ff_no_copro(spec: TupDraft) -> TupDraft:
            r = rng.random()
            nlogh, nlocal = spec.nlogh, spec.nlocal
            if r < 0.5:  # single-owner building FF does not see as divided
                nlogh = rng.randint(2, 40)
                nlocal = nlogh + rng.randint(0, 10)
            elif r < 0.75:  # offices / shops
                nlocal = rng.randint(1, 8)
            return replace(spec, nlogh=nlogh, nlocal=nlocal,
                           jannatmin=self.jannatmin(spec.an_const) if nlocal else None)

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
                    d = replace(d, an_const=rng.randint(self.final_year - 1, self.final_year), p_constr=PERIODS[-1][0])
                spec = with_ff_no_copro(copro_tup("reg_sans_copro", d.lots, d.an_const))
                if d.an_const >= self.final_year - 1:
                    spec = replace(spec, nlogh=0, nlocal=0, jannatmin=None)
                if not double_count and rng.random() < 0.1:
                    d = replace(d, lots_hab_missing=True)
                if double_count:
                    dc_left -= 1
                    # the same copropriété appears in FF on the neighbouring TUP: same building, so
                    # similar dwellings and (mostly) a construction year within the declared period
                    partner = copro_tup("ff_double_compte", d.lots, d.an_const)
                    partner = replace(partner, typetup=TUP_SIMPLE, widths=self.widths(1))
                    ff = max(2, d.lots + rng.choice((0, 0, 1, -1)))
                    partner = with_ff_copro(partner, ff, d.an_const)
                    if rng.random() < 0.85:
                        partner = replace(partner, jannatmin=max(1800, d.an_const + rng.randint(-2, 1)))
                    partner = replace(partner, dc_partner=True)
                    spec = replace(spec, regs=(replace(d, dc_partner=partner.key),))
                    units.append((spec, partner) if rng.random() < 0.5 else (partner, spec))
                else:
                    units.append((replace(spec, regs=(d,)),))
                continue
            if rng.random() < SHARE_LOTS_HAB_NOT_FILLED:
                d = replace(d, lots_hab_missing=True)
                ff = max(2, int(d.lots * rng.uniform(0.8, 1.2)))
            else:
                lots, ff = self.ff_dwellings_for_gap(d.lots)
                d = replace(d, lots=lots)
            spec = with_ff_copro(copro_tup("reg_1_1", ff, d.an_const), ff, d.an_const)
            units.append((replace(spec, regs=(d,)),))

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
            an, p0 = drafts[0].an_const, drafts[0].p_constr
            drafts = [replace(d, an_const=an, p_constr=p0 if kind != "multi" else d.p_constr, group=kind)
                      for d in drafts]
            if kind == "dup":
                drafts[1] = replace(drafts[1], lots=drafts[0].lots)
            spec = copro_tup("reg_1_n", 0, an, multi_bias=0.35 if kind == "multi" else 0.0)
            if kind == "multi" and spec.typetup == TUP_SIMPLE:
                spec = replace(spec, widths=self.widths(1, 1.6))
            total = drafts[0].lots if kind == "dup" else sum(d.lots for d in drafts)
            spec = with_ff_copro(spec, max(2, total + rng.choice((0, 0, 0, 1, -1, 2))), an)
            units.append((replace(spec, regs=tuple(drafts)),))

        # FF-only copropriétés (the double-count partners above are FF-only too)
        n_ff_plain = max(0, n_ff - n_dc - n_near)
        for _ in range(n_ff_plain):
            year = min(self.construction_year(), self.final_year - 1)
            spec = copro_tup("ff_only", 0, year)
            units.append((with_ff_copro(spec, max(2, int(round(math.exp(rng.gauss(math.log(6), 0.9))))), year),))

        # unmatched registrations; some have an FF-only copropriété 100–300 m away
        unmatched: list[RegDraft] = []
        near_specs: dict[int, int] = {}
        for i in range(n_unm):
            d = replace(self.draft_reg(), unmatched=True)
            if i < n_near:
                an = min(d.an_const, self.final_year - 1)
                spec = self.tup_draft("ff_near_unmatched", TUP_SIMPLE, self.widths(1), an_const=an)
                d = replace(d, an_const=an)
                spec = with_ff_copro(spec, max(2, d.lots + rng.choice((0, 0, 1, -1))), an)
                near_specs[d.id] = len(units)
                units.append((replace(spec, near_partner=d.id),))
            unmatched.append(d)

        # filler TUPs: houses, single-owner buildings, shops, divided properties that are not copropriétés
        for _ in range(int(n * self.s.filler_ratio)):
            r = rng.random()
            year = self.construction_year()
            ctpdl, nlogh, nlocal, nloghcopro = "", 0, 0, 0
            if r < 0.55:
                role, typetup, widths = "filler_house", TUP_SIMPLE, self.widths(1, 0.8)
                nlogh, nlocal = 1, rng.randint(1, 3)
            elif r < 0.65:
                role, typetup, widths = "filler_house", TUP_UF, self.widths(2, 0.7)
                nlogh, nlocal = 1, rng.randint(1, 3)
            elif r < 0.8:
                role, typetup, widths = "filler_building", TUP_SIMPLE, self.widths(1)
                nlogh = rng.randint(2, 30)
                nlocal = nlogh + rng.randint(0, 8)
            elif r < 0.9:
                role, typetup, widths = "filler_activity", TUP_SIMPLE, self.widths(1)
                nlocal = rng.randint(1, 6)
            elif r < 0.97:  # divided property with one dwelling: NOT a copropriété
                role, typetup, widths = "filler_pdl_1_logement", TUP_SIMPLE, self.widths(1)
                ctpdl = rng.choice([COPRO_PDL[0], COPRO_PDL[0], COPRO_PDL[-1], PDL_NON_DIVISE])
                nlogh = nloghcopro = 1
                nlocal = rng.randint(2, 6)
            else:
                role, typetup, widths = "filler_vacant", TUP_SIMPLE, self.widths(1)
            an = min(year, self.final_year - 1)
            units.append((self.tup_draft(role, typetup, widths, ctpdl=ctpdl, nlocal=nlocal, nlogh=nlogh,
                                         nloghcopro=nloghcopro, an_const=an,
                                         jannatmin=self.jannatmin(an) if nlocal else None),))
        return Plan(tuple(units), tuple(unmatched), near_specs)
