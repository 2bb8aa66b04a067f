"""UI metadata of the registry's models: the plots of `coproff.stats_fragilite` and `coproff.fragilite`.

Registered with `checks.metadata_hooks.model_metadata` (which imports this module). The audits of
these models are SQL files beside them: `dbt_like_sql/models/marts/<model>.audits/<name>.sql`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from dagster import MetadataValue
from sqlalchemy.engine import Connection

from coproff_platform import labels as L
from coproff_platform.checks.metadata_hooks import _pyplot, model_metadata, png_markdown
from coproff_platform.metadata import markdown_table
from coproff_platform.resources.postgis import split_table


@model_metadata("coproff/stats_fragilite")
def families_plot(conn: Connection, table: str, millesime: int) -> dict[str, Any]:
    schema, name = split_table(table)
    # a region and a département may share a code (11): label each territory with its level
    rows = conn.execute(sa.text(
        "select case niveau when 'france' then 'France' when 'region' then 'région ' || code_territoire "
        "else 'dép. ' || code_territoire end, famille, nb_copro, part "
        f"from {schema}.{name} where millesime = :m "
        "order by niveau = 'france' desc, niveau = 'region' desc, code_territoire, famille"), {"m": millesime}).all()
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
    return {L.FAMILLES: MetadataValue.md(table_md),
            L.GRAPHIQUE: MetadataValue.md(png_markdown(fig, f"familles de fragilité, millésime {millesime}"))}


@model_metadata("coproff/fragilite")
def signals_plot(conn: Connection, table: str, millesime: int) -> dict[str, Any]:
    schema, name = split_table(table)
    signals = [r[0] for r in conn.execute(sa.text("select code from ref.signaux_fragilite order by ordre"))]
    # a NULL signal could not be evaluated: shares are of the copropriétés where it could
    counts = conn.execute(sa.text(
        "select " + ", ".join(f"count(*) filter (where signal_{s}), count(signal_{s})" for s in signals) +
        f" from {schema}.{name} where millesime = :m"), {"m": millesime}).one()
    on, evaluable = counts[0::2], counts[1::2]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(signals, [a / (e or 1) for a, e in zip(on, evaluable)], color="#6a1b9a")
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_title(f"Part des copropriétés évaluables où le signal est allumé, millésime {millesime}", fontsize=9)
    return {L.SIGNAUX: MetadataValue.md(markdown_table(["signal", "allumé", "évaluable"],
                                                       [list(r) for r in zip(signals, on, evaluable)])),
            L.GRAPHIQUE_SIGNAUX: MetadataValue.md(png_markdown(fig, f"signaux de fragilité, millésime {millesime}"))}
