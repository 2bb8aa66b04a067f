"""The registry's declarations are declared once, beside the other sources (`contracts.sources`):
their folder, patterns, requirement and description feed the registry's loader, the landing zone
and the landing sensor, which build a millésime without them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from coproff_platform.automation import inspect_landing
from coproff_platform.contracts.declarations import SPEC
from coproff_platform.contracts.sources import OPTIONAL, PACKAGE_SOURCES, landing_folders, required_folders
from coproff_platform.registre.load import declaration_files, load_declarations
from coproff_platform.resources.landing import LandingZone

M = 2024


def _land(root, folder, name):
    path = root / str(M) / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n", encoding="utf-8")
    return path


def test_the_loader_reads_the_one_declaration_of_the_folder():
    declared = PACKAGE_SOURCES["declarations"]
    assert (SPEC.name, SPEC.folder, SPEC.patterns, SPEC.optional, SPEC.description) == (
        declared.name, declared.folder, declared.patterns, True, declared.description)
    assert landing_folders()[declared.folder] == OPTIONAL
    assert all(declared.folder not in group for group in required_folders())


def test_a_millesime_without_declarations_is_complete_and_says_they_are_absent(tmp_path):
    landing = LandingZone(path=str(tmp_path))
    _land(tmp_path, "rnic", "rnic.csv")
    _land(tmp_path, "cadastre", "cadastre-93010-parcelles.json")
    state = inspect_landing(landing, str(M))
    assert state.complete and "declarations" in state.absent_optional
    assert declaration_files(tmp_path, M) == []
    landed = _land(tmp_path, SPEC.folder, "depots.jsonl")
    _land(tmp_path, SPEC.folder, "notes.txt")  # not one of the declared patterns
    assert "declarations" not in inspect_landing(landing, str(M)).absent_optional
    assert declaration_files(tmp_path, M) == [landed]


def test_declarations_need_the_reference_layer_loaded_first(fresh_db, tmp_path):
    # Block C joins ref.etiquettes_dpe (loaded by the ref/* assets, upstream of the declarations).
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("drop table ref.etiquettes_dpe"))
    with pytest.raises(RuntimeError, match="ref.etiquettes_dpe is missing"):
        load_declarations(fresh_db, M, [])
