"""Layout of one département: communes of blocks along streets, parcels and TUPs (local projection, m).

Each commune is laid out in its own frame: a block is two back-to-back rows of parcels between two
streets (the lower row faces the street below, the upper row the street above), cut by cross
streets; each TUP has its own depth behind the street front; a TUP is one parcel or 2–4 contiguous
parcels of one row. The lower-left corner of each commune is an empty square (a park around the
town hall) where a few unmatched registrations sit. The communes are then spread over the
département's box.
"""

from __future__ import annotations

import math
import random

from .geography import local_extent
from .model import COMMUNE_GAP, TUP_PDLMP, TUP_SIMPLE, VOID_W, Parcel, Settings, Tup, World
from .plan import TupDraft, Unit

STREET_TYPES = [("Rue", "r"), ("Avenue", "av"), ("Boulevard", "bd"), ("Allée", "all"), ("Place", "pl"),
                ("Route", "rte"), ("Impasse", "imp"), ("Chemin", "che"), ("Rue", "r"), ("Rue", "r")]

STREET_NAMES = [
    "Victor Hugo", "Jean Jaurès", "de la République", "Gambetta", "Pasteur", "du Général de Gaulle",
    "Émile Zola", "Paul Vaillant-Couturier", "Gabriel Péri", "des Écoles", "de la Gare", "du Moulin",
    "Voltaire", "Jules Ferry", "Anatole France", "Carnot", "de Verdun", "Louis Blanc", "Édouard Vaillant",
    "du Maréchal Foch", "Jean Moulin", "des Lilas", "de Paris", "Saint-Exupéry", "Roger Salengro",
    "de la Liberté", "Henri Barbusse", "Aristide Briand", "Maurice Thorez", "des Tilleuls", "Danton",
    "Lamartine", "Georges Clemenceau", "Marcel Cachin", "de Belfort", "Rouget de Lisle", "Étienne Dolet",
    "du Parc", "de la Paix", "Pierre Brossolette", "Condorcet", "Denfert-Rochereau", "des Peupliers",
    "de Stalingrad", "Jean-Baptiste Clément", "Lénine", "de la Mairie", "des Roses", "Molière", "Racine",
]

class Layout:
    """Lays the plan's units out; `tup_of` maps a TUP draft's key to its index in `World.tups`,
    `demoted` holds the keys of FF copropriétés meant for the park's edge that found no room there."""

    def __init__(self, rng: random.Random, settings: Settings) -> None:
        self.rng = rng
        self.s = settings
        self.communes = settings.communes
        self.depth_range = settings.depth_range
        self.street_range = settings.street_range
        self.tup_of: dict[int, int] = {}
        self.demoted: set[int] = set()

    def lay_out(self, world: World, by_commune: list[list[Unit]]) -> None:
        """Lay each commune out in its own frame, then spread the communes over the département."""
        ncom = len(self.communes)
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
        ex0, ey0, ex1, ey1 = local_extent(self.s.dep)
        self._place_communes(world, [(e[2], e[3]) for e in extents], (ex0, ey0, ex1, ey1))
        for c in range(ncom):
            ox, oy = world.origins[c]
            p_end = extents[c + 1][0] if c + 1 < ncom else len(world.parcels)
            t_end = extents[c + 1][1] if c + 1 < ncom else len(world.tups)
            for p in world.parcels[extents[c][0]:p_end]:
                p.x0, p.y0, p.x1, p.y1 = round(p.x0 + ox, 2), round(p.y0 + oy, 2), round(p.x1 + ox, 2), round(p.y1 + oy, 2)
            for t in world.tups[extents[c][1]:t_end]:
                t.x0, t.y0, t.x1, t.y1 = round(t.x0 + ox, 2), round(t.y0 + oy, 2), round(t.x1 + ox, 2), round(t.y1 + oy, 2)

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

    def _new_street(self, world: World, c: int) -> int:
        rng = self.rng
        t = rng.choice(STREET_TYPES)
        name = rng.choice(STREET_NAMES)
        world.streets[c].append((t[0], t[1], name))
        return len(world.streets[c]) - 1

    def _layout_commune(self, world: World, c: int, width: float, void_h: float, units: list[Unit]) -> float:
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
                    self.demoted.add(unit[0].key)  # no room on the park's edge: an ordinary FF-only copropriété
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

    def _make_tup(self, world: World, spec: TupDraft, c: int, pids: list[int], x0: float, y0: float, x1: float,
                  depth: float) -> None:
        rng = self.rng
        first = world.parcels[pids[0]].idpar
        idtup = first if spec.typetup == TUP_SIMPLE else spec.typetup.lower() + first
        t = Tup(idtup, spec.typetup, c, pids, x0, y0, x1, y0 + depth, spec.role, spec.ctpdl, spec.nlocal, spec.nlogh, spec.nloghcopro,
                spec.jannatmin, spec.an_const)
        tup_index = self.tup_of[spec.key] = len(world.tups)
        world.tups.append(t)
        # spread locals over the parcels: most on the first one; PDLMP parcels all carry the ctpdl
        n = len(pids)
        rest_lo, rest_lg = spec.nlocal, spec.nlogh
        for k, pid in enumerate(pids):
            p = world.parcels[pid]
            p.tup = tup_index
            if k == n - 1:
                p.nlocal, p.nlogh = rest_lo, rest_lg
            else:
                share = 0.7 if k == 0 else rng.uniform(0.1, 0.4)
                p.nlocal, p.nlogh = int(rest_lo * share), int(rest_lg * share)
                rest_lo -= p.nlocal
                rest_lg -= p.nlogh
            if spec.ctpdl and (spec.typetup == TUP_PDLMP or k == 0):
                p.ctpdl = spec.ctpdl

