"""Benchmark: time and peak memory of a national-size sample generation.

Runs `coproff sample` in a child process (so the figure is the generator's own peak RSS, read with
`resource.getrusage(RUSAGE_CHILDREN)`), into a temporary folder that is removed afterwards, and
prints wall time, peak RSS, rows written per source and bytes on disk.

    python -m benchmarks.generator                      # ~908,579 copropriétés, every département
    python -m benchmarks.generator --departements 75,93,974 --copros 4000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its descendants, from /proc (Linux)."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departements", default="all")
    parser.add_argument("--copros", type=int, default=None, help="default: national size (908,579) with 'all'")
    parser.add_argument("--millesime", type=int, default=2023)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=1, help="passed to coproff sample --jobs")
    parser.add_argument("--keep", type=Path, default=None, help="write here and keep the files")
    args = parser.parse_args(argv)

    root = args.keep or Path(tempfile.mkdtemp(prefix="coproff-genbench-"))
    cmd = [sys.executable, "-m", "coproff_platform.cli", "sample", "--millesime", str(args.millesime),
           "--departements", args.departements, "--seed", str(args.seed),
           "--landing", str(root / "landing"), "--truth", str(root / "truth")]
    if args.copros is not None:
        cmd += ["--copros", str(args.copros)]
    if args.jobs > 1:
        cmd += ["--jobs", str(args.jobs)]
    print("command: coproff " + " ".join(cmd[3:]), flush=True)
    t0 = time.perf_counter()
    out_path = root / "generator.log"
    root.mkdir(parents=True, exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as log_file:
        child = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, text=True)
        tree_peak_kb = 0
        while child.poll() is None:
            tree_peak_kb = max(tree_peak_kb, _tree_rss_kb(child.pid))
            time.sleep(0.5)
    wall = time.perf_counter() - t0
    proc = subprocess.CompletedProcess(cmd, child.returncode, out_path.read_text(encoding="utf-8"))
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    lines = proc.stdout.splitlines()
    print("\n".join(lines[-4:]))
    if proc.returncode != 0:
        print(proc.stdout, file=sys.stderr)
        return proc.returncode
    planted = json.loads((root / "truth" / str(args.millesime) / "planted.json").read_text(encoding="utf-8"))
    size = sum(f.stat().st_size for f in (root / "landing").rglob("*") if f.is_file())
    layout = planted.get("layout", {})
    overflow = {d: e["overflow_m"] for d, e in layout.items() if e["overflow_m"] > 0}
    overlaps = []  # parcels of two départements sharing ground would break matching
    codes = list(layout)
    for i, a in enumerate(codes):
        for b in codes[i + 1:]:
            ea, eb = layout[a], layout[b]
            ra, rb = ea["extent_local"], eb["extent_local"]
            if ea["srid"] == eb["srid"] and min(ra[2], rb[2]) > max(ra[0], rb[0]) and min(ra[3], rb[3]) > max(ra[1], rb[1]):
                overlaps.append((a, b))
    print(f"copropriétés (referential rows): {planted['rows_total']:,}")
    print(f"situations: {planted['situation_shares']}")
    print("rows written: " + ", ".join(f"{k} {v:,}" for k, v in planted["files"].items()))
    print(f"landing size: {size / 1e9:.2f} GB")
    print(f"wall time: {wall:.1f} s")
    print(f"peak RSS, largest single process (getrusage): {peak_kb / 1024:.0f} MB")
    print(f"peak RSS, whole process tree (sampled every 0.5 s): {tree_peak_kb / 1024:.0f} MB")
    print(f"CPU count: {os.cpu_count()}, load average before end: {os.getloadavg()[0]:.1f}")
    print(f"départements laid out past their box: {overflow or 'none'}")
    print(f"départements whose parcels' extents overlap: {overlaps or 'none'}")
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
