"""Property: whatever a landing row holds, the row transform returns a row or a reasoned rejection.

A normaliser that raised anything but `Invalid` would crash a whole load on one odd value; this
feeds every source's transform with real-looking values mixed with arbitrary text.
"""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from coproff_platform.contracts.sources import SPECS
from coproff_platform.loading.transform import Reject, RowTransformer, map_header

PLAUSIBLE = st.sampled_from([
    "", "NA", "non connu", "oui", "Non", "0", "1", "12", "-3", "1,5", "2.48111", "48.896109", "2023-01-31",
    "31/01/2023", "AA0652685", "AB2-351-013", "75056115DF0112", "930100000P0206", "P", "0P", "206", "000",
    "93010", "2A004", "97411", "DE_1961_A_1974", "NON_CONNUE", "D", "Z", "{930100000P0206}", "{}",
    "SRID=2154;MULTIPOLYGON(((0 0,1 0,1 1,0 0)))", "SRID=2975;POINT(338767 7690355)", "0101000020",
    "34863116900045", "Mandat en cours", "SIMPLE", "UF", "inf", "nan", "1e400", "٣", "\x00", " ",
])
VALUES = st.one_of(PLAUSIBLE, st.text(max_size=20))


def _specs():
    # CSV sources only: the open cadastre's GeoJSON features are typed in SQL (test_sources_declared).
    return [spec for variants in SPECS.values() for spec in variants if spec.reader == "csv"]


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(_specs()), st.data())
def test_any_row_gives_a_typed_row_or_a_rejection(spec, data):
    header = [f.name for f in spec.fields]
    hm, missing = map_header(spec, header)
    assert not missing
    transform = RowTransformer(spec, hm, 2023, "f.csv")
    fields = data.draw(st.lists(VALUES, min_size=len(header), max_size=len(header)))
    result = transform(fields, 2, ",".join(fields))
    if isinstance(result, Reject):
        assert result.reason and result.detail
        return
    assert len(result) == len(spec.copy_columns)
    row = dict(zip(spec.copy_columns, result))
    assert row["millesime"] == 2023 and row["source_line"] == 2
    for col in spec.table.columns:
        value = row.get(col.name)
        if value is None:
            assert "not null" not in col.type or col.name in spec.sql_columns, col.name
        elif col.type.startswith("date"):
            assert isinstance(value, dt.date)
        elif col.type.startswith(("integer", "smallint")):
            assert isinstance(value, int)
        elif col.type.startswith("char("):
            assert len(value) <= int(col.type[5:col.type.index(")")]), (col.name, value)


@settings(max_examples=40, deadline=None)
@given(st.lists(VALUES, max_size=90))
def test_rows_of_the_wrong_width_are_rejected_as_malformed(fields):
    spec = SPECS["rnic"][0]
    header = [f.name for f in spec.fields]
    hm, _ = map_header(spec, header)
    result = RowTransformer(spec, hm, 2023, "f.csv")(fields, 2, "")
    if len(fields) != len(header):
        assert isinstance(result, Reject) and result.reason == "ligne_malformee"
