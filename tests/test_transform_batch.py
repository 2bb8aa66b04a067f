"""The column-wise transform (`RowTransformer.batch`) gives exactly what the per-row call gives.

The loader streams files through `batch`; the per-row call is the reference semantics (first
failing rule in declaration order, soft codes, derived columns, bounds, controls). Both are fed
the same records drawn from valid, missing, malformed and extreme raw values of every source.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coproff_platform.contracts.sources import SOURCES
from coproff_platform.loading.load import source_files
from coproff_platform.loading.reader import CsvFile
from coproff_platform.loading.transform import RowTransformer, choose_spec, map_header
from coproff_platform.sample import SampleSpec, generate

# Raw values that exercise every normaliser's branches: placeholders, padding, French formats,
# invalid text, overflow, negative counts, arrays, geometries, NUL.
VALUES = [
    "", "NA", "non connu", " ", "0", "1", "12", "12.0", "12.5", "-3", "99999999999", "8000,00", "abc",
    "oui", "Non", "true", "2023-05-01", "01/02/2020", "2016-10-31", "31/02/2020", "AA1234567", "AB-123-456",
    "75056", "1053", "2A004", "93010", "000", "AB", "A", "0025", "12345", "75056101AB0012", "930100000Q0025",
    "{75056101AB0012,93010000AQ0025}", "{bad}", "A", "G", "H", "B1", "avant 1949", "Avant 1949", "1949-1960",
    "35600000000048", "12345678901234", "2.35", "48.85", "-61.5", "SRID=2154;POINT(652000 6862000)",
    "SRID=2154;MULTIPOLYGON(((0 0,1 0,1 1,0 0)))", "0101000020E6100000000000000000F03F000000000000F03F",
    "Résidence Hélène", "x\x00y", "appartement", "Maison", "bénévole", "professionnel", "U", "PM", "PI",
]


@pytest.fixture(scope="module")
def sample_rows(tmp_path_factory) -> dict[str, tuple]:
    """(spec, header map, first 40 records) of each CSV source of a tiny generated millésime."""
    root = tmp_path_factory.mktemp("batch")
    generate(SampleSpec((2023,), ("974",), 150, 3), root / "landing", root / "truth", lambda m: None)
    out = {}
    for name, source in SOURCES.items():
        files = source_files(root / "landing", 2023, name)
        if not files or source.spec.reader != "csv":
            continue
        f = CsvFile(files[0], files[0].name)
        spec, hm = choose_spec(source.specs, f.header, f.display)
        out[name] = (spec, hm, [(r.fields, r.line, r.raw) for r in itertools.islice(f.records(), 40)])
    assert {"rnic", "ff_parcelle", "ff_tup", "dvf", "dpe", "lovac"} <= set(out)
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_batch_equals_per_row_for_every_source(sample_rows, data):
    for name, (spec, hm, base) in sample_rows.items():
        records = []
        for fields, line, raw in base:
            fields = list(fields)
            # Up to 3 fields of each real-looking row replaced: soft codes, rejects, memo hits.
            for pos, value in data.draw(st.lists(st.tuples(st.integers(0, len(fields) - 1), st.sampled_from(VALUES)),
                                                 max_size=3), label=name):
                fields[pos] = value
            if data.draw(st.integers(0, 30), label="width") == 0:
                fields = fields[:-1]
            records.append((fields, line, raw + ("\x00" if "\x00" in "".join(fields) else "")))
        one = RowTransformer(spec, hm, 2023, "f.csv")
        many = RowTransformer(spec, hm, 2023, "f.csv")
        expected = [one(*r) for r in records]
        assert many.batch(records) == expected, name
        assert many.soft_counts == one.soft_counts, name


def test_batch_memo_is_bounded_and_repeats_errors(monkeypatch):
    from coproff_platform.loading import transform

    monkeypatch.setattr(transform, "MEMO_MAX", 3)
    spec = SOURCES["rnic"].spec
    header = [f.name for f in spec.fields]
    hm, _ = map_header(spec, header)
    rows = [[f"AA{i:07d}" if h == "numero_d_immatriculation" else ("abc" if h == "nombre_total_de_lots" else "")
             for h in header] for i in range(10)]
    records = [(r, i + 2, ",".join(r)) for i, r in enumerate(rows)]
    t = RowTransformer(spec, hm, 2023, "f.csv")
    got = t.batch(records)
    # The same invalid raw value gives the same reject on every row, memo hit or not.
    assert [g.reason for g in got] == ["nombre_invalide"] * 10
    assert all(len(m) <= 3 for m in t.memos)
