"""Great Expectations suites of the staged sources, declared with each source (`Source.expectations`).

Formats as the sources spell them (PostgreSQL regular expressions); code lists from the reference
layer. `checks/expectations.py` runs them; this module only says what is expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coproff_platform import normalise as n
from coproff_platform.contracts import referencedata as ref

NUM_IMMAT = n._NUM_IMMAT.pattern  # 2 capital letters + 7 digits
INSEE = r"^([0-9]{5}|2[AB][0-9]{3})$"
IDPAR = r"^([0-9]{2}|2[AB])[0-9]{3}[0-9]{3}[0-9A-Z]{2}[0-9]{4}$"  # ccodep ccocom ccopre ccosec dnupla
IDLOCAL = r"^([0-9]{2}|2[AB])[0-9A-Z]{10}$"  # ccodep + invariant
CODE_POSTAL = r"^[0-9]{5}$"
NATURES_MUTATION = ["Vente", "Vente en l'état futur d'achèvement", "Vente terrain à bâtir", "Echange",
                    "Adjudication", "Expropriation"]


@dataclass(frozen=True)
class Exp:
    """One expectation: the GX class name and its arguments (dates as ISO strings)."""

    kind: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def _e(kind: str, **kwargs: Any) -> Exp:
    return Exp(kind, kwargs)


def _srids() -> list[int]:
    return sorted({int(s) for s in ref.codes("territoires", "srid_local")})


def _lots_max() -> int:
    return ref.parameter("lots_improbables_min")


def rnic(millesime: int) -> list[Exp]:
    return [
        _e("ExpectColumnValuesToNotBeNull", column="num_immat"),
        _e("ExpectColumnValuesToMatchRegex", column="num_immat", regex=NUM_IMMAT),
        _e("ExpectColumnValuesToBeUnique", column="num_immat"),
        _e("ExpectColumnValuesToMatchRegex", column="num_immat_principal", regex=NUM_IMMAT),
        _e("ExpectColumnValuesToMatchRegex", column="code_commune", regex=INSEE),
        _e("ExpectColumnValuesToMatchRegex", column="code_postal", regex=CODE_POSTAL),
        *[_e("ExpectColumnValuesToMatchRegex", column=f"idpar_{i}", regex=IDPAR) for i in (1, 2, 3)],
        _e("ExpectColumnValuesToBeInSet", column="p_constr", value_set=list(n.PERIODS)),
        _e("ExpectColumnValuesToBeInSet", column="type_syndic", value_set=["professionnel", "bénévole"]),
        _e("ExpectColumnValuesToBeInSet", column="mandat", value_set=ref.codes("mandats")),
        *[_e("ExpectColumnValuesToBeBetween", column=c, min_value=0, max_value=_lots_max())
          for c in ("lots_total", "lots_hab", "lots_stationnement")],
        _e("ExpectColumnValuesToBeBetween", column="date_immat", min_value=ref.parameter("ouverture_registre").isoformat(),
           max_value=f"{millesime}-12-31", mostly=0.99),
    ]


def ff_parcelle(millesime: int) -> list[Exp]:
    return [
        _e("ExpectColumnValuesToNotBeNull", column="idpar"),
        _e("ExpectColumnValuesToMatchRegex", column="idpar", regex=IDPAR),
        _e("ExpectColumnValuesToBeUnique", column="idpar"),
        _e("ExpectColumnValuesToNotBeNull", column="idtup", mostly=0.99),
        _e("ExpectColumnValuesToMatchRegex", column="idcom", regex=INSEE),
        _e("ExpectColumnValuesToBeInSet", column="ctpdl", value_set=ref.codes("types_pdl")),
        _e("ExpectColumnValuesToBeInSet", column="srid", value_set=_srids()),
        _e("ExpectColumnValuesToBeBetween", column="nlogh", min_value=0, max_value=10000),
        _e("ExpectColumnValuesToBeBetween", column="jannatmin", min_value=0, max_value=millesime),
    ]


def ff_tup(millesime: int) -> list[Exp]:
    return [
        _e("ExpectColumnValuesToNotBeNull", column="idtup"),
        _e("ExpectColumnValuesToBeUnique", column="idtup"),
        _e("ExpectColumnValuesToBeInSet", column="typetup", value_set=ref.codes("types_tup")),
        _e("ExpectColumnValuesToMatchRegex", column="idcom", regex=INSEE),
        _e("ExpectColumnValuesToBeInSet", column="ctpdl", value_set=ref.codes("types_pdl")),
        _e("ExpectColumnValuesToBeInSet", column="srid", value_set=_srids()),
        _e("ExpectColumnValuesToBeBetween", column="nparcel", min_value=1),
        _e("ExpectColumnValuesToBeBetween", column="nloghcopro", min_value=0, max_value=10000),
        _e("ExpectColumnValuesToBeBetween", column="jannatmin", min_value=0, max_value=millesime),
    ]


def cadastre_parcelle(millesime: int) -> list[Exp]:
    return [
        _e("ExpectColumnValuesToNotBeNull", column="idpar"),
        _e("ExpectColumnValuesToMatchRegex", column="idpar", regex=IDPAR),
        _e("ExpectColumnValuesToBeUnique", column="idpar"),
        _e("ExpectColumnValuesToMatchRegex", column="code_commune", regex=INSEE),
        _e("ExpectColumnValuesToNotBeNull", column="geom"),
        _e("ExpectColumnValuesToBeBetween", column="contenance", min_value=0),
        _e("ExpectColumnValuesToBeBetween", column="date_maj", max_value=f"{millesime + 1}-12-31"),
    ]


def dpe(millesime: int) -> list[Exp]:
    labels = ref.codes("etiquettes_dpe")
    return [
        _e("ExpectColumnValuesToNotBeNull", column="numero_dpe"),
        _e("ExpectColumnValuesToBeUnique", column="numero_dpe"),
        _e("ExpectColumnValuesToBeInSet", column="etiquette_dpe", value_set=labels),
        _e("ExpectColumnValuesToBeInSet", column="etiquette_ges", value_set=labels),
        _e("ExpectColumnValuesToBeInSet", column="type_batiment", value_set=["appartement", "maison", "immeuble"]),
        _e("ExpectColumnValuesToMatchRegex", column="num_immat", regex=NUM_IMMAT),
        _e("ExpectColumnValuesToMatchRegex", column="code_insee_ban", regex=INSEE),
        _e("ExpectColumnValuesToBeBetween", column="date_etablissement_dpe", min_value="2006-01-01",
           max_value=f"{millesime + 1}-12-31"),
        _e("ExpectColumnValuesToBeBetween", column="surface_habitable_logement", min_value=1, max_value=5000,
           mostly=0.99),
    ]


def dvf(millesime: int) -> list[Exp]:
    return [
        _e("ExpectColumnValuesToNotBeNull", column="id_mutation"),
        _e("ExpectColumnValuesToNotBeNull", column="line_hash"),
        _e("ExpectColumnValuesToMatchRegex", column="id_parcelle", regex=IDPAR),
        _e("ExpectColumnValuesToMatchRegex", column="code_commune", regex=INSEE),
        _e("ExpectColumnValuesToBeInSet", column="code_type_local", value_set=[1, 2, 3, 4]),
        _e("ExpectColumnValuesToBeInSet", column="nature_mutation", value_set=NATURES_MUTATION),
        _e("ExpectColumnValuesToBeBetween", column="valeur_fonciere", min_value=0),
        _e("ExpectColumnValuesToBeBetween", column="surface_reelle_bati", min_value=0),
        _e("ExpectColumnValuesToBeBetween", column="date_mutation", min_value=f"{millesime - 10}-01-01",
           max_value=f"{millesime + 1}-12-31"),
    ]


def dv3f(millesime: int) -> list[Exp]:
    return [
        _e("ExpectColumnValuesToNotBeNull", column="idmutation"),
        _e("ExpectColumnValuesToBeUnique", column="idmutation"),
        _e("ExpectColumnValuesToNotBeNull", column="l_idpar"),
        _e("ExpectColumnValuesToBeBetween", column="valeurfonc", min_value=0),
        _e("ExpectColumnValuesToBeBetween", column="nblocapt", min_value=0),
        _e("ExpectColumnValuesToBeBetween", column="datemut", min_value=f"{millesime - 10}-01-01",
           max_value=f"{millesime + 1}-12-31"),
    ]


def lovac(millesime: int) -> list[Exp]:
    return [
        _e("ExpectColumnValuesToNotBeNull", column="ff_idlocal"),
        _e("ExpectColumnValuesToBeUnique", column="ff_idlocal"),
        _e("ExpectColumnValuesToMatchRegex", column="ff_idlocal", regex=IDLOCAL),
        _e("ExpectColumnValuesToMatchRegex", column="ff_idpar", regex=IDPAR),
        _e("ExpectColumnValuesToBeInSet", column="ff_ccthp", value_set=["V"], mostly=0.95),
        _e("ExpectColumnValuesToBeBetween", column="debutvacance", min_value=1900, max_value=millesime),
    ]


def common(column_names: list[str], millesime: int, optional: bool) -> list[Exp]:
    """Every staged table: exact columns, the partition's millésime, rows unless the source is optional."""
    rows = [] if optional else [_e("ExpectTableRowCountToBeBetween", min_value=1)]
    return [
        _e("ExpectTableColumnsToMatchSet", column_set=column_names, exact_match=True),
        *rows,
        _e("ExpectColumnValuesToBeInSet", column="millesime", value_set=[millesime]),
    ]
