"""The sample generator and the source declarations agree: each source of
`contracts.sources.SOURCES` names its sample writer, that name resolves to a function of
`coproff_platform.sample.writers`, and the generator writes what those writers write — an FF-based
landing without `cadastre/` (nor restricted `dv3f/`) by default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coproff_platform.contracts.sources import SOURCES
from coproff_platform.sample import writers

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("source", list(SOURCES))
def test_every_declared_sample_writer_resolves(source):
    dotted = SOURCES[source].sample_writer
    assert dotted.startswith("coproff_platform.sample.writers:write_")
    assert callable(writers.resolve(dotted))


def test_the_generator_walks_the_declared_writers_in_declaration_order():
    listed = [(name, fn) for name, fn in writers.writers()][: len(SOURCES)]
    assert [name for name, _ in listed] == list(SOURCES)
    assert [fn for _, fn in listed] == [writers.resolve(SOURCES[name].sample_writer) for name in SOURCES]


def test_a_writer_name_missing_from_the_module_is_a_clear_error():
    with pytest.raises(ValueError, match="no function 'write_nothing'"):
        writers.resolve("coproff_platform.sample.writers:write_nothing")


def test_coproff_sample_writes_an_ff_based_landing_without_cadastre_by_default(tmp_path):
    landing = tmp_path / "landing"
    subprocess.run(
        [BIN / "coproff", "sample", "--millesime", "2023", "--departements", "974", "--copros", "20",
         "--landing", str(landing), "--truth", str(tmp_path / "truth")],
        check=True, capture_output=True,
    )
    folders = sorted(p.name for p in (landing / "2023").iterdir() if p.is_dir())
    assert "ff" in folders and "rnic" in folders
    assert "cadastre" not in folders and "dv3f" not in folders
    ff_files = sorted(p.name for p in (landing / "2023" / "ff").iterdir())
    assert ff_files == ["pnb10_parcelle_974.csv", "tup_974.csv"]
