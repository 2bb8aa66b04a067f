"""The tables each SQL file reads, cached on disk by content.

Parsing the models and their audits with sqlglot was about half of every code-location load
(each CLI call, each Definitions load, each run's step process). What the loader keeps from a
parse is small: the tables a query reads. This cache keeps that list per query text in one JSON
file under `$XDG_CACHE_HOME/coproff/` (default `~/.cache/coproff/`).

Key: sha256 of sqlglot's version, this cache's format, what was read (model scopes or audit
tables) and the SQL text itself, so an edited file, a sqlglot upgrade or a change of the reading
rule is a miss. Only successful reads are stored: a file that does not parse, or breaks a rule,
is parsed again on every load and fails with the same error naming the file. A missing, unreadable
or unwritable cache is only a miss; concurrent writers replace the file atomically (the last one
wins, the other's entries are parsed again next time).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import sqlglot

FORMAT = 1  # bump when what is stored, or how a key is made, changes
MAX_ENTRIES = 2000  # several worktrees or releases may share the file; the oldest go first
FILE_NAME = "sql_tables.json"

_memo: dict[Path, dict[str, list[str]]] = {}


def cache_file() -> Path:
    """Read at each call, so a test (or a user) can point XDG_CACHE_HOME elsewhere."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "coproff" / FILE_NAME


def key(kind: str, sql: str) -> str:
    return hashlib.sha256(f"{sqlglot.__version__}\0{FORMAT}\0{kind}\0{sql}".encode()).hexdigest()


def _entries(path: Path) -> dict[str, list[str]]:
    if path not in _memo:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            entries = raw if isinstance(raw, dict) else {}
        except (OSError, ValueError):
            entries = {}
        _memo[path] = {k: v for k, v in entries.items() if isinstance(v, list)}
    return _memo[path]


def _write(path: Path, entries: dict[str, list[str]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(entries, out)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: parse every time


def tables_read(kind: str, sql: str, parse: Callable[[str], Iterable[str]]) -> tuple[str, ...]:
    """The sorted tables `parse(sql)` returns, from the cache when this exact text was read
    before by this sqlglot; `parse` raises for an invalid file (nothing is stored then)."""
    path = cache_file()
    entries = _entries(path)
    k = key(kind, sql)
    if k in entries:
        return tuple(entries[k])
    tables = sorted(parse(sql))
    entries[k] = tables
    while len(entries) > MAX_ENTRIES:
        del entries[next(iter(entries))]
    _write(path, entries)
    return tuple(tables)
