"""What the UI shows for the assets, jobs, schedule and sensors of the ops modules: one owner, the
group named after the key's schema, a kind on every asset, French descriptions."""

from __future__ import annotations

import re

from coproff_platform.assets.exports import EXPORT_ASSETS
from coproff_platform.automation import JOBS, SCHEDULES, SENSORS
from coproff_platform.ui import OWNERS, group_of

# A French text here has accented letters or French articles; an English one has neither.
FRENCH = re.compile(r"[éèêàçù]|\b(les?|la|des|du|d'un|une?)\b", re.I)


def test_export_assets_have_the_owner_the_schema_group_a_kind_and_french_descriptions():
    for assets_def in EXPORT_ASSETS:
        for key in assets_def.keys:
            spec = assets_def.specs_by_key[key]
            assert list(spec.owners) == OWNERS, key
            assert spec.group_name == group_of(key) == key.path[0], key
            assert spec.kinds, key
            assert FRENCH.search(spec.description or ""), (key, spec.description)


def test_jobs_schedules_and_sensors_are_described_in_french():
    for definition in [*JOBS, *SCHEDULES, *SENSORS]:
        assert FRENCH.search(definition.description or ""), (definition.name, definition.description)


def test_no_preview_warning_when_the_code_location_loads():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-W", "default", "-c", "import coproff_platform.definitions"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "PreviewWarning" not in proc.stderr, proc.stderr[-2000:]


# An internal table: a millésime's partition (`coproff_m2023`) or a table being filled (`_new`).
INTERNAL_TABLE = re.compile(r"\b\w+_m\d{4}\b|\b\w+_new\b")


def _text_of(value) -> str:
    return str(getattr(value, "value", value))


def test_every_asset_of_the_code_location_has_the_owner_a_kind_its_schema_group_and_french_labels():
    from coproff_platform import labels
    from coproff_platform.definitions import defs

    graph = defs.get_repository_def().asset_graph
    assert graph.materializable_asset_keys
    for key in graph.materializable_asset_keys:
        spec = graph.get(key).assets_def.specs_by_key[key]
        assert list(spec.owners) == OWNERS, key
        assert spec.kinds, key
        assert spec.group_name == key.path[0] == group_of(key), key
        assert FRENCH.search(spec.description or ""), (key, spec.description)
        for label, value in (spec.metadata or {}).items():
            assert labels.is_known(label), (key, label)
            assert not INTERNAL_TABLE.search(_text_of(value)), (key, label, value)
    for check_key in graph.asset_check_keys:
        check_spec = graph.get_check_spec(check_key)
        assert FRENCH.search(check_spec.description or ""), (check_key, check_spec.description)


def test_labels_are_french_snake_case_and_unique():
    from coproff_platform import labels

    names = [v for k, v in vars(labels).items() if k.isupper() and isinstance(v, str)]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z0-9_]+", name), name
    assert labels.du_millesime(labels.LIGNES_EN_FAUTE, "2023") == "lignes_en_faute_2023"
    assert labels.is_known("lignes_en_faute_2023") and not labels.is_known("rows_read")


def test_internal_table_names_in_messages_become_public_relations():
    from coproff_platform.ui import public_names

    assert public_names('relation "coproff.coproff_m2023_new" does not exist') == \
        'relation "coproff.coproff (millésime 2023)" does not exist'
    assert public_names("staging.rnic_m2024") == "staging.rnic (millésime 2024)"
    assert public_names("coproff.coproff_dernier, coproff.coproff_2023") == "coproff.coproff_dernier, coproff.coproff_2023"
