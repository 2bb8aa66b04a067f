"""Placement of the registrations: attributes, address, address point and listed references.

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
from datetime import date, timedelta

from . import duplicates, refdata
from .layout import STREET_NAMES, Layout
from .model import REGISTRATION_DEADLINES, REGISTRY_OPENING, Parcel, Reg, Settings, Tup, World
from .plan import Plan, RegDraft

RESIDENCES = [
    "LES TILLEULS", "LE VICTORIA", "LES JARDINS DU PARC", "RESIDENCE DU PARC", "LE REMBRANDT",
    "LES HORTENSIAS", "LES TERRASSES", "LE CLOS FLEURI", "LES PLATANES", "RESIDENCE VERLAINE",
    "LE POINT DU JOUR", "LES EGLANTIERS", "L'ERMITAGE", "LE BELVEDERE", "LES CEDRES", "LE PANORAMA",
    "RESIDENCE LES ACACIAS", "LES MARRONNIERS", "LE CHATEAU", "LES COTEAUX",
]
# far references: beyond the reference distance of the rules (`reference_distance_max_m`) between
# the polygons; measured here between street fronts, and an oblique cut moves a back corner up to
# 0.12 m per metre of depth (65 m at most) on each side
_FAR_M = float(refdata.parameter("reference_distance_max_m")) + 2 * 0.12 * 65


class Placement:
    def __init__(self, rng: random.Random, settings: Settings) -> None:
        self.rng = rng
        self.s = settings
        self.dep = settings.dep
        self.dep_index = settings.dep_index
        self.communes = settings.communes
        self.final_year = settings.final_year
        self.street_range = settings.street_range
        self.cutoff_final = settings.cutoff_final
        self.reg_serial = 0
        self._numbers_cache: dict[tuple[int, str], set[int]] | None = None
        self._by_number_cache: dict[tuple[int, str], list[Parcel]] | None = None

    def num_immat(self) -> str:
        k = self.reg_serial
        self.reg_serial += 1
        if k >= 200_000:
            raise ValueError(f"too many registrations in département {self.dep.code} for the numbering scheme")
        g = self.dep_index * 200_000 + k
        m = 8 * 10**7  # letters AA..AH, as in real numbers
        g2 = (g * 48_271 + 12_345_677) % m  # bijective scramble (48271 is coprime with m)
        return f"A{chr(ord('A') + g2 // 10**7)}{g2 % 10**7:07d}"

    def place_all(self, world: World, plan: Plan, unm_commune: list[int], layout: Layout) -> None:
        """Registrations on TUPs in layout order (deterministic), then the unmatched ones."""
        units, unmatched, near_specs, tup_of = plan.units, plan.unmatched, plan.near_specs, layout.tup_of
        rng = self.rng
        draft_to_reg: dict[int, int] = {}
        # registrations on TUPs, in layout order (deterministic)
        specs = sorted((s for u in units for s in u if s.regs), key=lambda s: tup_of[s.key])
        for spec in specs:
            tup = world.tups[tup_of[spec.key]]
            group_regs: list[int] = []
            kind = spec.regs[0].group
            point_of_parcel: dict[int, Reg] = {}
            for k, d in enumerate(spec.regs):
                # a re-registration or a secondary syndicate has the address of the first one
                pid = tup.parcels[0] if kind in ("dup", "ps") else tup.parcels[k % len(tup.parcels)]
                reg = self._reg(world, d, tup, pid, k, tup_of[spec.key])
                first = point_of_parcel.setdefault(pid, reg)
                if first is not reg and first.x is not None and reg.x is not None:
                    # registrations at one address share one coordinate (the address point)
                    reg.x, reg.y, reg.decimals, reg.on_parcel = first.x, first.y, first.decimals, first.on_parcel
                    reg.point_case = first.point_case
                draft_to_reg[d.id] = reg.index
                group_regs.append(reg.index)
                if d.dc_partner is not None:
                    world.dc_pairs.append((reg.index, tup_of[d.dc_partner]))
            if kind == "dup":
                a, b = world.regs[group_regs[0]], world.regs[group_regs[1]]
                duplicates.make_duplicate(rng, world, a, b, self.cutoff_final)
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
            if partner_spec is not None and partner_spec.key not in layout.demoted:
                t = world.tups[tup_of[partner_spec.key]]
                reg.x = t.x0 - rng.uniform(130, 160)
                reg.y = (t.y0 + t.y1) / 2
                reg.point_case = "parc_proche_copro_ff"
                world.near_pairs.append((reg.index, tup_of[partner_spec.key]))
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

    def _reg(self, world: World, d: RegDraft, tup: Tup | None, pid: int | None, k: int, tup_index: int | None,
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
                world.streets[c].append(("Rue", "r", rng.choice(STREET_NAMES)))
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
            nom = rng.choice(RESIDENCES)
        elif r < 0.9:
            nom = f"{numero} {st[1]} {st[2].lower()}"
        else:
            nom = "non connu"
        reg = Reg(
            index=len(world.regs), num_immat=self.num_immat(), commune=c, tup=tup_index, parcel=pid, x=None, y=None, refs=[], ref_kind="aucune",
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
        self._place(world, reg, tup, parcel)
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

    def _place(self, world: World, reg: Reg, tup: Tup, parcel: Parcel | None) -> None:
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
            if math.hypot(dx, dy) >= _FAR_M:
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
            if math.hypot(dx, dy) >= _FAR_M:
                return cand.idpar
        return None

