"""Benchmark: source load throughput through the source loader vs a plain `psql \\copy` floor.

    COPROFF_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coproff_load \\
        .venv/bin/python benchmarks/loading.py --rnic-rows 600000 --dpe-rows 300000

    # every CSV source of a landing millésime (RNIC, FF parcels, TUPs, DVF, DPE, LOVAC), one run:
    .venv/bin/python benchmarks/loading.py --landing /tmp/national/landing/2023 [--departements 75,93,13]

With `--landing`, each source's files (optionally only those of `--departements`, matched on the
`_<code>.csv` suffix the generator writes) are loaded in the order parcels, TUPs, RNIC (its
post-load control reads the parcels), DVF, DPE, LOVAC, each followed by its floor, and a table of
ratios is printed at the end.

Input files: `--rnic FILE` / `--dpe FILE` (e.g. a national-size file from `coproff sample`), else
built here by repeating the real rows of `tests/data/realdata/` with new registration / DPE numbers
(streamed to disk, bounded memory). Both measures run in the same process on the same file:
1. the loader (`coproff_platform.loading.load_source`: decode, map, normalise, control, COPY, dedup
   keys, swap the partition) into millésime 1900 of the staging table, dropped afterwards;
2. `psql -c "\\copy bench.<t> from FILE csv header"` into an all-text table of the file's width:
   the floor (no parsing of values, no typing, no indexes).
Prints rows/s and MB/s for both, and the loader's peak RSS.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from coproff_platform.config import database_url
from coproff_platform.contracts.tables import create_all
from coproff_platform.loading import load_source
from coproff_platform.resources.postgis import PostGISResource

REALDATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "realdata"
BENCH_MILLESIME = 1900


def build_rnic(path: Path, rows: int) -> None:
    with open(REALDATA / "rnic_extract_bondy.csv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)[1:]  # drop R's row-name column: the published file has none
        base = [r[1:] for r in reader]
    num = header.index("numero_d_immatriculation")
    with open(path, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(header)
        for i in range(rows):
            r = list(base[i % len(base)])
            r[num] = f"{chr(65 + (i // 10_000_000) % 26)}Z{i % 10_000_000:07d}"
            w.writerow(r)


def build_dpe(path: Path, rows: int) -> None:
    with open(REALDATA / "dpe_sample.csv", encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        base = list(reader)
    num = header.index("numero_dpe")
    with open(path, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(header)
        for i in range(rows):
            r = list(base[i % len(base)])
            r[num] = f"23{i:011d}X"
            w.writerow(r)


def concatenate(paths: list[Path], out: Path) -> Path:
    """One file with the first file's header and every file's rows (same header in all files)."""
    with open(out, "wb") as target:
        for i, path in enumerate(paths):
            with open(path, "rb") as f:
                header = f.readline()
                if i == 0:
                    target.write(header)
                while chunk := f.read(1 << 20):
                    target.write(chunk)
    return out


def psql_floor(url: str, paths: list[Path], table: str, workdir: Path) -> float:
    """Seconds for psql's client-side \\copy of every file into an all-text table of the files' width."""
    with open(paths[0], encoding="utf-8-sig", newline="") as f:
        width = len(next(csv.reader(f)))
    u = make_url(url)
    conninfo = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres", "-d", u.database]
    cols = ", ".join(f"c{i} text" for i in range(width))
    setup = f"create schema if not exists bench; drop table if exists bench.{table}; create table bench.{table} ({cols});"
    subprocess.run(["psql", *conninfo, "-q", "-v", "ON_ERROR_STOP=1", "-c", setup], check=True)
    # One \\copy of one file: several files are concatenated first (not timed), so the floor pays
    # no per-file psql start-up and connection (the loader uses one connection for all files).
    path = paths[0] if len(paths) == 1 else concatenate(paths, workdir / f"{table}_concat.csv")
    started = time.monotonic()
    subprocess.run(["psql", *conninfo, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    f"\\copy bench.{table} from '{path}' with (format csv, header true)"], check=True)
    seconds = time.monotonic() - started
    subprocess.run(["psql", *conninfo, "-q", "-c", f"drop table bench.{table}"], check=True)
    return seconds


def cleanup(postgis: PostGISResource, sources: list[str]) -> None:
    with postgis.engine.begin() as conn:  # leave no benchmark rows behind
        for source in sources:
            conn.execute(sa.text(f"drop table if exists staging.{source}_m{BENCH_MILLESIME}"))
        conn.execute(sa.text("delete from quality.quarantine where millesime = :m"), {"m": BENCH_MILLESIME})
        conn.execute(sa.text("delete from quality.load_log where millesime = :m"), {"m": BENCH_MILLESIME})


def measure(postgis: PostGISResource, source: str, path: Path | list[Path], workdir: Path,
            keep: bool = False) -> tuple[str, int, float, float]:
    """(source, rows, loader seconds, floor seconds); `keep` leaves the loaded partition for later sources."""
    paths = path if isinstance(path, list) else sorted(path.glob("*.csv")) if path.is_dir() else [path]
    size_mb = sum(p.stat().st_size for p in paths) / 1e6
    report = load_source(postgis, source, BENCH_MILLESIME, paths)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if not keep:
        cleanup(postgis, [source])
    floor = psql_floor(postgis.database_url, paths, source, workdir)
    rows = report.rows_read
    where = path if not isinstance(path, list) else paths[0].parent
    print(f"{source}: {rows} rows, {size_mb:.1f} MB, {len(paths)} file(s) from {where}")
    print(f"  loader : {report.seconds:7.1f} s  {rows / report.seconds:10.0f} rows/s  {size_mb / report.seconds:6.1f} MB/s"
          f"  (loaded {report.rows_loaded}, quarantined {report.rows_quarantined}, peak RSS {rss_mb:.0f} MB)")
    print(f"  psql \\copy floor: {floor:7.1f} s  {rows / floor:10.0f} rows/s  {size_mb / floor:6.1f} MB/s"
          f"  → loader = {report.seconds / floor:.1f}× the floor")
    sys.stdout.flush()
    return source, rows, report.seconds, floor


LANDING_ORDER = ("ff_parcelle", "ff_tup", "rnic", "dvf", "dpe", "lovac")


def measure_landing(postgis: PostGISResource, landing: Path, departements: list[str] | None, workdir: Path) -> None:
    """Every CSV source of a landing millésime folder vs its floor, in one run; prints the ratios."""
    from coproff_platform.loading.load import source_files

    results = []
    try:
        for source in LANDING_ORDER:
            files = source_files(landing.parent, landing.name, source)
            if departements:
                files = [p for p in files if any(p.stem.endswith(f"_{d}") for d in departements)]
            if files:
                results.append(measure(postgis, source, files, workdir, keep=True))
    finally:
        cleanup(postgis, list(LANDING_ORDER))
    load = os.getloadavg()
    print(f"\n| source | rows | loader s | floor s | loader / floor |  (load average {load[0]:.1f} / {load[1]:.1f})")
    print("|---|---:|---:|---:|---:|")
    for source, rows, seconds, floor in results:
        print(f"| {source} | {rows:,} | {seconds:.1f} | {floor:.1f} | {seconds / floor:.1f}× |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rnic", type=Path, help="RNIC file or folder of files (default: built from real rows)")
    parser.add_argument("--dpe", type=Path, help="DPE file or folder of files (default: built from real rows)")
    parser.add_argument("--rnic-rows", type=int, default=600_000)
    parser.add_argument("--dpe-rows", type=int, default=300_000)
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "coproff_bench")
    parser.add_argument("--only", choices=["rnic", "dpe"])
    parser.add_argument("--landing", type=Path, help="landing millésime folder: measure every CSV source in it")
    parser.add_argument("--departements", help="with --landing: only these départements' files (75,93,13)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    postgis = PostGISResource(database_url=database_url())
    postgis.ensure_database()
    with postgis.engine.begin() as conn:
        create_all(conn)
    if args.landing:
        measure_landing(postgis, args.landing, args.departements.split(",") if args.departements else None,
                        args.workdir)
        return 0
    if args.only in (None, "rnic"):
        rnic = args.rnic
        if rnic is None:
            rnic = args.workdir / f"rnic_{args.rnic_rows}.csv"
            if not rnic.exists():
                build_rnic(rnic, args.rnic_rows)
        measure(postgis, "rnic", rnic, args.workdir)
    if args.only in (None, "dpe"):
        dpe = args.dpe
        if dpe is None:
            dpe = args.workdir / f"dpe_{args.dpe_rows}.csv"
            if not dpe.exists():
                build_dpe(dpe, args.dpe_rows)
        measure(postgis, "dpe", dpe, args.workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
