"""Audits and UI metadata of the registry's models (registre, fragilite, stats_fragilite).

Each audit is a SQL file of `registre/audits/` (`<model>__<rule>.sql`) returning the offending
rows; the first comment line says whether it blocks, a `-- description:` line gives the French
description shown in the UI. The thin functions below register them with
the platform's audit runner (`checks.audits`), and the statistics model gets its plots
(`checks.metadata_hooks`). Imported through `checks.audits.AUDIT_MODULES`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import MetadataValue
from sqlalchemy.engine import Connection

from coproff_platform.checks.audits import AuditResult, audit
from coproff_platform.checks.metadata_hooks import _pyplot, model_metadata, png_markdown
from coproff_platform.metadata import markdown_table
from coproff_platform.resources.postgis import split_table

AUDIT_DIR = Path(__file__).resolve().parent / "audits"
SAMPLE_SIZE = 20


def _register(path: Path) -> None:
    model, rule = path.stem.split("__", 1)
    first = path.read_text(encoding="utf-8").splitlines()[0]
    blocking = first.lstrip("- ").lower().startswith("blocking")
    sql = path.read_text(encoding="utf-8")

    def run(conn: Connection, table: str, millesime: int) -> AuditResult:
        schema, name = split_table(table)
        result = conn.execute(sa.text(sql.replace("{table}", f"{schema}.{name}")), {"m": millesime})
        cols, rows = list(result.keys()), result.all()
        meta: dict[str, Any] = {"nb_lignes_en_echec": len(rows), "sql": MetadataValue.md(f"```sql\n{sql}\n```")}
        if rows:
            meta["exemples"] = MetadataValue.md(markdown_table(cols, [list(r) for r in rows[:SAMPLE_SIZE]]))
        return AuditResult(passed=not rows, metadata=meta)

    run.__name__ = rule
    # The check's description shown in the UI: the file's French `-- description:` line.
    described = [line.split(":", 1)[1].strip() for line in sql.splitlines() if line.startswith("-- description:")]
    run.__doc__ = described[0] if described else first
    audit(f"coproff/{model}", blocking=blocking, name=rule)(run)


for _path in sorted(AUDIT_DIR.glob("*__*.sql")):
    _register(_path)


@model_metadata("coproff/stats_fragilite")
def families_plot(conn: Connection, table: str, millesime: int) -> dict[str, Any]:
    schema, name = split_table(table)
    rows = conn.execute(sa.text(
        f"select code_territoire, famille, nb_copro, part from {schema}.{name} "
        "where millesime = :m order by code_territoire = 'france' desc, code_territoire, famille"), {"m": millesime}).all()
    territories = list(dict.fromkeys(r[0] for r in rows))
    families = list(dict.fromkeys(r[1] for r in rows))
    share = {(r[0], r[1]): float(r[3] or 0) for r in rows}
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.35 * len(territories)))
    colours = ["#2e7d32", "#f9a825", "#ef6c00", "#c62828"]
    left = [0.0] * len(territories)
    for i, fam in enumerate(families):
        vals = [share.get((t, fam), 0.0) for t in territories]
        ax.barh(territories, vals, left=left, color=colours[i % len(colours)], label=f"famille {fam}")
        left = [a + b for a, b in zip(left, vals)]
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_title(f"Familles de fragilité par territoire, millésime {millesime}")
    ax.legend(fontsize=7, ncol=len(families), loc="lower center", bbox_to_anchor=(0.5, -0.35))
    table_md = markdown_table(["territoire", "famille", "copropriétés", "part"],
                              [[t, f, nb, f"{float(p or 0):.1%}"] for t, f, nb, p in rows[:60]])
    return {"familles": MetadataValue.md(table_md), "plot": MetadataValue.md(png_markdown(fig, "familles de fragilité"))}


@model_metadata("coproff/fragilite")
def signals_plot(conn: Connection, table: str, millesime: int) -> dict[str, Any]:
    schema, name = split_table(table)
    signals = [r[0] for r in conn.execute(sa.text("select code from ref.signaux_fragilite order by ordre"))]
    counts = conn.execute(sa.text(
        "select " + ", ".join(f"count(*) filter (where signal_{s})" for s in signals) +
        f", count(*) from {schema}.{name} where millesime = :m"), {"m": millesime}).one()
    total = counts[-1] or 1
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(signals, [c / total for c in counts[:-1]], color="#6a1b9a")
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_title("Part des copropriétés par signal allumé")
    return {"signaux": MetadataValue.md(markdown_table(["signal", "copropriétés"], list(zip(signals, counts[:-1])))),
            "plot_signaux": MetadataValue.md(png_markdown(fig, "signaux de fragilité"))}
