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
from .profile import targets

# share of parcels in one-letter sections outside Paris, Lyon and Marseille: the share of real
# registry references in one-letter sections (`profil_reel.csv`)
SHARE_ONE_LETTER = targets()["forme_section_une_lettre"].valeur
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
        # parcels of communes with one-letter sections, and those in one-letter sections
        self.parcels_mixed = self.parcels_one = 0

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
        # each commune's street grid has its own orientation: the communes are placed by the box
        # of their turned rectangle, and turned about its centre at the end (`turn`)
        self.angles = [math.radians(self.rng.uniform(-40.0, 40.0)) for _ in range(ncom)]
        sizes = []
        for (_, _, w, h), a in zip(extents, self.angles):
            ca, sa = abs(math.cos(a)), abs(math.sin(a))
            sizes.append((w * ca + h * sa, w * sa + h * ca))
        self._place_communes(world, sizes, (ex0, ey0, ex1, ey1))
        self.centres = []
        for c in range(ncom):
            (px, py), (tw, th), (_, _, w, h) = world.origins[c], sizes[c], extents[c]
            self.centres.append((px + tw / 2, py + th / 2))
            world.origins[c] = (px + tw / 2 - w / 2, py + th / 2 - h / 2)
        for c in range(ncom):
            ox, oy = world.origins[c]
            p_end = extents[c + 1][0] if c + 1 < ncom else len(world.parcels)
            t_end = extents[c + 1][1] if c + 1 < ncom else len(world.tups)
            for p in world.parcels[extents[c][0]:p_end]:
                p.x0, p.y0, p.x1, p.y1 = round(p.x0 + ox, 2), round(p.y0 + oy, 2), round(p.x1 + ox, 2), round(p.y1 + oy, 2)
                p.ring = tuple((x + ox, y + oy) for x, y in p.ring)
            for t in world.tups[extents[c][1]:t_end]:
                t.x0, t.y0, t.x1, t.y1 = round(t.x0 + ox, 2), round(t.y0 + oy, 2), round(t.x1 + ox, 2), round(t.y1 + oy, 2)
                t.ring = tuple((x + ox, y + oy) for x, y in t.ring)
                t.point = (t.point[0] + ox, t.point[1] + oy)

    def turn(self, world: World) -> None:
        """Turn each commune about its centre (once everything is placed: distances do not change);
        afterwards a parcel's or TUP's x0..y1 are its polygon's bounding box."""
        rot = [(cx, cy, math.cos(a), math.sin(a)) for (cx, cy), a in zip(self.centres, self.angles)]

        def f(c: int, x: float, y: float) -> tuple[float, float]:
            cx, cy, ca, sa = rot[c]
            dx, dy = x - cx, y - cy
            return round(cx + dx * ca - dy * sa, 2), round(cy + dx * sa + dy * ca, 2)

        for p in world.parcels:
            p.ring = tuple(f(p.commune, x, y) for x, y in p.ring)
            xs, ys = [q[0] for q in p.ring], [q[1] for q in p.ring]
            p.x0, p.y0, p.x1, p.y1 = min(xs), min(ys), max(xs), max(ys)
        for t in world.tups:
            t.ring = tuple(f(t.commune, x, y) for x, y in t.ring)
            xs, ys = [q[0] for q in t.ring], [q[1] for q in t.ring]
            t.x0, t.y0, t.x1, t.y1 = min(xs), min(ys), max(xs), max(ys)
            t.point = f(t.commune, *t.point)
        for r in world.regs:
            if r.x is not None:
                cx, cy, ca, sa = rot[r.commune]
                dx, dy = r.x - cx, r.y - cy
                r.x, r.y = cx + dx * ca - dy * sa, cy + dx * sa + dy * ca

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
        # sections: two-letter in the Paris, Lyon and Marseille arrondissements (as in their real
        # cadastre); elsewhere every commune mixes one-letter sections (A–Z, written `0A` in idpar)
        # and two-letter ones (AA…); a new section is one-letter while the département's parcels in
        # one-letter sections are below the share measured on real rows (so small départements too)
        two_letters = commune.code != commune.registry_code
        sec_i = rng.randint(0, 20)
        sec_count, sec_size, dnupla = 0, rng.randint(60, 180), 0

        one_letter_i = 0

        def next_section() -> str:
            nonlocal sec_i, one_letter_i
            if not two_letters:
                if one_letter_i < 26 and self.parcels_one < SHARE_ONE_LETTER * self.parcels_mixed:
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
            runs: list[list[int]] = [[]]  # the row's blocks (parcels between two cross streets)
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
                    # each TUP its own depth (gardens and courtyards), aligned on the street front
                    d_t = round(depth * rng.triangular(0.55, 1.0, 0.92), 1)
                    ty0 = y + depth - d_t if faces_up else y
                    for w in spec.widths:
                        sec_count += 1
                        if sec_count > sec_size:
                            section, sec_count, dnupla = next_section(), 1, 0
                            sec_size = rng.randint(60, 180)
                        dnupla += 1 if rng.random() < 0.85 else rng.randint(2, 4)
                        idpar = f"{ccodep}{ccocom}000{section}{dnupla:04d}"
                        pids.append(len(world.parcels))
                        runs[-1].append(len(world.parcels))
                        if not two_letters:
                            self.parcels_mixed += 1
                            self.parcels_one += section[0] == "0"
                        world.parcels.append(Parcel(idpar, len(world.tups), c, section, f"{dnupla:04d}",
                                                    x, ty0, x + w, ty0 + d_t, street, numero, faces_up=faces_up))
                        numero += rng.choice((2, 2, 2, 4, 6))
                        x += w
                    self._make_tup(world, spec, c, pids, px0, ty0, x, d_t)
                block_len += uw
                if block_len >= block_target:
                    x += rng.uniform(s_lo, s_hi)
                    runs.append([])
                    block_len, block_target = 0.0, rng.uniform(110, 260)
                    numero += rng.choice((2, 4))
            self._shape_row(world, runs, y + depth if faces_up else y, faces_up)
            # the upper row of a block backs onto the lower one; a street follows it
            y += depth + (rng.uniform(s_lo, s_hi) if faces_up else rng.uniform(0.0, 1.5))
            row += 1
        return y

    def _shape_row(self, world: World, runs: list[list[int]], front: float, faces_up: bool) -> None:
        """Polygons of one row's parcels and TUPs, in the commune's frame. Within a block, the cut
        between two neighbours is a straight line, often slightly oblique (at most 0.12 m sideways
        per metre of depth, and never taking more than a fifth of either parcel's frontage); block
        ends along cross streets are square. A single-parcel TUP deeper than its neighbour may
        reach behind it (an L-shaped plot: a yard or an outbuilding behind the next house)."""
        rng = self.rng
        sign = -1.0 if faces_up else 1.0  # from the front towards the back
        for run in runs:
            if not run:
                continue
            parcels = [world.parcels[i] for i in run]
            deep = max(p.y1 - p.y0 for p in parcels)
            # boundary k runs between parcels k-1 and k: x = xs[k] + slopes[k] * t at depth t
            xs = [p.x0 for p in parcels] + [parcels[-1].x1]
            slopes = [0.0] * (len(parcels) + 1)
            for k in range(1, len(parcels)):
                if rng.random() < 0.65:
                    w = min(parcels[k - 1].x1 - parcels[k - 1].x0, parcels[k].x1 - parcels[k].x0)
                    lim = min(0.12, 0.2 * w / deep)
                    slopes[k] = round(rng.uniform(-lim, lim), 3)

            def at(k: int, t: float) -> tuple[float, float]:
                return (xs[k] + slopes[k] * t, front + sign * t)

            depth = [p.y1 - p.y0 for p in parcels]
            # L-shaped single-parcel TUPs reaching behind a shallower neighbour (never two behind
            # one): ext[k] = (neighbour j, its depth, the share f of its width reached)
            ext: dict[int, tuple[int, float, float]] = {}
            used: set[int] = set()
            for k, p in enumerate(parcels):
                if world.tups[p.tup].typetup != TUP_SIMPLE or rng.random() >= 0.14:
                    continue
                for j in ((k + 1, k - 1) if rng.random() < 0.5 else (k - 1, k + 1)):
                    if not 0 <= j < len(parcels) or j in used or parcels[j].tup == p.tup or depth[k] - depth[j] < 5.0:
                        continue
                    ext[k] = (j, depth[j], rng.uniform(0.4, 0.75))
                    used.update((j, k))
                    break

            def part(k: int, t: float) -> tuple[float, float]:
                # on the line through neighbour j at share f of its width, from k's side
                j, _, f = ext[k]
                near, far = (j, j + 1) if j > k else (j + 1, j)
                return ((1 - f) * (xs[near] + slopes[near] * t) + f * (xs[far] + slopes[far] * t), front + sign * t)

            # points another parcel's ring puts on k's back edge (listed from boundary k+1 to k)
            back_extra: dict[int, tuple[float, float]] = {j: part(k, depth[j]) for k, (j, _, _) in ext.items()}

            def side(k: int, b: int, other: int, d: float) -> list[tuple[float, float]]:
                # vertices strictly inside boundary b's segment [0, d] where a shallower neighbour ends
                if 0 <= other < len(parcels) and depth[other] < d:
                    return [at(b, depth[other])]
                return []

            def back(k: int) -> list[tuple[float, float]]:
                d = depth[k]
                return [at(k + 1, d)] + ([back_extra[k]] if k in back_extra else []) + [at(k, d)]

            for k, p in enumerate(parcels):
                d = depth[k]
                ring = [at(k, 0), at(k + 1, 0)]
                if k in ext and ext[k][0] > k:  # behind the right-hand neighbour
                    dn = ext[k][1]
                    ring += [at(k + 1, dn), part(k, dn), part(k, d), at(k, d)] + side(k, k, k - 1, d)
                elif k in ext:  # behind the left-hand neighbour
                    dn = ext[k][1]
                    ring += side(k, k + 1, k + 1, d) + [at(k + 1, d), part(k, d), part(k, dn), at(k, dn)]
                else:
                    ring += side(k, k + 1, k + 1, d) + back(k) + side(k, k, k - 1, d)
                p.ring = tuple(ring + ring[:1])
            # TUP polygons: one parcel's ring, or the outline of contiguous parcels of one depth
            for ti in dict.fromkeys(p.tup for p in parcels):
                t = world.tups[ti]
                k0, k1 = run.index(t.parcels[0]), run.index(t.parcels[-1])
                d = depth[k0]
                if k0 == k1:
                    t.ring = parcels[k0].ring
                else:
                    ring = [at(k0, 0), at(k1 + 1, 0)] + side(k1, k1 + 1, k1 + 1, d)
                    for k in range(k1, k0 - 1, -1):
                        for q in back(k):
                            if q != ring[-1]:
                                ring.append(q)
                    ring += side(k0, k0, k0 - 1, d)
                    t.ring = tuple(ring + ring[:1])
                a, b = at(k0, d / 2), at(k1 + 1, d / 2)
                t.point = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)

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

