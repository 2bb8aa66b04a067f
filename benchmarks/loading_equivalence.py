"""Proof that a loader change keeps the staged rows: same landing, two code revisions, EXCEPT ALL.

    COPROFF_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coproff_stage \\
        .venv/bin/python benchmarks/loading_equivalence.py --landing /tmp/x/landing --millesime 2023 \\
        [--against main]

Loads every source of the millésime (parcels first: the RNIC post-load control reads them) with
the code of `--against` (a git revision, extracted with `git archive` into a temporary folder)
and then with the working tree, each run in its own process. After each run the millésime's
staging rows, quarantine rows and load log (without `loaded_at`) are copied into schema
`cmp_old` / `cmp_new`; then each table is compared with `EXCEPT ALL` both ways (rows as jsonb,
so geometries compare by their EWKB). Prints the counts per table and each side's load seconds;
exits 1 when any count is not 0.

`--dirty` first copies the landing and damages one data line in `--every` of each CSV file, in
turn: a field dropped, a NUL byte, a field replaced by `abc`, a Latin-1 encoded line, an
out-of-range number, an exact copy of the previous line (duplicate key), an emptied field; so
the quarantine, its reasons and details are compared too. `--kinds 2456` keeps only the value
damages: the files stay readable by the fast path (`loading.fast`), whose rejected rows then go
through the Python transformer; the full set sends every file to the Python fallback.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

from coproff_platform.config import database_url

ROOT = Path(__file__).resolve().parents[1]

# Run in the process of each revision: loads every source, then snapshots the millésime.
LOAD_ALL = r"""
import json, sys, time
from pathlib import Path
import sqlalchemy as sa
from coproff_platform.config import database_url
from coproff_platform.contracts.sources import SOURCES
from coproff_platform.loading.load import load_source, plan_source
from coproff_platform.resources.postgis import PostGISResource

landing, millesime, schema = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pg = PostGISResource(database_url=database_url())
pg.ensure_database()
order = sorted(SOURCES, key=lambda s: (s == "rnic", s))  # parcels before the RNIC post-load control
seconds = {}
for source in order:
    plan = plan_source(landing, millesime, source)
    started = time.monotonic()
    report = load_source(pg, source, millesime, plan.files, note=plan.note)
    seconds[source] = round(time.monotonic() - started, 2)
with pg.engine.begin() as conn:
    conn.execute(sa.text(f"drop schema if exists {schema} cascade; create schema {schema}"))
    for source, declared in SOURCES.items():
        conn.execute(sa.text(f"create table {schema}.{source} as select to_jsonb(t) as row "
                             f"from {declared.table.qualified} t where millesime = :m"), {"m": millesime})
    conn.execute(sa.text(f"create table {schema}.quarantine as select to_jsonb(t) as row "
                         f"from quality.quarantine t where millesime = :m"), {"m": millesime})
    conn.execute(sa.text(f"create table {schema}.load_log as select to_jsonb(t) - 'loaded_at' as row "
                         f"from quality.load_log t where millesime = :m"), {"m": millesime})
print(json.dumps(seconds))
"""


def damage(landing: Path, out: Path, every: int, kinds: frozenset[int] = frozenset(range(7))) -> Path:
    """A copy of `landing` with one line in `every` of each CSV damaged (see the module doc);
    `kinds` keeps only some damages (0 field dropped … 6 field emptied), the others leave the line."""
    shutil.copytree(landing, out)
    for path in sorted(out.rglob("*.csv")):
        lines = path.read_bytes().decode("utf-8").splitlines(keepends=True)
        delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
        damaged = [lines[0].encode("utf-8")]
        for i, line in enumerate(lines[1:], 1):
            if i % every or "\n" in line[:-1]:
                damaged.append(line.encode("utf-8"))
                continue
            fields = next(csv.reader([line], delimiter=delimiter))
            k, kind = (i // every) % len(fields), (i // every) % 7
            if kind not in kinds:
                damaged.append(line.encode("utf-8"))
                continue
            if kind == 0:
                fields = fields[:-1]
            elif kind == 1:
                fields[k] += "\x00"
            elif kind == 2:
                fields[k] = "abc"
            elif kind == 4:
                fields[k] = "99999999999"
            elif kind == 6:
                fields[k] = ""
            if kind == 5:
                damaged.append(damaged[-1])
                continue
            text = io.StringIO()
            csv.writer(text, delimiter=delimiter, lineterminator="\n").writerow(fields)
            value = text.getvalue()
            damaged.append(value.replace(fields[0], fields[0] + " Hélène", 1).encode("latin-1", "replace")
                           if kind == 3 else value.encode("utf-8"))
        path.write_bytes(b"".join(damaged))
    return out


def run(tree: Path, landing: Path, millesime: int, schema: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", LOAD_ALL, str(landing), str(millesime), schema],
                         env=env, cwd=tree, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landing", type=Path, required=True, help="landing root holding <millesime>/")
    parser.add_argument("--millesime", type=int, required=True)
    parser.add_argument("--against", default="main", help="git revision of the reference loader")
    parser.add_argument("--dirty", action="store_true", help="compare on a damaged copy of the landing")
    parser.add_argument("--every", type=int, default=37, help="with --dirty: one damaged line in EVERY")
    parser.add_argument("--kinds", default="0123456",
                        help="with --dirty: damages to apply (digits 0-6 of the module doc; e.g. 2456 keeps "
                             "every file readable by the fast path: values only, no ragged/NUL/Latin-1 line)")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory(prefix="coproff_dirty_")
    if args.dirty:
        args.landing = damage(args.landing, Path(scratch.name) / "landing", args.every,
                              frozenset(int(k) for k in args.kinds))
    with tempfile.TemporaryDirectory(prefix="coproff_old_") as old:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.against], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", old], input=archive.stdout, check=True)
        old_seconds = run(Path(old), args.landing, args.millesime, "cmp_old")
    new_seconds = run(ROOT, args.landing, args.millesime, "cmp_new")
    engine = sa.create_engine(database_url())
    bad = 0
    with engine.begin() as conn:
        names = conn.execute(sa.text(
            "select table_name from information_schema.tables where table_schema = 'cmp_new' order by 1")).scalars()
        print(f"{'table':<20} {'rows old':>9} {'rows new':>9} {'old-new':>8} {'new-old':>8}")
        for name in list(names):
            counts = conn.execute(sa.text(
                f"select (select count(*) from cmp_old.{name}), (select count(*) from cmp_new.{name}), "
                f"(select count(*) from (select row from cmp_old.{name} except all "
                f"select row from cmp_new.{name}) d), "
                f"(select count(*) from (select row from cmp_new.{name} except all "
                f"select row from cmp_old.{name}) d)")).one()
            bad += counts[2] + counts[3]
            print(f"{name:<20} {counts[0]:>9} {counts[1]:>9} {counts[2]:>8} {counts[3]:>8}")
    print(f"load seconds, {args.against}: {old_seconds}")
    print(f"load seconds, working tree: {new_seconds}")
    scratch.cleanup()
    print("same rows" if bad == 0 else f"{bad} rows differ")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
