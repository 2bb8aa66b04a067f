"""Planted duplicates: re-registrations after a change of syndic, and keeping the truth unambiguous
where a registration touches an FF-only copropriété it was not planted next to."""

from __future__ import annotations

import random
from datetime import date, timedelta

from .model import Reg, World


def make_duplicate(rng: random.Random, world: World, a: Reg, b: Reg, cutoff_final: date) -> None:
    """b re-registers a's copropriété after a change of syndic: same parcel and address."""
    if b.date_immat <= a.date_immat:
        a.date_immat, b.date_immat = b.date_immat, a.date_immat
    if (b.date_immat - a.date_immat).days < 200:
        b.date_immat = min(cutoff_final, a.date_immat + timedelta(days=rng.randint(200, 900)))
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


def no_accidental_double_counts(rng: random.Random, world: World) -> None:
    """Keep the truth unambiguous: a registration on a TUP where FF shows no copropriété must
    not touch an FF-only copropriété with about the same dwellings unless that pair is a planted
    double count (the data could not tell the two apart). Such accidental neighbours get other
    dwelling counts."""
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

