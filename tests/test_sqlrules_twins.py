"""The fast path's partial SQL twins (`loading/sqlrules.py`) never disagree with `normalise.py`: a
raw value their `ok` accepts gets exactly Python's value; what Python refuses, `ok` refuses (the
row then goes to Python). Values with unusual spaces never reach them (the guard of `loading.fast`
sends those lines to Python), so the alphabet has the plain space only."""

import datetime as dt
import decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coproff_platform import normalise as n
from coproff_platform.loading import sqlrules

ALPHABET = "0123456789 -.,/:TaAbBzZeEoOnNé_"
PLACEHOLDERS = sorted(n.MISSING) + ["NA", "Non Connu", " na ", "NULL", "non renseigné ", "NON RENSEIGNÉ"]
FORMS = ["2023-02-28", "2023-02-29", "2024-02-29", "0000-01-01", "2023-13-01", "2023-04-31T10:00", "05/03/2021",
         "93010", "1053", "2A004", "2b004", "97411", "97", "974", "979", "2A", "1", "AB1234567", "ab1234567",
         "AB-123-4567", "12.0", "-12", "--5", "007", "1 000", "12,5", "1e3", ".5", "5.", "-0.0", "0",
         "123456789012345", "1234567890123456.5", "930100000P0206", "93010000P206", "75056101AB0001",
         "2A004000AB0012", "12345678901234", "1234567890123", "oui", "Non", "t", "principal", "A", "g", "H",
         "AVANT_1949", "avant_1949", "Avant 1949", "NON_CONNU", "A__B", "professionnel", "Bénévole",
         "Identité non partagée (bénévole)", "identité non partagée", "99999999999", "1234567890"]
RAW = st.one_of(st.none(), st.sampled_from(PLACEHOLDERS + FORMS),
                st.text(alphabet=ALPHABET, max_size=16),
                st.builds(lambda a, b: a + b, st.sampled_from(FORMS), st.text(alphabet=ALPHABET, max_size=3)))
SINGLE = sorted(sqlrules.SQL.items(), key=lambda kv: kv[0].__name__)


def python(fn, *raw):
    try:
        return True, fn(*raw)
    except n.Invalid:
        return False, None


def same(a, b) -> bool:
    if isinstance(a, decimal.Decimal) and isinstance(b, decimal.Decimal):
        return a == b and (a == 0 or a.as_tuple().exponent == b.as_tuple().exponent)
    if isinstance(a, float) and isinstance(b, float):
        return a == b and repr(a) == repr(b) or (a == 0 and b == 0)
    return a == b and type(a) is type(b)


def sql(conn, rendered, values: tuple):
    value, ok = rendered
    params = {f"p{i}": v for i, v in enumerate(values)}
    row = conn.execute(sa.text(f"select {ok}, case when {ok} then {value} end from "
                               f"(select {', '.join(f'cast(:p{i} as text) as c{i}' for i in range(len(values)))}) v"),
                       params).one()
    return bool(row[0]), row[1]


@pytest.mark.parametrize("fn, twin", SINGLE, ids=[f.__name__ for f, _ in SINGLE])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=RAW)
def test_a_single_field_twin_accepts_only_what_python_normalises_the_same(postgis, fn, twin, raw):
    with postgis.engine.connect() as conn:
        ok, value = sql(conn, twin("v.c0"), (raw,))
    valid, expected = python(fn, raw)
    if ok:
        assert valid, f"{fn.__name__}({raw!r}): SQL accepts what Python refuses"
        if isinstance(expected, dt.date) and not isinstance(expected, dt.datetime):
            assert value == expected
        else:
            assert same(value, expected), f"{fn.__name__}({raw!r}): SQL {value!r}, Python {expected!r}"


PARTS = st.tuples(st.one_of(RAW, st.sampled_from(["930100000P0206", "75056101AB0001", "93010000OQ0025", ""])),
                  st.sampled_from([None, "", "93010", "75056", "2A004", "1053", "NA", "x"]),
                  st.sampled_from([None, "", "0", "000", "101", "1000", "a"]),
                  st.sampled_from([None, "", "P", "AB", "0P", "ab", "é", "ABC", "NA"]),
                  st.sampled_from([None, "", "206", "0206", "12345", "1a"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=PARTS)
def test_the_cadastral_reference_twin_agrees_with_idpar_ref_or_parts(postgis, parts):
    with postgis.engine.connect() as conn:
        ok, value = sql(conn, sqlrules.SQL_MULTI[n.idpar_ref_or_parts](*(f"v.c{i}" for i in range(5))), parts)
    valid, expected = python(n.idpar_ref_or_parts, *parts)
    if ok:
        assert valid and value == expected, f"{parts!r}: SQL {value!r}, Python {expected!r}"
