"""Generate sample millésimes: landing files in the real formats plus the ground truth.

Streams département by département: one département's world is built, written for every requested
millésime, and dropped before the next one, so memory is bounded by the largest département, never
by the nation. Each millésime is written into a hidden temporary folder and moved into place at the
end, so a sensor or a loader never sees a half-written millésime.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from . import render, writers
from .geography import DEPARTEMENTS, to_wgs84
from .world import COHERENCE_MARGIN, GAP_CLASSES, GAP_NOT_FILLED, REGISTRY_OPENING, WorldBuilder, first_millesime

MARKER = ".coproff_sample"
DEFAULT_COPROS = 4000
# Ground truth files (read by the evaluation only) and their headers.
TRUTH_FILES = {
    "links": "num_immat,idtup",
    "duplicates": "num_immat_a,num_immat_b,kind",
    "principal_secondaire": "num_immat_principal,num_immat_secondaire",
    "cases": "num_immat,situation,cas_point,cas_reference",
}
DEFAULT_DEPARTEMENTS = "75,93,974"


@dataclass(frozen=True)
class SampleSpec:
    millesimes: tuple[int, ...]
    departements: tuple[str, ...]
    copros: int
    seed: int = 42
    rnic_format: str = "current"  # or "labels"


def split_rows(departements: tuple[str, ...], total: int) -> dict[str, int]:
    """Split the referential size between départements by their weight (largest remainder)."""
    weights = [DEPARTEMENTS[d].weight for d in departements]
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[: total - sum(out)]:
        out[i] += 1
    return dict(zip(departements, out))


def _check_replaceable(path: Path) -> None:
    if path.exists() and any(path.iterdir()) and not (path / MARKER).exists():
        raise SystemExit(
            f"coproff sample: {path} exists and was not written by the sample generator; "
            "remove it or choose another --landing/--truth directory")


def generate(spec: SampleSpec, landing: Path, truth: Path, log: Callable[[str], None] = print,
             jobs: int = 1) -> dict[int, dict]:
    """Write the sample; returns the planted statistics per millésime.

    `jobs` > 1 builds départements in parallel processes (each writes its own files); the output is
    byte-identical whatever the number of jobs.
    """
    check_years(spec.millesimes)
    for y in spec.millesimes:
        _check_replaceable(landing / str(y))
        _check_replaceable(truth / str(y))
    split = split_rows(spec.departements, spec.copros)
    final_year = max(spec.millesimes)
    tmp_land = {y: landing / f".tmp-{y}" for y in spec.millesimes}
    tmp_truth = {y: truth / f".tmp-{y}" for y in spec.millesimes}
    for p in (*tmp_land.values(), *tmp_truth.values()):
        shutil.rmtree(p, ignore_errors=True)
        p.mkdir(parents=True)
    for p in tmp_truth.values():
        (p / "parts").mkdir()
    planted: dict[int, Counter] = {y: Counter() for y in spec.millesimes}
    per_dep: dict[int, dict[str, int]] = {y: {} for y in spec.millesimes}
    extents: dict[str, dict] = {}
    t0 = time.monotonic()
    log(f"coproff sample: millésime(s) {', '.join(map(str, spec.millesimes))}, {len(spec.departements)} département(s), "
        f"~{spec.copros} copropriétés, seed {spec.seed}, {jobs} process(es)")
    tasks = [_Task(code, split[code], spec, tuple(tmp_land[y] for y in spec.millesimes),
                   tuple(tmp_truth[y] for y in spec.millesimes)) for code in spec.departements]
    # biggest départements first so that parallel workers finish together
    tasks.sort(key=lambda t: -t.rows)
    done = 0

    def collect(result: _Result) -> None:
        nonlocal done
        done += 1
        extents[result.code] = result.extent
        for line in result.logs:
            log(line.replace("[?/", f"[{done}/"))
        for y, c in result.planted.items():
            planted[y].update(c)
            per_dep[y][result.code] = result.rows[y]

    if jobs > 1 and len(tasks) > 1:
        # not "fork": forking a process that already runs threads (pytest-xdist, Dagster) can
        # deadlock a worker on a lock another thread held
        ctx = multiprocessing.get_context("forkserver")
        with ctx.Pool(jobs, maxtasksperchild=8) as pool:
            for result in pool.imap_unordered(_run_task, tasks, chunksize=1):
                collect(result)
    else:
        for task in tasks:
            collect(_run_task(task))
    # truth files: département parts concatenated in the requested order (deterministic)
    for y in spec.millesimes:
        for name, header in TRUTH_FILES.items():
            with open(tmp_truth[y] / f"{name}.csv", "w", encoding="utf-8", newline="") as out:
                out.write(header + "\n")
                for code in spec.departements:
                    part = tmp_truth[y] / "parts" / f"{code}.{name}.csv"
                    with open(part, encoding="utf-8") as f:
                        shutil.copyfileobj(f, out)
        shutil.rmtree(tmp_truth[y] / "parts")
        for _source, write in writers.package_writers():  # millésime-wide, before the folder is renamed
            write(y, tmp_land[y], tmp_truth[y], spec.seed)
    extents = {code: extents[code] for code in spec.departements}
    results = {}
    for y in spec.millesimes:
        doc = _planted_doc(spec, y, planted[y], per_dep[y])
        doc["layout"] = extents
        (tmp_truth[y] / "planted.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp_land[y] / MARKER).write_text(json.dumps({"seed": spec.seed, "departements": list(spec.departements)}) + "\n")
        (tmp_truth[y] / MARKER).write_text("")
        for tmp, final in ((tmp_land[y], landing / str(y)), (tmp_truth[y], truth / str(y))):
            if final.exists():
                shutil.rmtree(final)
            tmp.rename(final)
        results[y] = doc
        log(f"  millésime {y}: {doc['rows_total']} copropriétés in the referential "
            f"({', '.join(f'{k} {v}' for k, v in doc['situations'].items())}) -> {landing / str(y)}")
    log(f"coproff sample: done in {time.monotonic() - t0:.1f} s; truth in {truth}")
    return results


@dataclass(frozen=True)
class _Task:
    code: str
    rows: int
    spec: SampleSpec
    land: tuple[Path, ...]  # per millésime, same order as spec.millesimes
    truth: tuple[Path, ...]


@dataclass
class _Result:
    code: str
    planted: dict[int, Counter]
    rows: dict[int, int]
    extent: dict
    logs: list[str]


def _run_task(task: _Task) -> _Result:
    """Build one département's world and write it for every millésime (runs in a worker)."""
    spec = task.spec
    dep = DEPARTEMENTS[task.code]
    td = time.monotonic()
    world = WorldBuilder(dep, list(DEPARTEMENTS).index(task.code), task.rows, spec.seed, max(spec.millesimes)).build()
    logs = []
    if world.overflow_m > 0:
        logs.append(f"  warning: {task.code} layout goes {world.overflow_m:.0f} m past the département's box")
    lon, lat = to_wgs84(dep.srid).transform([world.used_extent[0], world.used_extent[2]],
                                            [world.used_extent[1], world.used_extent[3]])
    extent = {"bbox_wgs84": [round(lon[0], 5), round(lat[0], 5), round(lon[1], 5), round(lat[1], 5)],
              "srid": dep.srid, "extent_local": [round(v) for v in world.used_extent],
              "overflow_m": round(world.overflow_m)}
    planted: dict[int, Counter] = {}
    rows: dict[int, int] = {}
    for y, land, truth in zip(spec.millesimes, task.land, task.truth):
        c: Counter = Counter()
        parts = {name: open(truth / "parts" / f"{task.code}.{name}.csv", "w", encoding="utf-8", newline="")
                 for name in TRUTH_FILES}
        try:
            counts = _write_departement(world, y, spec, land, parts, c)
        finally:
            for f in parts.values():
                f.close()
        planted[y], rows[y] = c, counts["rows"]
        written = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "rows")
        logs.append(f"  [?/{len(spec.departements)}] {task.code} {dep.name} {y}: {written} rows "
                    f"({time.monotonic() - td:.1f} s)")
    return _Result(task.code, planted, rows, extent, logs)


def _write_departement(world, year: int, spec: SampleSpec, land: Path, truth_files: dict[str, TextIO],
                       planted: Counter) -> dict[str, int]:
    view = render.YearView.of(world, year)
    ctx = writers.WriteContext(world, view, spec.seed, spec.rnic_format == "labels", land)
    counts: dict[str, int] = {}
    for source, writer in writers.writers():
        rows = writer(ctx) if writer is not None else None
        if rows is not None:
            counts[source] = rows
    links, dups, ps = render.truth_rows(world, view)
    truth_files["links"].writelines(f"{a},{b}\n" for a, b in links)
    truth_files["duplicates"].writelines(f"{a},{b},{k}\n" for a, b, k in dups)
    truth_files["principal_secondaire"].writelines(f"{a},{b}\n" for a, b in ps)
    truth_files["cases"].writelines(",".join(row) + "\n" for row in render.case_rows(world, view))
    c = render.planted_counts(world, view)
    for _, _, kind in dups:
        c[f"duplicates:{kind}"] += 1
    c["principal_secondaire"] += len(ps)
    c.update(ctx.extra)
    for k, v in counts.items():
        c[f"files:{k}"] += v
    planted.update(c)
    counts["rows"] = sum(v for k, v in c.items() if k.startswith("situation:"))
    return counts


def _planted_doc(spec: SampleSpec, year: int, c: Counter, per_dep: dict[str, int]) -> dict:
    situations = {k.split(":", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("situation:")}
    total = sum(situations.values())
    matched = situations.get("rnic_1_1", 0) + situations.get("rnic_1_n", 0)
    registered = matched + situations.get("rnic_unmatched", 0)
    gaps = {name: c.get(f"gap:{name}", 0) for name, _ in GAP_CLASSES}
    gaps[GAP_NOT_FILLED] = c.get(f"gap:{GAP_NOT_FILLED}", 0)
    compared = c.get("construction:compared", 0)
    return {
        "millesime": year,
        "seed": spec.seed,
        "departements": list(spec.departements),
        "rows_by_departement": {d: per_dep[d] for d in spec.departements},
        "rows_total": total,
        "situations": situations,
        "situation_shares": {k: round(v / total, 4) for k, v in situations.items()} if total else {},
        "registrations": registered,
        "tup_sans_copro_ff": c.get("tup_sans_copro_ff", 0),
        "tup_sans_copro_ff_share_of_matched": round(c.get("tup_sans_copro_ff", 0) / matched, 4) if matched else None,
        "duplicates": {k.split(":", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("duplicates:")},
        "principal_secondaire_pairs": c.get("principal_secondaire", 0),
        "gap_classes": {
            "definition": "rnic_1_1 rows on a TUP holding an FF copropriété; gap = |nloghcopro - lots_hab|; "
                          "aucun = 0, '1' = 1, otherwise gap / lots_hab < 10%, 25%, 50%, 100%, else >=100%; "
                          "non_renseigne = lots_hab empty",
            "counts": gaps,
        },
        "construction": {
            "definition": "rnic_1_1 rows on a TUP holding an FF copropriété with jannatmin and a known "
                          f"periode_de_construction; coherent = jannatmin within the period widened by "
                          f"{COHERENCE_MARGIN} years",
            "compared": compared,
            "coherent": c.get("construction:coherent", 0),
            "coherent_rate": round(c.get("construction:coherent", 0) / compared, 4) if compared else None,
        },
        "references": {k.split(":", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("refs:")},
        "points": {k.split(":", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("point:")},
        "unmatched_points": {k.split(":", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("unmatched_point:")},
        "references_listed": {k.split(":", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("refs_listed:")},
        "reference_forms": {k.split(":", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("ref_form:")},
        "defects": {k.split(":", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("defect:")},
        "ff_pdl_moins_de_2_logements": c.get("ff_pdl_moins_de_2_logements", 0),
        "typetup": {k.split(":", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("typetup:")},
        "dvf": {"lines": c.get("dvf:lines", 0), "exact_duplicate_lines": c.get("dvf:exact_duplicate_lines", 0)},
        "files": {k.split(":", 1)[1]: v for k, v in sorted(c.items()) if k.startswith("files:")},
    }


def parse_years(millesime: int | None, years: str | None) -> tuple[int, ...]:
    if years:
        if "-" in years:
            a, b = (int(x) for x in years.split("-", 1))
            if b < a:
                raise ValueError(f"--years {years}: the range must be increasing")
            return tuple(range(a, b + 1))
        return tuple(sorted({int(x) for x in years.split(",")}))
    if millesime is None:
        raise ValueError("give --millesime or --years")
    return (millesime,)


def check_years(years: tuple[int, ...]) -> None:
    """Refuse millésimes before the registry's first September export (no registration to draw)."""
    first = first_millesime()
    early = [y for y in years if y < first]
    if early:
        raise ValueError(
            f"millésime {early[0]}: le registre d'immatriculation a ouvert le {REGISTRY_OPENING.isoformat()} "
            f"(parametres.csv, ouverture_registre), le premier millésime est {first}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `coproff sample`")
