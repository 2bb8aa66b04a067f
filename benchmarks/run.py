"""The national benchmark end to end (`make benchmark`): one whole millésime at national size.

    python -m benchmarks.run [--landing DIR] [--workdir DIR] [--database-url URL] [--no-write]

1. Reuses the national landing zone cached in `--landing` (default `$COPROFF_BENCH_LANDING`, else
   `/tmp/coproff_bench/national/landing`); generates it when its millésime folder is absent
   (`coproff sample --departements all --seed 11`, a few minutes; no registry declarations: their
   national load is measured apart by `benchmarks/declarations.py`).
2. Builds the millésime with `coproff materialize` (a separate process, like a user) into its own
   database (default: `$COPROFF_DATABASE_URL`'s name + `_bench`) and Dagster home, from a folder of
   symbolic links to the cached files (the cache is never written to). `--force` is passed when
   the CLI has it, so the first build rebuilds everything.
3. Measures each source's `psql \\copy` floor (the same files, concatenated, into an all-text
   table) and DuckDB's `read_csv` of the same RNIC files (optional extra `bench`).
4. When the CLI can skip up-to-date assets (it has `--force`): a re-run with nothing changed, then
   a re-run after one LOVAC file changed (its last row dropped, in the link folder only), each
   reported with the CLI's own summary lines.
5. Prints the figures and writes them to BENCHMARKS.md (section "National benchmark").

Sampled every second during each build: the load average, the summed RSS of the `coproff`
process tree (Dagster's run and step processes) and the summed PSS of the PostgreSQL backends
connected to the benchmark database.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MILLESIME = "2023"
SEED = 11
FLOOR_SOURCES = ("rnic", "ff_parcelle", "ff_tup", "dvf", "dpe", "lovac")
DEFAULT_LANDING = Path("/tmp/coproff_bench/national/landing")
CHANGED_SOURCE = "lovac"  # the one-source change: small, with a few models downstream
SECTION = "## National benchmark (`make benchmark`)"
RUN_ID = re.compile(r"\(run ([0-9a-f]{8}-[0-9a-f-]{27})\)")
# Lines of the CLI's summary that say what was rebuilt or skipped and why.
SUMMARY_WORDS = re.compile(r"up.to.date|skipp|rebuil|unchanged|changed|à jour|reconstru|inchang|modifi|forc", re.I)


# -- sampling memory and load ---------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _kb(pid: int, key: str, path: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_mb(pid: int) -> tuple[float, float]:
    """Summed RSS and PSS of a process and its descendants (forked step processes share pages:
    RSS counts them in each process, PSS once)."""
    todo, rss, pss = [pid], 0, 0
    while todo:
        p = todo.pop()
        rss += _kb(p, "VmRSS")
        pss += _kb(p, "Pss", "smaps_rollup")
        todo += _children(p)
    return rss / 1024, pss / 1024


def backends_pss_mb(database: str) -> float:
    """Summed PSS of the PostgreSQL backends of `database` (PSS shares shared_buffers pages fairly)."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            total += _kb(int(proc.name), "Pss", "smaps_rollup") or _kb(int(proc.name), "VmRSS")
    return total / 1024


@dataclass
class Samples:
    load: list[float] = field(default_factory=list)
    tree_mb: float = 0.0
    tree_pss_mb: float = 0.0
    backends_mb: float = 0.0


class Sampler(threading.Thread):
    def __init__(self, pid: int, database: str):
        super().__init__(daemon=True)
        self.pid, self.database, self.samples, self.stop = pid, database, Samples(), threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            s = self.samples
            s.load.append(os.getloadavg()[0])
            rss, pss = tree_mb(self.pid)
            s.tree_mb, s.tree_pss_mb = max(s.tree_mb, rss), max(s.tree_pss_mb, pss)
            s.backends_mb = max(s.backends_mb, backends_pss_mb(self.database))


# -- the builds -----------------------------------------------------------------------------------
@dataclass
class Build:
    label: str
    command: str
    rc: int
    wall: float
    samples: Samples
    run_id: str | None
    stdout: str
    largest_process_mb: float

    @property
    def summary(self) -> list[str]:
        return [line.strip() for line in self.stdout.splitlines() if SUMMARY_WORDS.search(line)]

    @property
    def load(self) -> str:
        s = self.samples.load or [os.getloadavg()[0]]
        return f"{min(s):.1f}–{max(s):.1f} (mean {sum(s) / len(s):.1f})"


def coproff(env: dict[str, str]) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "coproff")] if (ROOT / ".venv" / "bin" / "coproff").exists() else \
        [sys.executable, "-m", "coproff_platform.cli"]


def has_force(env: dict[str, str]) -> bool:
    out = subprocess.run([*coproff(env), "materialize", "--help"], env=env, capture_output=True, text=True)
    return "--force" in out.stdout


def materialize(label: str, env: dict[str, str], database: str, force: bool) -> Build:
    args = [*coproff(env), "materialize", "--millesime", MILLESIME, *(["--force"] if force else [])]
    print(f"==> {label}: {' '.join(args[-4 if force else -3:])}", flush=True)
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = Sampler(proc.pid, database)
    sampler.start()
    lines = []
    for line in proc.stdout:  # progress lines as they come
        print("   " + line.rstrip(), flush=True)
        lines.append(line)
    rc = proc.wait()
    wall = time.monotonic() - started
    sampler.stop.set()
    sampler.join()
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    stdout = "".join(lines)
    found = RUN_ID.findall(stdout)
    return Build(label, "coproff materialize --millesime " + MILLESIME + (" --force" if force else ""), rc, wall,
                 sampler.samples, found[-1] if found else None, stdout, max(largest, before) / 1024)


def step_seconds(dagster_home: Path, run_id: str) -> dict[str, float]:
    """Seconds per step of a run, from the instance's event log (start → success or failure)."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    from dagster import DagsterEventType, DagsterInstance

    instance = DagsterInstance.get()
    starts: dict[str, float] = {}
    out: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            out[event.step_key] = entry.timestamp - starts.get(event.step_key, entry.timestamp)
    return out


# -- floors ---------------------------------------------------------------------------------------
def source_files(landing: Path, source: str) -> list[Path]:
    from coproff_platform.contracts.sources import SOURCES
    from coproff_platform.resources.landing import LandingZone

    spec = SOURCES[source]
    return LandingZone(path=str(landing)).files(MILLESIME, spec.folder, spec.patterns)


def _dialect(path: Path) -> tuple[str, int, str]:
    """Delimiter, number of columns and encoding of a delimited text file."""
    with open(path, "rb") as f:
        head = f.readline()
    try:
        text, encoding = head.decode("utf-8-sig"), "UTF8"
    except UnicodeDecodeError:
        text, encoding = head.decode("latin-1"), "LATIN1"
    delimiter = max(",;|\t", key=text.count)
    return delimiter, len(next(csv.reader([text], delimiter=delimiter))), encoding


def psql_floor(url: str, paths: list[Path], table: str, workdir: Path) -> float:
    """Seconds for one psql `\\copy` of the files (concatenated beforehand, header once) into an
    all-text table without indexes: what reading the bytes into PostgreSQL costs at least."""
    from sqlalchemy.engine import make_url

    from benchmarks.loading import concatenate

    delimiter, width, encoding = _dialect(paths[0])
    u = make_url(url)
    conninfo = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres", "-d", u.database]
    cols = ", ".join(f"c{i} text" for i in range(width))
    psql = ["psql", *conninfo, "-q", "-v", "ON_ERROR_STOP=1", "-c"]
    quiet = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}  # no "does not exist, skipping"
    subprocess.run([*psql, f"create schema if not exists bench; drop table if exists bench.{table}; "
                            f"create table bench.{table} ({cols});"], check=True, env=quiet)
    path = paths[0] if len(paths) == 1 else concatenate(paths, workdir / f"{table}_concat.txt")
    sep = "E'\\t'" if delimiter == "\t" else f"'{delimiter}'"
    started = time.monotonic()
    subprocess.run([*psql, f"\\copy bench.{table} from '{path}' with (format csv, header true, delimiter {sep}, "
                           f"encoding '{encoding}')"], check=True, env=quiet)
    seconds = time.monotonic() - started
    subprocess.run([*psql, f"drop table bench.{table}"], check=True, env=quiet)
    if path != paths[0]:
        path.unlink()
    return seconds


def duckdb_read_csv(paths: list[Path]) -> tuple[float, int] | None:
    """Seconds and rows of DuckDB's `read_csv` of the files as text (None without the `bench` extra)."""
    try:
        import duckdb
    except ImportError:
        return None
    con = duckdb.connect()
    started = time.monotonic()
    rows = con.execute("select count(*) from read_csv(?, all_varchar = true, header = true)",
                       [[str(p) for p in paths]]).fetchone()[0]
    return time.monotonic() - started, rows


# -- landing --------------------------------------------------------------------------------------
def ensure_landing(landing: Path, env: dict[str, str]) -> None:
    if (landing / MILLESIME).is_dir():
        print(f"==> reusing the national landing {landing / MILLESIME}", flush=True)
        return
    truth = landing.parent / "truth"
    print(f"==> generating the national landing into {landing} (seed {SEED}, every département)", flush=True)
    subprocess.run([*coproff(env), "sample", "--millesime", MILLESIME, "--departements", "all", "--seed", str(SEED),
                    "--landing", str(landing), "--truth", str(truth), "--jobs", "2"], env=env, check=True)


def link_landing(cache: Path, links: Path) -> None:
    """`links/<millesime>/...` mirrors the cache with symbolic links (rebuilt each time)."""
    if links.exists():
        shutil.rmtree(links)
    for path in sorted((cache / MILLESIME).rglob("*")):
        target = links / path.relative_to(cache)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path.resolve())


def change_one_source(links: Path) -> Path:
    """Replaces the link to the last LOVAC file by a copy without its last row."""
    path = source_files(links, CHANGED_SOURCE)[-1]
    data = path.read_bytes().rstrip(b"\r\n")
    path.unlink()
    path.write_bytes(data[: data.rfind(b"\n") + 1])
    return path


# -- report ---------------------------------------------------------------------------------------
def fmt_steps(steps: dict[str, float], limit: int = 25) -> list[str]:
    lines = ["| step | s |", "|---|---:|"]
    ordered = sorted(steps.items(), key=lambda kv: -kv[1])
    for key, seconds in ordered[:limit]:
        lines.append(f"| {key.replace('__', '/')} | {seconds:.1f} |")
    rest = ordered[limit:]
    if rest:
        lines.append(f"| {len(rest)} other steps | {sum(s for _, s in rest):.1f} |")
    lines.append(f"| **sum of the steps** ({len(steps)}) | **{sum(steps.values()):.1f}** |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--landing", type=Path, default=Path(os.environ.get(
        "COPROFF_BENCH_LANDING", DEFAULT_LANDING)), help="cached national landing zone")
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get(
        "COPROFF_BENCH_WORKDIR", "/tmp/coproff_bench/work")), help="links, Dagster home, exports, concatenated files")
    parser.add_argument("--database-url", default=os.environ.get("COPROFF_BENCH_DATABASE_URL"),
                        help="benchmark database (default: $COPROFF_DATABASE_URL's database + '_bench')")
    parser.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    parser.add_argument("--no-rerun", action="store_true", help="skip the no-change and one-source re-runs")
    args = parser.parse_args()
    from sqlalchemy.engine import make_url

    base = os.environ.get("COPROFF_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/coproff")
    url = args.database_url or make_url(base).set(database=make_url(base).database + "_bench").render_as_string(False)
    database = make_url(url).database
    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    links = workdir / "landing"
    env = {**os.environ, "COPROFF_DATABASE_URL": url, "COPROFF_LANDING_DIR": str(links),
           "DAGSTER_HOME": str(workdir / "dagster_home"), "COPROFF_EXPORT_DIR": str(workdir / "exports"),
           # the generated landing's own truth (else the caller's, e.g. the default sample's, would be
           # scored against the national build); absent for a landing of real data: no evaluation
           "COPROFF_TRUTH_DIR": str(args.landing.parent / "truth")}
    started_at = dt.datetime.now(dt.timezone.utc)
    load_start = os.getloadavg()
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure_postgis.sh")], env=env, check=True)
    ensure_landing(args.landing, env)
    link_landing(args.landing, links)
    force = has_force(env)
    builds = [materialize("national build", env, database, force)]
    first = builds[0]
    steps = step_seconds(workdir / "dagster_home", first.run_id) if first.run_id else {}
    print("==> floors: psql \\copy of the same files, then DuckDB read_csv of the RNIC files", flush=True)
    floors = {}
    for source in FLOOR_SOURCES:
        paths = source_files(links, source)
        if paths:
            floors[source] = (psql_floor(url, paths, source, workdir), steps.get(f"staging__{source}"))
    duck = duckdb_read_csv(source_files(links, "rnic"))
    if force and first.rc == 0 and not args.no_rerun:
        builds.append(materialize("re-run, nothing changed", env, database, force=False))
        changed = change_one_source(links)
        builds.append(materialize(f"re-run, one {CHANGED_SOURCE} file changed ({changed.name}: last row dropped)",
                                  env, database, force=False))

    lines = [SECTION, "",
             f"One `make benchmark` run, {started_at:%Y-%m-%d %H:%M} UTC, on {os.cpu_count()} cores; load average "
             f"at the start {load_start[0]:.1f} / {load_start[1]:.1f} / {load_start[2]:.1f} (1/5/15 min). "
             f"Landing: {args.landing}"
             f"{f' (seed {SEED}, every département)' if args.landing == DEFAULT_LANDING else ''}, "
             f"database {database}.", "", "```",
             f"COPROFF_BENCH_LANDING={args.landing} make benchmark    # python -m benchmarks.run", "```", "",
             "| build | exit | wall | load average (1 min) during the build | coproff process tree peak RSS / PSS | "
             "largest process peak RSS | PostgreSQL backends peak PSS |", "|---|---|---:|---|---:|---:|---:|"]
    for b in builds:
        lines.append(f"| {b.label} | {b.rc} | {b.wall:.1f} s | {b.load} | {b.samples.tree_mb:.0f} / {b.samples.tree_pss_mb:.0f} MB | "
                     f"{b.largest_process_mb:.0f} MB | {b.samples.backends_mb:.0f} MB |")
    lines += ["", "Steps of the national build (Dagster event log, start → success; steps overlap when they "
              "run concurrently, so their sum exceeds the wall time):", "", *fmt_steps(steps), ""]
    lines += ["Each source's step (load, controls, quarantine, swap) against its `psql \\copy` floor, measured "
              "in the same run right after the build:", "",
              "| source | files | step | `psql \\copy` floor | step / floor |", "|---|---:|---:|---:|---:|"]
    for source, (floor, step) in floors.items():
        ratio = f"{step / floor:.1f}×" if step else "–"
        lines.append(f"| {source} | {len(source_files(links, source))} | {f'{step:.1f} s' if step else '–'} | "
                     f"{floor:.1f} s | {ratio} |")
    lines.append("")
    if duck:
        lines.append(f"DuckDB `read_csv` (all columns as text) of the same RNIC files: {duck[0]:.1f} s, {duck[1]:,} rows.")
    else:
        lines.append("DuckDB not installed: `pip install -e '.[bench]'` for its `read_csv` figure.")
    for b in builds[1:]:
        lines += ["", f"{b.label}: {b.wall:.1f} s, exit {b.rc}; the CLI's summary says:", "", "```",
                  *(b.summary or ["(no line about what was skipped or rebuilt)"]), "```"]
    if len(builds) == 1:
        lines += ["", "Re-runs not measured: " + ("`coproff materialize` has no `--force` here (no incremental "
                  "rebuilds in this version)." if not force else "the first build failed or `--no-rerun` was given.")]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", text)
        print("written to BENCHMARKS.md")
    return 0 if all(b.rc == 0 for b in builds) else 1


def write_section(path: Path, text: str) -> None:
    """Replaces the section of a previous run (up to the next `## ` heading) or appends it."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = old.find(SECTION)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + ("\n" + old[end + 1:] if end >= 0 else "")
    path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
