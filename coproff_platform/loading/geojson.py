"""Open cadastre (Etalab) files → `staging.cadastre_parcelle`, streamed in bounded memory.

Etalab publishes `cadastre-<commune|département>-parcelles.json.gz`: a GeoJSON FeatureCollection
written one feature per line (GeoJSON Text Sequences, one feature per line, are read too). Python
only splits the stream into features: each feature's text is COPYed as is into a temporary table,
numbered from 1 in its file (`source_line`). Parsing, typing, geometry checks and repairs are
set-based SQL (`contracts/sql/cadastre_parcelle_load.sql`): a feature that cannot be read costs
its row only (quarantined with its file, feature number, field and reason), never the file.

Compression is decided on the magic bytes, not the name: copies in the wild are often renamed.
"""

from __future__ import annotations

import gzip
import time
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform.contracts.sources import SQL_DIR, SourceSpec
from coproff_platform.loading.reader import SourceFileError, decode_line
from coproff_platform.resources.postgis import copy_rows

GZIP_MAGIC = b"\x1f\x8b"
PROGRESS_EVERY = 500_000
_COLLECTION = re.compile(r'^\s*\{\s*"type"\s*:\s*"FeatureCollection"')
_CLOSING = re.compile(r"^[\]\}\s,]*$")
_FEATURES_OPEN = '"features":['


def open_binary(path: Path):
    """The file's bytes, gunzipped when it starts with the gzip magic bytes."""
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == GZIP_MAGIC else open(path, "rb")


def features(path: Path, display: str, stats: Counter) -> Iterator[str]:
    """The text of each feature of the file, in order (the collection's wrapper lines skipped)."""
    with open_binary(path) as f:
        for i, raw in enumerate(f, 1):
            text, fallback = decode_line(raw)
            stats["lines_fallback"] += fallback
            line = text.strip().lstrip("\x1e").rstrip(",").strip()  # \x1e: GeoJSON text sequences
            if not line or _CLOSING.match(line):
                continue
            if _COLLECTION.match(line):
                start = line.find(_FEATURES_OPEN)
                rest = line[start + len(_FEATURES_OPEN):].strip() if start >= 0 else ""
                if '},{"type":"Feature"' in rest.replace(" ", ""):
                    raise SourceFileError(display, "the FeatureCollection is not written one feature per line "
                                                   "as Etalab publishes it; convert it with "
                                                   "`ogr2ogr -f GeoJSONSeq out.geojsons in.json`", i)
                line = rest.rstrip(",")
                if not line or _CLOSING.match(line):
                    continue
            # The last feature carries the collection's closing `]}`: one more closing brace than opening.
            while line.endswith("]}") and line.count("{") < line.count("}"):
                line = line[:-2].rstrip().rstrip(",")
            yield line


def _statements() -> dict[str, str]:
    """Named blocks (`-- name: <block>`) of the cadastre's load SQL."""
    text = (SQL_DIR / "cadastre_parcelle_load.sql").read_text(encoding="utf-8")
    blocks: dict[str, str] = {}
    for part in re.split(r"^-- name: ", text, flags=re.M)[1:]:
        name, _, body = part.partition("\n")
        blocks[name.strip()] = body.strip()
    return blocks


def load_geojson_files(conn: Connection, target: str, spec: SourceSpec, millesime: int, files: list[Path],
                       display: Callable[[Path], str], log: Callable[[str], None]) -> list:
    """Loads every file into the fresh table `target`; returns one `FileReport` per file."""
    from coproff_platform.loading.load import FileReport

    sql = _statements()
    for name in ("create_raw", "create_parse_function"):
        conn.execute(sa.text(sql[name]))
    reports: list[FileReport] = []
    for path in files:
        shown = display(path)
        stats: Counter = Counter()
        rep = FileReport(file=shown, variant="etalab-geojson", delimiter="", bytes=path.stat().st_size)

        def rows(path: Path = path, shown: str = shown, stats: Counter = stats, rep: FileReport = rep):
            for number, feature in enumerate(features(path, shown, stats), 1):
                rep.rows_read = number
                if number % PROGRESS_EVERY == 0:
                    log(f"{shown}: {number} features read")
                # PostgreSQL text cannot hold NUL: the feature is quarantined in SQL, not the file.
                yield shown, number, feature.replace("\x00", ""), "\x00" in feature

        copy_rows(conn, "pg_temp._cadastre_raw", ["source_file", "source_line", "feature", "has_nul"], rows())
        rep.lines_fallback = stats["lines_fallback"]
        rep.encoding = "utf-8" + (f" ({rep.lines_fallback} line(s) read with the cp1252/latin-1 fallback)"
                                  if rep.lines_fallback else "")
        reports.append(rep)
        log(f"{shown}: {rep.rows_read} features read")
    params = {"millesime": millesime, "source": spec.name}
    for name in ("no_jit", "parse", "reject_duplicates", "insert", "quarantine"):
        started = time.monotonic()
        conn.execute(sa.text(sql[name].format(table=target) if name == "insert" else sql[name]), params)
        log(f"cadastre SQL step {name}: {time.monotonic() - started:.1f} s")
    by_file = {r.file: r for r in reports}
    for source_file, reason, rejected, rows in conn.execute(sa.text(sql["counts"])):
        rep = by_file[source_file]
        if reason is None:
            rep.rows_loaded += rows
        elif rejected:
            rep.rows_quarantined += rows
            rep.reasons[reason] += rows
    for source_file, code, rows in conn.execute(sa.text(sql["flag_counts"])):
        by_file[source_file].soft[code] += rows
    return reports
