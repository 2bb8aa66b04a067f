"""The public views of schema coproff: `<table>_dernier` (latest published millésime of every
published table) and `coproff_<millesime>` (one per published millésime of the referential).

A view freezes its column list when it is created, so a view is (re)created only when it is
missing or its columns no longer match its table's: DROP VIEW needs an ACCESS EXCLUSIVE lock,
which would make readers of the view wait. Republishing an unchanged millésime touches no view.
Each view carries the comments of its table (table and columns).

QGIS opens a view only with a key column it can check unique, and takes the first column when
nobody chooses one (its browser proposes the view's columns in order). So every view starts with
a single-column key unique within one millésime: the primary key's column other than
`millesime` (`idcopro` for the referential), `millesime` itself for a table with one row per
millésime, or a column `cle` joining the key's columns with `/` when the key has several.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform.publish.catalog import MAIN_TABLE, SCHEMA, PublishedTable
from coproff_platform.publish.registry import REGISTRY
from coproff_platform.resources.postgis import ident, literal


def latest_view(table: str) -> str:
    return f"{table}_dernier"


def millesime_view(millesime: int) -> str:
    return f"{MAIN_TABLE}_{int(millesime)}"


def _columns(conn: Connection, relation: str) -> list[str]:
    return list(conn.execute(
        sa.text("select attname::text from pg_attribute where attrelid = to_regclass(:r) "
                "and attnum > 0 and not attisdropped order by attnum"),
        {"r": relation},
    ).scalars())


def _existing_views(conn: Connection) -> set[str]:
    return set(conn.execute(
        sa.text("select viewname::text from pg_views where schemaname = :s "
                "and (viewname like '%\\_dernier' or viewname ~ '^coproff_[0-9]{4}$')"),
        {"s": SCHEMA},
    ).scalars())


KEY_COLUMN = "cle"
KEY_COMMENT = ("Clé unique de la ligne dans le millésime ({columns} joints par « / ») : identifiant "
               "des entités pour QGIS")


def primary_key(conn: Connection, table: PublishedTable) -> list[str]:
    """The table's primary key columns, in key order (from the model's dictionary via the runner)."""
    return list(conn.execute(
        sa.text("select a.attname::text from pg_constraint c "
                "cross join lateral unnest(c.conkey) with ordinality as k(attnum, pos) "
                "join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum "
                "where c.conrelid = to_regclass(:t) and c.contype = 'p' order by k.pos"),
        {"t": table.qualified},
    ).scalars())


def view_select(conn: Connection, table: PublishedTable) -> tuple[str, list[str], str | None]:
    """(select list, column names, comment of a synthetic key column or None): the key first."""
    key = primary_key(conn, table)
    within = [c for c in key if c != "millesime"] or (["millesime"] if key else [])
    if len(within) == 1:
        first = within[0]
        names = [first] + [c for c in table.columns if c != first]
        return ", ".join(ident(c) for c in names), names, None
    if len(within) > 1 and KEY_COLUMN not in table.columns:
        expr = "concat_ws('/', " + ", ".join(f"{ident(c)}::text" for c in within) + f") as {KEY_COLUMN}"
        names = [KEY_COLUMN, *table.columns]
        return ", ".join([expr, *(ident(c) for c in table.columns)]), names, KEY_COMMENT.format(columns=", ".join(within))
    return ", ".join(ident(c) for c in table.columns), list(table.columns), None


def _copy_comments(conn: Connection, source: str, view: str, table_comment: str, key_comment: str | None) -> None:
    conn.execute(sa.text(f"comment on view {SCHEMA}.{ident(view)} is {literal(table_comment)}"))
    if key_comment:
        conn.execute(sa.text(f"comment on column {SCHEMA}.{ident(view)}.{KEY_COLUMN} is {literal(key_comment)}"))
    for name, comment in conn.execute(
        sa.text(
            "select a.attname, col_description(a.attrelid, a.attnum) from pg_attribute a "
            "where a.attrelid = to_regclass(:t) and a.attnum > 0 and not a.attisdropped"
        ),
        {"t": f"{SCHEMA}.{source}"},
    ).all():
        if comment:
            conn.execute(sa.text(f"comment on column {SCHEMA}.{ident(view)}.{ident(name)} is {literal(comment)}"))


def _ensure_view(conn: Connection, table: PublishedTable, view: str, where: str, comment: str,
                 existing: set[str]) -> str | None:
    """Creates `view` over `table` when missing or stale; returns what it did (None: untouched)."""
    qualified = f"{SCHEMA}.{ident(view)}"
    select, names, key_comment = view_select(conn, table)
    done = None
    if view in existing:
        if _columns(conn, qualified) == names:
            # Comments may have changed with the dictionary: COMMENT takes no lock readers wait on.
            _copy_comments(conn, table.name, view, comment, key_comment)
            return None
        conn.execute(sa.text(f"drop view {qualified}"))
        done = f"recreated {qualified}"
    conn.execute(sa.text(f"create view {qualified} as select {select} from {table.qualified} where {where}"))
    _copy_comments(conn, table.name, view, comment, key_comment)
    return done or f"created {qualified}"


def ensure_views(conn: Connection, tables: list[PublishedTable], millesimes: list[int]) -> tuple[list[str], list[str]]:
    """Brings the views in line with the published tables and millésimes.

    Returns (every public view, what changed)."""
    existing = _existing_views(conn)
    views: list[str] = []
    changes: list[str] = []
    wanted: set[str] = set()
    for t in tables:
        view = latest_view(t.name)
        wanted.add(view)
        change = _ensure_view(conn, t, view, f"millesime = (select max(millesime) from {REGISTRY})",
                              f"{t.qualified} du dernier millésime publié complet", existing)
        changes += [change] if change else []
        views.append(f"{SCHEMA}.{view}")
    main = next((t for t in tables if t.name == MAIN_TABLE), None)
    if main is not None:
        for millesime in millesimes:
            view = millesime_view(millesime)
            wanted.add(view)
            change = _ensure_view(conn, main, view, f"millesime = {int(millesime)}",
                                  f"Référentiel CoproFF, millésime {int(millesime)}", existing)
            changes += [change] if change else []
            views.append(f"{SCHEMA}.{view}")
    for stale in sorted(existing - wanted):
        conn.execute(sa.text(f"drop view {SCHEMA}.{ident(stale)}"))
        changes.append(f"dropped {SCHEMA}.{stale}")
    return views, changes
