"""The reference layer: typed rows read from dbt_like_sql/reference/, and the `ref/<table>` assets
that load the same rows into PostgreSQL schema `ref`."""

import datetime as dt
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterInstance, materialize

from coproff_platform import reference
from coproff_platform.assets.reference import REFERENCE_ASSETS, load_reference_table
from coproff_platform.partitions import millesime_partitions
from coproff_platform.ui import OWNERS


def test_rows_are_typed_from_the_dictionary():
    territories = {r.code: r for r in reference.table("territoires")}
    reunion = territories["reunion"]
    assert reunion.srid_local == 2975 and isinstance(reunion.lon_min, float)
    assert territories["wallis_et_futuna"].couvert_registre is False
    assert territories["metropole"].code_departement is None  # empty cell → None
    distance = next(r for r in reference.table("parametres") if r.code == "reference_distance_max_m")
    assert reference.parameter(distance.code) == int(distance.valeur)
    assert isinstance(reference.parameter(distance.code), int)
    opening = next(r for r in reference.table("parametres") if r.unite == "date")
    assert reference.parameter(opening.code) == dt.date.fromisoformat(opening.valeur)
    assert isinstance(reference.parameter("part_ecart_faible_min"), float)
    with pytest.raises(KeyError, match="no parameter 'inexistant'"):
        reference.parameter("inexistant")


def test_every_parameter_is_a_number_or_a_date_typed_by_its_unit():
    # The registry's units (mois, euros, année, caractères) and the sources' (lots) are quantities:
    # a control compares them with numbers and must not receive the CSV's text.
    for row in reference.table("parametres"):
        value = reference.parameter(row.code)
        if row.unite == "date":
            assert isinstance(value, dt.date), row.code
        else:
            assert isinstance(value, int | float) and value == float(row.valeur), row.code
    assert isinstance(reference.parameter("declarations_mois_arret"), int)
    assert isinstance(reference.parameter("declaration_charges_lot_min"), int)
    with pytest.raises(ValueError, match="unit 'semaines' is not one of"):
        reference._typed_parameter("3", "semaines")


def test_period_bounds_keep_open_ends():
    bounds = reference.period_bounds()
    assert list(bounds) == list(reference.periods())
    first, last = reference.periods()[0], reference.periods()[-1]
    assert bounds[first][0] is None and bounds[last][1] is None


def test_territory_helpers_cover_saint_martin_and_saint_barthelemy():
    # Saint-Martin (Marigot) and Saint-Barthélemy (Gustavia): covered by the registry
    assert reference.in_france(-63.08, 18.07) and reference.in_france(-62.85, 17.90)
    # a point in the Atlantic and one in Wallis (not covered by the registry) are not
    assert not reference.in_france(-30.0, 40.0) and not reference.in_france(-176.2, -13.3)
    assert reference.local_srid("978") == reference.local_srid("971")
    assert reference.local_srid("2A") == reference.local_srid("75") == reference.local_srid(None)
    assert reference.territory_of_departement("97411").code == "reunion"
    assert {"971", "977"} == reference.departements_of_postcode("97133")
    assert {"971", "978"} == reference.departements_of_postcode("97150")
    assert {"971"} == reference.departements_of_postcode("97110")
    assert {"2A", "2B"} == reference.departements_of_postcode("20000")


def _copy_reference(tmp_path: Path, name: str) -> Path:
    for suffix in (".csv", ".yml"):
        shutil.copy(reference.REFERENCE_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path


def test_malformed_value_names_file_line_and_field(tmp_path):
    root = _copy_reference(tmp_path, "periodes_construction")
    csv_path = root / "periodes_construction.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("1961", "mil neuf cent")
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(reference.ReferenceDataError, match=r"periodes_construction\.csv:4: field annee_min"):
        reference.load_table("periodes_construction", root)


def test_missing_field_and_duplicate_key_name_the_line(tmp_path):
    root = _copy_reference(tmp_path, "types_tup")
    csv_path = root / "types_tup.csv"
    csv_path.write_text(csv_path.read_text(encoding="utf-8") + "SIMPLE\n", encoding="utf-8")
    with pytest.raises(reference.ReferenceDataError, match=r"types_tup\.csv:5: 1 fields, expected 2"):
        reference.load_table("types_tup", root)
    csv_path.write_text(csv_path.read_text(encoding="utf-8").replace("SIMPLE\n", "SIMPLE,encore\n"), encoding="utf-8")
    with pytest.raises(reference.ReferenceDataError, match=r"types_tup\.csv:5: primary key \('SIMPLE',\) already on line 2"):
        reference.load_table("types_tup", root)


def test_header_not_matching_the_dictionary_is_an_error(tmp_path):
    root = _copy_reference(tmp_path, "types_pdl")
    yml = root / "types_pdl.yml"
    yml.write_text(yml.read_text(encoding="utf-8").replace("name: libelle", "name: intitule"), encoding="utf-8")
    with pytest.raises(reference.ReferenceDataError, match=r"types_pdl\.csv:1: header .* does not match"):
        reference.load_table("types_pdl", root)


def test_every_csv_has_an_asset_with_owner_and_ref_group():
    keys = {key for a in REFERENCE_ASSETS for key in a.keys}
    assert keys == {AssetKey(["ref", n]) for n in reference.table_names()}
    for a in REFERENCE_ASSETS:
        key = next(iter(a.keys))
        assert a.partitions_def is millesime_partitions
        assert a.group_names_by_key[key] == "ref"
        assert a.specs_by_key[key].owners == OWNERS


def test_assets_create_load_comment_and_replace_ref_tables(fresh_db):
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("drop schema ref cascade"))
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(millesime_partitions.name, ["2023"])
    for _ in range(2):  # a second materialization replaces the rows, it does not append
        result = materialize(REFERENCE_ASSETS, resources={"postgis": fresh_db}, partition_key="2023", instance=instance)
        assert result.success
    mats = {m.asset_key.path[1]: m for m in result.asset_materializations_for_node("ref__territoires")}
    meta = mats["territoires"].metadata
    assert meta["dagster/row_count"].value == len(reference.table("territoires"))
    assert "| saint_martin |" in meta["contenu"].value
    with fresh_db.engine.connect() as conn:
        counts = {
            n: conn.execute(sa.text(f"select count(*) from ref.{n}")).scalar() for n in reference.table_names()
        }
        srid = conn.execute(sa.text("select srid_local from ref.territoires where code = 'saint_martin'")).scalar()
        comment = conn.execute(
            sa.text("select col_description('ref.territoires'::regclass, 5)")
        ).scalar()
        pk = conn.execute(
            sa.text("select pg_get_constraintdef(oid) from pg_constraint "
                    "where conrelid = 'ref.parametres'::regclass and contype = 'p'")
        ).scalar()
    assert counts == {n: len(reference.table(n)) for n in reference.table_names()}
    assert srid == 5490
    assert comment.startswith("Projection locale")
    assert pk == "PRIMARY KEY (code)"


def test_changed_dictionary_recreates_the_table(fresh_db, tmp_path):
    root = _copy_reference(tmp_path, "types_tup")
    for suffix in (".csv", ".yml"):  # the same table under a new shape: one more column
        p = root / f"types_tup{suffix}"
        text = p.read_text(encoding="utf-8")
        if suffix == ".csv":
            text = "\n".join(line + (",x" if i else ",note") for i, line in enumerate(text.splitlines())) + "\n"
        else:
            text += '  - {name: note, data_type: text, description: "Note"}\n'
        p.write_text(text, encoding="utf-8")
    with fresh_db.engine.begin() as conn:
        loaded = load_reference_table(conn, reference.load_table("types_tup", root))
        notes = conn.execute(sa.text("select distinct note from ref.types_tup")).scalars().all()
    assert loaded.recreated and loaded.row_count == len(reference.table("types_tup"))
    assert notes == ["x"]


def test_normalisers_read_the_reference_layer():
    from coproff_platform import normalise as n

    # the staging control `point_hors_france` and the reference layer agree, Saint-Martin included
    assert n.in_france(-63.08, 18.07) and not n.in_france(-30.0, 40.0)
    assert n.FRANCE_BOXES == reference.france_boxes()
    assert n.PERIOD_BOUNDS == reference.period_bounds() and n.PERIODS == reference.periods()
    assert n.period("inconnue") is None  # an unknown-period value of valeurs_periode_inconnue.csv
    assert n.local_srid("974") == reference.local_srid("974") == n.SRID_BY_DEPARTEMENT["974"]
    assert n.departements_of_postcode("97150") == {"971", "978"}


def test_metadata_hooks_show_the_national_figures_of_the_reference_layer():
    from coproff_platform.checks import metadata_hooks as hooks

    # every class but the one for missing counts has a documented 2023 share
    assert len(hooks.GAP_REFERENCE) == len(reference.gap_classes()) - 1
    assert abs(sum(hooks.GAP_REFERENCE.values()) - 0.99) < 1e-9  # the documented shares, rounded
    assert hooks.COHERENCE_REFERENCE == reference.parameter("coherence_construction_coproff_2023")
    assert len(hooks.SITUATIONS) == len(reference.table("situations"))


def test_reference_assets_run_with_the_sources_and_in_the_millesime_job():
    from coproff_platform.automation import BUILD_JOB, JOBS
    from coproff_platform.definitions import defs

    graph = defs.get_repository_def().asset_graph
    ref_keys = {key for a in REFERENCE_ASSETS for key in a.keys}
    jobs = {job.name: job.selection.resolve(graph) for job in JOBS}
    assert ref_keys <= jobs["stage_sources"] and ref_keys <= jobs[BUILD_JOB]
    # a model reading ref.<table> depends on the asset ref/<table>
    synthese = graph.get(AssetKey(["intermediate", "synthese"]))
    assert AssetKey(["ref", "classes_ecart_logements"]) in synthese.parent_keys


def test_every_reference_code_a_model_names_exists():
    # a model naming a parameter or a class that the CSV lost would silently read NULL
    import re

    from coproff_platform.models.project import project

    codes = {
        r.code for n in reference.table_names() for r in reference.table(n) if "code" in r._fields
    }
    named = {
        (m.relative_path, code)
        for m in project()
        for code in re.findall(r"\bcode\s*(?:=|<>)\s*'([^']+)'", m.sql)
    }
    assert named, "the models name reference codes (parameters, gap classes)"
    assert not {(path, code) for path, code in named if code not in codes}
