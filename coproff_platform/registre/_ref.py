"""Rows of the reference layer (`dbt_like_sql/reference/*.csv`) read by the registry's controls.

The reference accessor of the platform (`coproff_platform.reference`) is being written in parallel;
until it lands, this reads the same CSV files with the same calls (`table`, `parameter`), so the
controls never re-type a code list or a threshold. At merge, these two functions delegate to it.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql" / "reference"


@functools.cache
def table(name: str) -> tuple[dict[str, str], ...]:
    with (REFERENCE_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


@functools.cache
def parameter(code: str) -> float | str:
    """A row of `parametres.csv`: a number when it reads as one, else the text (dates)."""
    for row in table("parametres"):
        if row["code"] == code:
            try:
                return float(row["valeur"])
            except ValueError:
                return row["valeur"]
    raise KeyError(f"parameter {code!r} is not in {REFERENCE_DIR / 'parametres.csv'}")


# Tables of the reference layer the registry's models read. Until the reference assets (`ref/<table>`)
# are merged, `ensure_tables` creates the missing ones from their CSV and yml (types, primary key),
# and never touches a table that exists: the reference assets own them.
MODEL_TABLES = ("parametres", "etiquettes_dpe", "mandats", "periodes_construction", "signaux_fragilite",
                "familles_fragilite", "controles_declaration")


def ensure_tables(conn, names: tuple[str, ...] = MODEL_TABLES) -> list[str]:
    """Creates and fills `ref.<name>` for each missing table; returns the names created."""
    import sqlalchemy as sa
    import yaml

    from coproff_platform.resources.postgis import copy_rows

    created = []
    conn.execute(sa.text("create schema if not exists ref"))
    for name in names:
        if conn.execute(sa.text("select to_regclass(:t)"), {"t": f"ref.{name}"}).scalar():
            continue
        doc = yaml.safe_load((REFERENCE_DIR / f"{name}.yml").read_text(encoding="utf-8"))
        cols = [(c["name"], c.get("data_type") or "text") for c in doc["columns"]]
        pk = f", primary key ({', '.join(doc['primary_key'])})" if doc.get("primary_key") else ""
        conn.execute(sa.text(f"create table ref.{name} ({', '.join(f'{c} {t}' for c, t in cols)}{pk})"))
        copy_rows(conn, f"ref.{name}", [c for c, _ in cols],
                  ([row[c] if row[c] != "" else None for c, _ in cols] for row in table(name)))
        created.append(name)
    return created
