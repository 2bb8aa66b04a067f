"""One writer per landing source: the only place where the sample touches the file system.

A source declaration (`coproff_platform/contracts`) may name its sample writer by a dotted path
(`"coproff_platform.sample.writers:write_rnic"`, attribute `sample_writer` of
`contracts.sources.SOURCES`); without one, `write_<source>` here is used. The list of sources comes from the declarations, never from a list kept
here; another module adds a source with `register_writer` (or by naming its function in its
declaration). A writer returns the rows it wrote, or None when the source does not exist for that
millésime (then no folder is created: e.g. no `dpe/` before the current DPE schema existed).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from coproff_platform.contracts import sources as contracts

from . import render
from .render import YearView
from .world import World


@dataclass
class WriteContext:
    """What a writer needs: one département's world seen in one millésime, and where to write."""

    world: World
    view: YearView
    seed: int
    rnic_labels: bool
    landing: Path  # the millésime's (temporary) landing folder
    extra: dict[str, int] = field(default_factory=dict)  # counters a writer wants in planted.json

    @property
    def year(self) -> int:
        return self.view.year

    @property
    def code(self) -> str:
        return self.world.dep.code

    def open(self, folder: str, name: str) -> TextIO:
        (self.landing / folder).mkdir(exist_ok=True)
        return open(self.landing / folder / name, "w", encoding="utf-8", newline="")


Writer = Callable[[WriteContext], "int | None"]


def write_rnic(ctx: WriteContext) -> int:
    with ctx.open("rnic", f"rnic_{ctx.code}.csv") as f:
        return render.write_rnic(f, ctx.world, ctx.view, ctx.seed, ctx.rnic_labels, True)


def write_ff_parcelle(ctx: WriteContext) -> int:
    with ctx.open("ff", f"pnb10_parcelle_{ctx.code}.csv") as f:
        return render.write_ff_parcelle(f, ctx.world, ctx.year, True)


def write_ff_tup(ctx: WriteContext) -> int:
    with ctx.open("ff", f"tup_{ctx.code}.csv") as f:
        return render.write_ff_tup(f, ctx.world, ctx.year, True)


def write_dpe(ctx: WriteContext) -> int | None:
    if render.cutoff(ctx.year) < render.DPE_FIRST_DAY:
        return None  # the current DPE schema did not exist yet: no source, not an empty file
    with ctx.open("dpe", f"dpe_{ctx.code}.csv") as f:
        return render.write_dpe(f, ctx.world, ctx.view, ctx.seed, True)


def write_dvf(ctx: WriteContext) -> int:
    with ctx.open("dvf", f"dvf_{ctx.code}.csv") as f:
        lines, duplicates = render.write_dvf(f, ctx.world, ctx.view, ctx.seed, True)
    ctx.extra["dvf:lines"] = ctx.extra.get("dvf:lines", 0) + lines
    ctx.extra["dvf:exact_duplicate_lines"] = ctx.extra.get("dvf:exact_duplicate_lines", 0) + duplicates
    return lines


def write_lovac(ctx: WriteContext) -> int:
    with ctx.open("lovac", f"lovac_{ctx.code}.csv") as f:
        return render.write_lovac(f, ctx.world, ctx.year, ctx.seed, True)


def write_cadastre(ctx: WriteContext) -> None:
    """The sample is FF-based: with `ff/` present the open cadastre would be set aside anyway, so no
    `cadastre/` folder is written (the open-cadastre mode is exercised on the real files of
    `tests/data/realdata/`)."""
    return None


def write_dv3f(ctx: WriteContext) -> None:
    """DV3F is restricted data the sample does not imitate: no `dv3f/` folder."""
    return None


_REGISTERED: dict[str, Writer] = {}


def register_writer(source: str, writer: Writer) -> None:
    """Hook for a source declared elsewhere (e.g. the registry declarations' sample module)."""
    _REGISTERED[source] = writer


def resolve(dotted: str) -> Writer:
    """`"package.module:function"` → the function (a clear error when the declaration names none)."""
    module, _, name = dotted.partition(":")
    if not name:
        raise ValueError(f"sample writer {dotted!r}: expected 'module:function'")
    fn = getattr(importlib.import_module(module), name, None)
    if not callable(fn):
        raise ValueError(f"sample writer {dotted!r}: no function {name!r} in module {module}")
    return fn


def package_writers() -> Iterator[tuple[str, Callable[[int, Path, Path, int], object]]]:
    """(source, writer) of the landing sources loaded by their own package
    (`contracts.PACKAGE_SOURCES`, e.g. the registry's declarations): called once per millésime,
    after the per-département writers, as `writer(millesime, landing_folder, truth_folder, seed)`
    on the millésime's folders (they read what the other writers wrote, e.g. `rnic/`)."""
    for source, declared in contracts.PACKAGE_SOURCES.items():
        yield source, resolve(declared.sample_writer)


def writers() -> Iterator[tuple[str, Writer | None]]:
    """(source, writer) for every declared source, in declaration order, then registered extras.
    A declaration naming no writer falls back to a registered one, then to `write_<source>` here."""
    seen = set()
    for source, declared in contracts.SOURCES.items():
        # The declaration of the source (not its format variants) names the writer.
        dotted = getattr(declared, "sample_writer", None)
        if isinstance(dotted, str) and dotted:
            fn: Writer | None = resolve(dotted)
        else:
            fn = _REGISTERED.get(source) or _DEFAULTS.get(source)
        seen.add(source)
        yield source, fn
    for source, fn in _REGISTERED.items():
        if source not in seen:
            yield source, fn


_DEFAULTS: dict[str, Writer] = {
    "rnic": write_rnic, "ff_parcelle": write_ff_parcelle, "ff_tup": write_ff_tup, "cadastre_parcelle": write_cadastre,
    "dpe": write_dpe, "dvf": write_dvf, "dv3f": write_dv3f, "lovac": write_lovac,
}
