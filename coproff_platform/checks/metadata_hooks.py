"""Model-specific Dagster metadata: Markdown tables and plots of the statistics models.

A hook computes extra metadata for one model asset from the freshly built millésime:

    @model_metadata("coproff/stats_ecart_logements")
    def ecart(conn: Connection, table: str, millesime: int) -> dict[str, MetadataValue]: ...

`metadata_for(asset, conn, table, millesime)` returns the merged metadata of the hooks registered
on `asset` ({} when none). The model runner calls it after the audits, on the same connection and
fresh table, and adds the result to the materialization's metadata. A hook that raises does not
fail the build: its error is reported as metadata instead.

Plots are PNG images embedded in Markdown (`![..](data:image/png;base64,..)`): the Dagster UI
renders them (its Markdown sanitizer allows `data:` image sources) once `[Show Markdown]` is
clicked, as it folds every Markdown entry over 1,000 characters. Each plot shows one millésime,
named in its title. matplotlib runs headless (Agg).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from dagster import MetadataValue
from sqlalchemy.engine import Connection

from coproff_platform import labels as L
from coproff_platform import reference
from coproff_platform.metadata import markdown_table
from coproff_platform.resources.postgis import split_table

MetadataHook = Callable[[Connection, str, int], dict[str, Any]]
_HOOKS: dict[str, list[MetadataHook]] = {}

# Documented national CoproFF figures (2023), shown beside the millésime's values: the reference
# layer's classes_ecart_logements.part_coproff_2023 and parametres.coherence_construction_coproff_2023.
GAP_REFERENCE: dict[str, float] = {
    c.libelle: c.part_coproff_2023 for c in reference.gap_classes() if c.part_coproff_2023 is not None
}
COHERENCE_REFERENCE: float = reference.parameter("coherence_construction_coproff_2023")
# The situations of the referential, in their documented order (columns nb_<code> of stats_situations).
SITUATIONS: tuple[str, ...] = tuple(r.code for r in sorted(reference.table("situations"), key=lambda r: r.ordre))
MAX_MARKDOWN_ROWS = 30


def model_metadata(asset: str) -> Callable[[MetadataHook], MetadataHook]:
    def register(fn: MetadataHook) -> MetadataHook:
        _HOOKS.setdefault(asset, []).append(fn)
        return fn

    return register


def metadata_for(asset: str, conn: Connection, table: str, millesime: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for hook in _HOOKS.get(asset, []):
        try:
            with conn.begin_nested():
                out.update(hook(conn, table, millesime))
        except Exception as exc:  # metadata must never block a build
            out[f"{L.ERREUR}_{hook.__name__}"] = f"{type(exc).__name__}: {exc}"
    return out


# -- rendering ------------------------------------------------------------------------------------

def png_markdown(fig, title: str) -> str:
    """A matplotlib figure as a Markdown image with an embedded PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"![{title}](data:image/png;base64,{data})"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _rows(conn: Connection, sql: str, millesime: int) -> tuple[list[str], list[sa.Row]]:
    result = conn.execute(sa.text(sql), {"m": millesime})
    return list(result.keys()), list(result.all())


def _q(table: str) -> str:
    schema, name = split_table(table)
    return f"{schema}.{name}"


def _pct(v: Any) -> str:
    return "" if v is None else f"{float(v):.1%}"


# -- the statistics models ------------------------------------------------------------------------

@model_metadata("coproff/stats_ecart_logements")
def gap_classes(conn: Connection, table: str, millesime: int) -> dict[str, Any]:
    _, rows = _rows(conn, f"select classe, nb, part, part_renseignes from {_q(table)} "
                          "where millesime = :m order by ordre", millesime)
    md = markdown_table(
        ["classe", "nb", "part", "part des renseignés", "référence nationale 2023"],
        [(c, nb, _pct(p), _pct(pr), _pct(GAP_REFERENCE.get(c))) for c, nb, p, pr in rows],
    )
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    shown = [r for r in rows if r[0] in GAP_REFERENCE]
    xs = range(len(shown))
    ax.bar([x - 0.2 for x in xs], [float(r[3] or 0) for r in shown], width=0.4, label=f"millésime {millesime}")
    ax.bar([x + 0.2 for x in xs], [GAP_REFERENCE[r[0]] for r in shown], width=0.4, label="CoproFF 2023")
    ax.set_xticks(list(xs), [r[0] for r in shown], rotation=30, ha="right", fontsize=8)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_title(f"Écart logements FF / lots d'habitation RNIC, millésime {millesime}")
    ax.legend(fontsize=8)
    return {L.CLASSES: MetadataValue.md(md),
            L.GRAPHIQUE: MetadataValue.md(png_markdown(fig, f"écart logements, millésime {millesime}"))}


@model_metadata("coproff/stats_coherence_construction")
def construction_coherence(conn: Connection, table: str, millesime: int) -> dict[str, Any]:
    _, rows = _rows(conn, f"select coherence_construction, nb, part, taux from {_q(table)} "
                          "where millesime = :m order by ordre", millesime)
    rate = next((float(t) for c, _, _, t in rows if c == "coherent" and t is not None), None)
    md = markdown_table(["cohérence", "nb", "part", "taux (comparables)"],
                        [(c, nb, _pct(p), _pct(t)) for c, nb, p, t in rows])
    md += f"\n\nRéférence nationale CoproFF 2023 : ~{COHERENCE_REFERENCE:.0%} de cohérentes."
    meta: dict[str, Any] = {L.CLASSES: MetadataValue.md(md)}
    if rate is not None:
        meta[L.TAUX_COHERENCE] = round(rate, 4)
    return meta


@model_metadata("coproff/stats_situations")
def situations(conn: Connection, table: str, millesime: int) -> dict[str, Any]:
    cols = ["code_territoire", "nb_copro", *(f"nb_{code}" for code in SITUATIONS), "nb_tup_sans_copro_ff"]
    _, france = _rows(conn, f"select {', '.join(cols)} from {_q(table)} "
                            "where millesime = :m and niveau = 'france'", millesime)
    _, deps = _rows(conn, f"select {', '.join(cols)} from {_q(table)} where millesime = :m "
                          f"and niveau = 'departement' order by nb_copro desc limit {MAX_MARKDOWN_ROWS}", millesime)
    header = ["territoire", "copropriétés", *SITUATIONS, "tup_sans_copro_ff"]
    md = markdown_table(header, [*france, *deps])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    labels = [r[0] for r in [*france, *deps]]
    bottoms = [0.0] * len(labels)
    for i, name in enumerate(SITUATIONS):
        shares = [float(r[2 + i]) / r[1] if r[1] else 0.0 for r in [*france, *deps]]
        ax.bar(labels, shares, bottom=bottoms, label=name)
        bottoms = [b + s for b, s in zip(bottoms, shares)]
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_title(f"Situations des copropriétés, millésime {millesime}")
    ax.legend(fontsize=7, ncol=4, loc="lower center", bbox_to_anchor=(0.5, -0.35))
    return {L.SITUATIONS: MetadataValue.md(md),
            L.GRAPHIQUE: MetadataValue.md(png_markdown(fig, f"situations, millésime {millesime}"))}


@model_metadata("coproff/stats_immatriculation_alur")
def alur(conn: Connection, table: str, millesime: int) -> dict[str, Any]:
    _, rows = _rows(conn, f"select classe_taille, date_limite_immatriculation, delai_echu, nb_immatriculees, "
                          f"nb_ff_seules, taux_immatriculation from {_q(table)} where millesime = :m order by ordre",
                    millesime)
    md = markdown_table(["taille", "date limite", "délai échu", "immatriculées", "FF seules", "taux"],
                        [(c, d, "oui" if e else ("non" if e is not None else ""), i, f, _pct(t))
                         for c, d, e, i, f, t in rows])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3))
    shown = [r for r in rows if r[5] is not None]
    ax.bar([r[0] for r in shown], [float(r[5]) for r in shown])
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_title(f"Taux d'immatriculation par taille (échéances ALUR), millésime {millesime}")
    return {L.TAUX: MetadataValue.md(md),
            L.GRAPHIQUE: MetadataValue.md(png_markdown(fig, f"immatriculation, millésime {millesime}"))}


@model_metadata("coproff/stats_evolution")
def evolution(conn: Connection, table: str, millesime: int) -> dict[str, Any]:
    cols, rows = _rows(conn, f"select * from {_q(table)} where millesime = :m", millesime)
    return {L.EVOLUTION: MetadataValue.md(markdown_table(cols, rows))}


# The registry models' hooks live with the registry; importing them here registers them wherever
# hooks are looked up (the module imports the decorator above, hence the import at the end).
from coproff_platform.registre import metadata_hooks as _registre_hooks  # noqa: E402,F401
