"""One département's synthetic world: parcels, TUPs, copropriétés and registrations.

The world is built once per département for the last requested millésime and then *viewed* per
millésime (see `render.py`): registrations appear on their registration date, buildings appear in
the Fichiers fonciers the year after completion, syndics change over time. Everything is drawn from
one `random.Random` seeded by (seed, département, last millésime, size), so a run is reproducible
and a département does not depend on which other départements are generated.

The build runs four stages on that one random stream, in this order: `plan.py` (what to generate,
frozen drafts), `layout.py` (communes, streets, blocks, parcels, TUPs), `placement.py`
(registrations: address, address point, references) and `duplicates.py` (re-registrations, no
accidental double count). `model.py` holds the world's data model and shares.
"""

from __future__ import annotations

import random
from itertools import accumulate

from .geography import Departement, communes, local_extent
from .layout import Layout
from .model import (  # noqa: F401  (re-exported: the generator, render and tests import them from here)
    COHERENCE_MARGIN, GAP_CLASSES, GAP_NOT_FILLED, PERIODS, REGISTRY_OPENING, TUP_PDLMP, TUP_SIMPLE, TUP_UF,
    Parcel, Reg, Settings, Tup, World, construction_coherent, first_millesime, gap_class, luhn_ok, period_of, siret,
)
from .placement import Placement
from .plan import Planner, RegDraft, TupDraft  # noqa: F401
from . import duplicates

_SYNDIC_WORDS = ["CABINET", "FONCIA", "NEXITY", "CITYA", "SOCIETE DE GERANCE", "IMMOBILIERE", "GESTION", "SQUARE HABITAT"]
_SYNDIC_NAMES = ["MARTIN", "LOISELET", "RICHELIEU", "DURAND", "DU PARC", "BERNARD", "ATM", "LAMY", "ORALIA", "DAUCHEZ",
                 "SERGIC", "GIBOIRE", "TAGERIM", "LEFEBVRE", "MOREAU", "PETIT", "ROUX", "FOURNIER"]


class WorldBuilder:
    def __init__(self, dep: Departement, dep_index: int, n_rows: int, seed: int, final_year: int) -> None:
        self.dep = dep
        self.n_rows = n_rows
        self.rng = random.Random(f"coproff-sample:{seed}:{dep.code}:{final_year}:{n_rows}")
        self.communes = communes(dep.code)
        self.settings = Settings.of(dep, dep_index, n_rows, final_year, tuple(self.communes))
        self.commune_cum = list(accumulate(c.weight for c in self.communes))

    def build(self) -> World:
        rng, s = self.rng, self.settings
        plan = Planner(rng, s).plan()
        ncom = len(self.communes)
        by_commune: list[list] = [[] for _ in range(ncom)]
        near_commune: dict[int, int] = {}
        for unit in plan.units:
            c = rng.choices(range(ncom), cum_weights=self.commune_cum)[0]
            by_commune[c].append(unit)
            if unit[0].near_partner is not None:
                near_commune[unit[0].near_partner] = c  # the unmatched registration goes to the same commune
        unm_commune = [near_commune.get(d.id, rng.choices(range(ncom), cum_weights=self.commune_cum)[0])
                       for d in plan.unmatched]

        world = World(self.dep, s.dep_index, s.final_year, s.communes, [(0.0, 0.0)] * ncom, [0.0] * ncom,
                      [[] for _ in range(ncom)], [], [], [], [], [], [], [], self._syndics())
        layout = Layout(rng, s)
        layout.lay_out(world, by_commune)
        Placement(rng, s).place_all(world, plan, unm_commune, layout)
        duplicates.no_accidental_double_counts(rng, world)
        layout.turn(world)
        # how far the layout went past the département's box
        ex0, ey0, ex1, ey1 = local_extent(self.dep)
        ux0 = min((p.x0 for p in world.parcels), default=ex0)
        uy0 = min((p.y0 for p in world.parcels), default=ey0)
        ux1 = max((p.x1 for p in world.parcels), default=ex0)
        uy1 = max((p.y1 for p in world.parcels), default=ey0)
        world.overflow_m = max(0.0, ux1 - ex1, uy1 - ey1, ex0 - ux0, ey0 - uy0)
        world.used_extent = (min(ux0, ex0), min(uy0, ey0), max(ux1, ex0), max(uy1, ey0))
        return world

    def _syndics(self) -> list[tuple[str, str, str, str]]:
        rng = self.rng
        out = []
        names = self.communes
        for i in range(max(5, self.n_rows // 40)):
            name = f"{rng.choice(_SYNDIC_WORDS)} {rng.choice(_SYNDIC_NAMES)}"
            if rng.random() < 0.3:
                name += rng.choice((" SARL", " SAS", " ET ASSOCIES", " IMMOBILIER"))
            siret_ = siret(rng, valid=rng.random() > 0.01)
            ape = rng.choices(["6832A", "6831Z", "6820B", "6910Z"], [80, 15, 3, 2])[0]
            out.append((name, siret_, ape, rng.choice(names).registry_name.upper()))
        return out

    # ------------------------------------------------------------------ registrations
