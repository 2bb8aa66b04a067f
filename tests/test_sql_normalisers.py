"""The SQL normalisers (`norm.*`, dbt_like_sql/normalisers/) equal their Python twins (normalise.py).

Each property runs one normaliser on both sides over a batch of generated raw strings — one SQL
query per batch — and asserts the same value and the same reason code (`Invalid.reason` ↔
`norm.<name>_motif`). A second test runs every normaliser over every distinct raw value of the real
files of tests/data/realdata/. The database only needs the functions: no table is touched.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
from decimal import Decimal
from typing import Any, Callable

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coproff_platform import normalise as n
from coproff_platform import reference
from coproff_platform.loading.normalisers import install_normalisers

# COPROFF_HYPOTHESIS_EXAMPLES=1000 for a longer hunt (the default keeps the file under 30 s).
SETTINGS = settings(max_examples=int(os.environ.get("COPROFF_HYPOTHESIS_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def db(postgis):
    with postgis.engine.begin() as conn:
        install_normalisers(conn, force=True)
    with postgis.engine.connect() as conn:
        yield conn


def python_side(fn: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    try:
        return fn(*args), None
    except n.Invalid as exc:
        return None, exc.reason


def sql_side(conn, name: str, columns: list[list[Any]], motif: bool = True,
             types: tuple[str, ...] = ()) -> list[tuple[Any, str | None]]:
    """norm.<name>(a, b, ...) and norm.<name>_motif(...) over parallel arrays, in input order."""
    args = ", ".join(f"t.a{i}" for i in range(len(columns)))
    types = types or ("text",) * len(columns)
    arrays = ", ".join(f"cast(:a{i} as {t}[])" for i, t in enumerate(types))
    motif_sql = f"norm.{name}_motif({args})" if motif else "null"
    rows = conn.execute(
        sa.text(f"select norm.{name}({args}), {motif_sql} from unnest({arrays}) with ordinality "
                f"as t({', '.join(f'a{i}' for i in range(len(columns)))}, i) order by t.i"),
        {f"a{i}": col for i, col in enumerate(columns)},
    ).all()
    return [tuple(r) for r in rows]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and (a == b or (math.isnan(a) and math.isnan(b)))
    if isinstance(a, (int, Decimal)) and isinstance(b, (int, Decimal)) and not isinstance(a, bool):
        return Decimal(a) == Decimal(b)
    return a == b


def assert_twins(conn, name: str, fn: Callable[..., Any], *columns: list[Any], motif: bool = True,
                 types: tuple[str, ...] = ()) -> None:
    got = sql_side(conn, name, [list(c) for c in columns], motif, types)
    bad = []
    for i, (sql_value, sql_motif) in enumerate(got):
        args = tuple(c[i] for c in columns)
        value, reason = python_side(fn, *args)
        if not same(value, sql_value) or (motif and reason != sql_motif):
            bad.append(f"{name}{args!r}: python {value!r} / {reason!r}, sql {sql_value!r} / {sql_motif!r}")
    assert not bad, "\n".join(bad[:20])


# -- strategies -------------------------------------------------------------------------------------
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
# Any Unicode text (no NUL: PostgreSQL text cannot hold it; no surrogates: not UTF-8).
any_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=16)
ascii_text = st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=16)
pad = st.text(st.sampled_from(WHITESPACE), max_size=3)
placeholder = st.sampled_from(sorted(n.MISSING | {"NaN", "N/A", "NON RENSEIGNÉ", "Non Connu", "NULL"}))


def recase(s: str, flips: list[bool]) -> str:
    return "".join(c.swapcase() if f else c for c, f in zip(s, flips + [False] * len(s)))


@st.composite
def dressed(draw, base: st.SearchStrategy[str]) -> str:
    """A value with random padding (any Unicode whitespace) and random case changes."""
    value = draw(base)
    if draw(st.booleans()):
        value = recase(value, draw(st.lists(st.booleans(), max_size=len(value))))
    return draw(pad) + value + draw(pad)


def raws(*bases: st.SearchStrategy[str]) -> st.SearchStrategy[list[str | None]]:
    one = st.one_of(st.none(), dressed(placeholder), any_text, ascii_text, *(dressed(b) for b in bases))
    return st.lists(one, min_size=1, max_size=40)


digit_str = lambda lo, hi: st.text(st.sampled_from("0123456789"), min_size=lo, max_size=hi)  # noqa: E731
letters2 = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcz"), min_size=1, max_size=2)
numbers = st.one_of(
    st.integers(-10**12, 10**12).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(lambda d: str(d).replace(".", ",")),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.builds(lambda a, b: f"{a} {b:03d},5", st.integers(1, 999), st.integers(0, 999)),  # thousands space
    st.builds(lambda a: f"{a}\u00a0000", st.integers(1, 999)),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-99, 99), st.integers(-400, 400)),
    st.builds(lambda m, e: f"{m}E+{e}", st.sampled_from(["1.5", ".5", "5.", "-0", "+2"]), digit_str(1, 4)),
    st.sampled_from(["12.0", "12.5", "-0", "+5", ".5", "5.", "1_000", "inf", "-Infinity", "nan", "--5", "1..2",
                     "1e", "e5", "١٢", "²", "12.0.0", "1,234.5", "0x10", "1e-400", "1e400", "1.7976931348623157e308"]),
)
dates = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
date_strings = st.one_of(
    dates.map(lambda d: d.isoformat()),
    dates.map(lambda d: f"{d.day:02d}/{d.month:02d}/{d.year:04d}"),
    dates.map(lambda d: f"{d.day}/{d.month}/{d.year:04d}"),
    st.builds(lambda d, t: f"{d.isoformat()}{t}", dates, st.sampled_from(["T12:30:00", " 00:00", "T", " x\ny", "Tz"])),
    st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32)),
    st.builds(lambda y, m, d: f"{d}/{m}/{y:04d}", st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32)),
    st.sampled_from(["2023-02-29", "2024-02-29", "1900-02-29", "2000-02-29", "31/04/2020", "٢٠٢٠-01-01",
                     "2020-1-1", "01/01/20", "2020/01/01"]),
)
insee_codes = st.one_of(
    digit_str(5, 5), digit_str(4, 4), digit_str(4, 5).map(lambda s: s + ".0"),
    st.builds(lambda c, d: f"2{c}{d}", st.sampled_from("ABab"), digit_str(3, 3)),
    st.sampled_from(["75056", "69123", "13055", "97411", "2A004", "2b033", "1053", "1053.0", "2C001", "123456"]),
)
postcodes = st.one_of(digit_str(1, 6), digit_str(3, 5).map(lambda s: s + ".0"),
                      st.sampled_from(["01000", "1000", "97133", "20000", "75 001", "²²²"]))
departements = st.one_of(digit_str(1, 3), st.sampled_from(["2A", "2b", "2C", "971", "978", "979", "974", "7", "٣"]))
immat = st.one_of(
    st.builds(lambda a, d: a + d, st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZab"), min_size=2, max_size=2), digit_str(7, 7)),
    st.builds(lambda a, d: f"{a}{d[0]}-{d[1:4]}-{d[4:]}", st.text(st.sampled_from("AHZ"), min_size=2, max_size=2), digit_str(7, 7)),
    st.sampled_from(["AA 065 268 5", "AA.0652685", "ſA0652685", "ßA065268", "AA06526850", "A0652685", "AA065268\n"]),
)
sirets = st.one_of(digit_str(14, 14), digit_str(13, 15),
                   digit_str(14, 14).map(lambda s: f"{s[:3]} {s[3:6]} {s[6:9]} {s[9:]}"),
                   digit_str(14, 14).map(lambda s: f"{s[:3]}.{s[3:6]}.{s[6:]}"))
labels = st.one_of(st.sampled_from(list("ABCDEFGHabcdefgz") + ["AB", "É", "ﬀ"]))
booleans = st.sampled_from(sorted({r.valeur for r in reference.table("valeurs_booleennes")} | {"OUI", "Vrai", "peut-être", "2", "K"}))
periods = st.one_of(
    st.sampled_from([r.libelle for r in reference.table("periodes_construction")]),
    st.sampled_from(list(reference.periods())),
    st.sampled_from(sorted(reference.unknown_period_values())),
    st.sampled_from(["non connue", "Non renseigné", "À COMPTER DE 2011", "a_compter_de_2011", "avant-1949", "__AVANT 1949__",
                     "De 1949 a 1960", "Avant\u0301 1949", "1949", "Inconnue"]),
)


# -- group 1: scalar normalisers --------------------------------------------------------------------
SCALARS: dict[str, tuple[Callable[..., Any], st.SearchStrategy[str] | None, bool]] = {
    # name: (python twin, its own generator, has a _motif)
    "is_missing": (n.is_missing, None, False),
    "text": (n.text, None, False),
    "address": (n.address, st.sampled_from(["12 rue X,", "12 rue X , ,", ",", " , ", "1,, rue", "a ,b,"]), False),
    "num_immat": (n.num_immat, immat, True),
    "insee": (n.insee, insee_codes, True),
    "integer": (n.integer, numbers, True),
    "decimal": (n.decimal, numbers, True),
    "coordinate": (n.coordinate, numbers, True),
    "date": (n.date, date_strings, True),
    "boolean": (n.boolean, booleans, True),
    "postcode": (n.postcode, postcodes, True),
    "departement": (n.departement, departements, True),
    "period": (n.period, periods, True),
    "siret": (n.siret, sirets, True),
    "label_a_g": (n.label_a_g, labels, True),
}


def _scalar_test(name: str):
    fn, own, motif = SCALARS[name]

    @SETTINGS
    @given(batch=raws(*((own,) if own is not None else ())))
    def test(db, batch):
        assert_twins(db, name, fn, batch, motif=motif)

    test.__name__ = f"test_sql_{name}_equals_python"
    return test


for _name in SCALARS:
    globals()[f"test_sql_{_name}_equals_python"] = _scalar_test(_name)


def test_only_ascii_letters_and_e_acute_lowercase_onto_a_placeholder_letter():
    """norm.fold lowercases with translate(A–Z, É): exact only if no other character's Python
    lower() is made of the placeholders' letters (lower() in PostgreSQL would fold `İ` to `i`)."""
    letters = set("".join(n.MISSING))
    folding = {c for c in map(chr, range(0x110000)) if c not in letters and c.lower() != c and set(c.lower()) <= letters}
    assert folding == set("ABCDEFGHIJKLMNOPQRSTUVWXYZÉ") & {c for c in folding}
    assert all(c in "ABCDEFGHIJKLMNOPQRSTUVWXYZÉ" for c in folding)


def test_sql_whitespace_is_pythons(db):
    python = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    assert db.execute(sa.text("select norm.ws()")).scalar() == python


# -- real rows --------------------------------------------------------------------------------------
def _distinct_values(realdata) -> list[str]:
    values: set[str] = set()
    for path in sorted(realdata.iterdir()):
        if path.suffix not in {".csv", ".txt"}:
            continue
        with path.open(encoding="utf-8-sig", newline="") as f:
            delimiter = "|" if path.suffix == ".txt" else ","
            for row in csv.reader(f, delimiter=delimiter):
                values.update(row)
    return sorted(values)


def test_sql_normalisers_equal_python_on_every_real_value(db, realdata):
    values = _distinct_values(realdata)
    assert len(values) > 1000
    for name, (fn, _, motif) in SCALARS.items():
        assert_twins(db, name, fn, values, motif=motif)


# -- group 2: cadastral references and arrays ---------------------------------------------------------
component_placeholder = st.sampled_from(["", " ", "non connu", "Non Renseigné", "NA", "na", "null", "N/A"])
communes = st.one_of(insee_codes, component_placeholder, st.just("75056"), st.just("13055"), st.just("69123"))
prefixes = st.one_of(digit_str(0, 4), component_placeholder,
                     st.sampled_from(["000", "0", "115", "101", "120", "121", "381", "389", "390", "201", "216", "A1", "١"]))
sections = st.one_of(st.text(st.sampled_from("ABCDEFGHOPQZ0123456789abz"), min_size=1, max_size=3), component_placeholder,
                     st.sampled_from(["NA", "OQ", "0P", "ß", "ı", "ſ", "É", "A-"]))
numeros = st.one_of(digit_str(0, 5), component_placeholder, st.sampled_from(["0112", "x", "12a", "²"]))
parts = st.tuples(communes, prefixes, sections, numeros).map(lambda t: tuple(p if p is None else p for p in t))


def _full_reference(t: tuple[str, str, str, str], form: int) -> str:
    c, p, s, num = t
    if form == 0:  # FF / registry form, padded
        return c + p.zfill(3) + s.zfill(2) + num.zfill(4)
    if form == 1:  # one-letter section lost its padding
        return c + p.zfill(3) + s + num.zfill(4)
    if form == 2:  # padding written as spaces
        return c + p.rjust(3) + s.rjust(2) + num.rjust(4)
    return (c + p + s + num).lower()


full_references = st.one_of(
    st.builds(_full_reference, parts, st.integers(0, 3)),
    st.sampled_from(["75056115DF0112", "69123383DH0010", "13055208AB0001", "93010000P0206", "93010000OQ0025",
                     "2A004000AB0012", "93010000NA0012", "930100000E01210", "9301000", "\t\t\t\t\t000AB0001"]),
)


@SETTINGS
@given(batch=st.lists(st.tuples(*(st.one_of(st.none(), s, any_text) for s in (communes, prefixes, sections, numeros))),
                      min_size=1, max_size=40))
def test_sql_idpar_from_parts_equals_python(db, batch):
    assert_twins(db, "idpar_from_parts", n.idpar_from_parts, *map(list, zip(*batch)))


@SETTINGS
@given(batch=raws(full_references))
def test_sql_idpar_equals_python(db, batch):
    assert_twins(db, "idpar", n.idpar, batch)


@SETTINGS
@given(batch=st.lists(st.tuples(st.one_of(st.none(), full_references, component_placeholder, any_text), communes,
                                prefixes, sections, numeros), min_size=1, max_size=40))
def test_sql_idpar_ref_or_parts_equals_python(db, batch):
    assert_twins(db, "idpar_ref_or_parts", n.idpar_ref_or_parts, *map(list, zip(*batch)))


array_part = st.one_of(full_references, st.sampled_from(['"a"', '""', '"', ' " a " ', "a\"b", "", " ", "\u3000x"]), ascii_text)
arrays = st.builds(lambda items, sep: "{" + sep.join(items) + "}", st.lists(array_part.filter(lambda s: "," not in s), max_size=5),
                   st.sampled_from([",", ", ", " ,\t"]))
no_sentinel = st.text(st.characters(codec="utf-8", exclude_characters="\x00\uffff"), max_size=16)


@SETTINGS
@given(batch=st.lists(st.one_of(st.none(), dressed(placeholder), dressed(arrays), no_sentinel,
                                st.sampled_from(["{}", "{ }", "{", "}", "{a", "a}", "{,}", "{\"\",\"\"}"])),
                      min_size=1, max_size=40))
def test_sql_pg_array_text_equals_python(db, batch):
    assert_twins(db, "pg_array_text", n.pg_array_text, batch)


def test_sql_cadastre_normalisers_equal_python_on_every_real_value(db, realdata):
    """Every distinct real value as a full reference and as an array; the RNIC's reference
    components as they come, row by row (reference N, commune, préfixe, section, numéro)."""
    values = _distinct_values(realdata)
    assert_twins(db, "idpar", n.idpar, values)
    assert_twins(db, "pg_array_text", n.pg_array_text, values)
    with (realdata / "rnic_extract_bondy.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    keys = ("reference_cadastrale", "code_insee_commune", "prefixe", "section", "numero_parcelle")
    from coproff_platform.contracts.sources import RNIC_SPEC

    header = {RNIC_SPEC.resolve(h): h for h in rows[0]}
    columns: list[list[str | None]] = [[] for _ in keys]
    for row in rows:
        for i in (1, 2, 3):
            for col, key in zip(columns, keys):
                col.append(row[header[f"{key}_{i}"]])
    assert_twins(db, "idpar_ref_or_parts", n.idpar_ref_or_parts, *columns)
    assert_twins(db, "idpar_from_parts", n.idpar_from_parts, *columns[1:])


# -- group 3: geometry ---------------------------------------------------------------------------------
def _ewkt_value(raw):
    out = n.ewkt_or_ewkb(raw)
    return None if out is None else out[0]


def _ewkt_srid(raw):
    out = n.ewkt_or_ewkb(raw)
    return None if out is None else out[1]


def _ewkb_hex(srid: int, little: bool, kind: int) -> str:
    import shapely

    geom = shapely.Point(1.5, 2.5) if kind == 0 else shapely.box(0, 0, 1, 1)
    geom = shapely.set_srid(geom, srid)
    return shapely.to_wkb(geom, hex=True, include_srid=True, byte_order=int(little))


srids = st.sampled_from(sorted({r.srid_local for r in reference.table("territoires")} | {4326, 0, 2**31 + 5, 2**32 - 1}))
ewkt = st.builds(
    lambda srid, kind, sp, z, case: recase(f"SRID={srid};{sp}{kind}{sp}{z}((0 0,1 1,1 0,0 0))", case),
    st.one_of(srids.map(str), digit_str(0, 20), st.just("٢١٥٤")),
    st.sampled_from(["MULTIPOLYGON", "POLYGON", "POINT", "MULTIPOINT", "LINESTRING", "MULTIPOLYGONZ", "POINTM"]),
    st.sampled_from(["", " ", "\t", "\n ", "\u3000"]), st.sampled_from(["", "Z", "Z ", "z\n"]),
    st.lists(st.booleans(), max_size=20),
)
ewkb = st.one_of(
    st.builds(lambda srid, little, kind: _ewkb_hex(srid, little, kind), srids.filter(lambda s: s < 2**31), st.booleans(), st.integers(0, 1)),
    st.builds(lambda h: h, st.text(st.sampled_from("0123456789abcdefABCDEF"), min_size=16, max_size=30)),
    st.builds(lambda order, t, srid: order + t + srid, st.sampled_from(["01", "00", "ff"]),
              st.sampled_from(["01000020", "20000001", "03000000", "00000003", "060000a0", "a0000006"]),
              st.text(st.sampled_from("0123456789abcdef"), min_size=8, max_size=12)),
)


@SETTINGS
@given(batch=raws(ewkt, ewkb, st.sampled_from(["SRID=2154;POINT(1 2)", "SRID=2154;POINT(", "SRID=2154;POINT()",
                                                "ſRID=2154;POINT(1 2)", "SRID=2154; POINT (1 2)\n", "POINT(1 2)"])))
def test_sql_ewkt_or_ewkb_equals_python(db, batch):
    assert_twins(db, "ewkt_or_ewkb", _ewkt_value, batch)
    assert_twins(db, "ewkt_or_ewkb_srid", _ewkt_srid, batch, motif=False)


@SETTINGS
@given(batch=raws(departements, st.sampled_from([r.code_departement or "75" for r in reference.table("territoires")]),
                  st.sampled_from(["9741", " 974 ", "97", "2A", "ß974"])))
def test_sql_local_srid_equals_python(db, batch):
    assert_twins(db, "local_srid", n.local_srid, batch, motif=False)


def _box_edges() -> list[float]:
    return sorted({v for b in n.FRANCE_BOXES.values() for v in b})


coordinates_near_boxes = st.one_of(
    st.floats(-180, 180), st.floats(-90, 90), st.sampled_from(_box_edges()),
    st.sampled_from(_box_edges()).map(lambda v: math.nextafter(v, math.inf)),
    st.sampled_from(_box_edges()).map(lambda v: math.nextafter(v, -math.inf)),
)


@SETTINGS
@given(batch=st.lists(st.tuples(coordinates_near_boxes, coordinates_near_boxes), min_size=1, max_size=60))
def test_sql_in_france_equals_python(db, batch):
    assert_twins(db, "in_france", n.in_france, *map(list, zip(*batch)), motif=False,
                 types=("double precision", "double precision"))


@SETTINGS
@given(batch=st.lists(st.tuples(st.floats(allow_nan=False, allow_infinity=False), st.floats(allow_nan=False, allow_infinity=False),
                                srids.filter(lambda s: s < 2**31)), min_size=1, max_size=40))
def test_sql_point_ewkt_is_the_point_python_writes(db, batch):
    """Python writes EWKT text that COPY turns into a geometry; SQL builds the geometry: same EWKB."""
    xs, ys, ss = map(list, zip(*batch))
    texts = [n.point_ewkt(x, y, s) for x, y, s in batch]
    rows = db.execute(sa.text(
        "select st_asewkb(norm.point_ewkt(t.x, t.y, t.s)) = st_asewkb(st_geomfromewkt(t.e)) "
        "from unnest(cast(:x as float8[]), cast(:y as float8[]), cast(:s as int[]), cast(:e as text[])) as t(x, y, s, e)"),
        {"x": xs, "y": ys, "s": ss, "e": texts}).scalars().all()
    assert all(rows), [t for t, ok in zip(texts, rows) if not ok][:5]
    assert n.point_ewkt(None, 1.0, 4326) is None
    assert db.execute(sa.text("select norm.point_ewkt(null, 1, 4326)")).scalar() is None


def test_sql_departement_of_insee_equals_python(db, realdata):
    codes = [c for c in _distinct_values(realdata) if n.is_missing(c) is False and len(c) >= 2] + ["97411", "2A004", "97133"]
    assert_twins(db, "departement_of_insee", n.departement_of_insee, codes, motif=False)
