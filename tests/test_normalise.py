"""Normalisers: unit examples from the real sources, and properties over generated values."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coproff_platform import reference
from coproff_platform import normalise as n
from coproff_platform.normalise import Invalid

letters = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
digits = st.sampled_from("0123456789")


# -- registration numbers -------------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["AA0652685", " AB2351013 ", "ah1602424", "AA0-652-685"])
def test_registration_numbers_normalise_to_nine_characters(raw):
    assert n.num_immat(raw) in {"AA0652685", "AB2351013", "AH1602424"}


@pytest.mark.parametrize("raw", ["A0652685", "AA065268", "AA06526850", "1A0652685", "AAA652685"])
def test_malformed_registration_numbers_are_invalid(raw):
    with pytest.raises(Invalid) as exc:
        n.num_immat(raw)
    assert exc.value.reason == "num_immat_invalide"


@given(st.text(letters, min_size=2, max_size=2), st.text(digits, min_size=7, max_size=7))
def test_hyphenated_and_plain_forms_agree(prefix, number):
    plain = prefix + number
    hyphenated = f"{plain[:3]}-{plain[3:6]}-{plain[6:]}"
    assert n.num_immat(hyphenated) == n.num_immat(plain.lower()) == plain


# -- cadastral references ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("75056115DF0112", "75115000DF0112"),  # Paris, registry form
        ("69123383DH0010", "69383000DH0010"),  # Lyon
        ("13055208AB0001", "13208000AB0001"),  # Marseille
        ("75115000DF0112", "75115000DF0112"),  # already in FF form
        ("930100000P0206", "930100000P0206"),
        ("93010000P0206", "930100000P0206"),  # one-letter section lost its padding
        ("2A004000AB0012", "2A004000AB0012"),  # Corsica
        ("93010000NA0012", "93010000NA0012"),  # section NA is not R's missing value
    ],
)
def test_idpar_from_reference(raw, expected):
    assert n.idpar(raw) == expected


def test_idpar_from_components_pads_section_and_number():
    assert n.idpar_from_parts("93010", "000", "E", "121") == "930100000E0121"
    assert n.idpar_from_parts("75056", "115", "DF", "112") == "75115000DF0112"
    assert n.idpar_ref_or_parts("", "93010", "000", "P", "192") == "930100000P0192"
    assert n.idpar_ref_or_parts("", "non connu", "non connu", "non connu", "non connu") is None


def test_real_reference_forms_are_read():
    assert n.idpar("93010000at0094") == "93010000AT0094"  # lower case
    assert n.idpar_ref_or_parts("", "93010", "000", "e", "121") == "930100000E0121"  # components only
    assert n.idpar_ref_or_parts("93010000OQ0025", "93010", "000", "OQ", "0025") == "93010000OQ0025"  # kept


def test_a_malformed_full_reference_falls_back_to_its_components():
    assert n.idpar_ref_or_parts("9301000E121", "93010", "000", "E", "121") == "930100000E0121"
    with pytest.raises(Invalid):
        n.idpar_ref_or_parts("9301000E121", "non connu", "non connu", "non connu", "non connu")


@pytest.mark.parametrize("raw", ["93010000", "9301000000P02061", "93010ABC0P0206", "93010000P!0206"])
def test_malformed_references_are_invalid(raw):
    with pytest.raises(Invalid) as exc:
        n.idpar(raw)
    assert exc.value.reason == "reference_cadastrale_invalide"


plm = st.sampled_from([("75056", "751", range(101, 121)), ("69123", "693", range(381, 390)),
                       ("13055", "132", range(201, 217))])
sections = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=1, max_size=2)
numeros = st.integers(min_value=1, max_value=9999)


@given(plm, st.data(), sections, numeros)
def test_plm_registry_form_becomes_arrondissement_form(city, data, section, numero):
    commune, _, arrondissements = city
    arr = data.draw(st.sampled_from(list(arrondissements)))
    registry = f"{commune}{arr:03d}{section.rjust(2, '0')}{numero:04d}"
    result = n.idpar(registry)
    assert len(result) == 14
    assert result[:5] == commune[:2] + f"{arr:03d}"  # arrondissement code
    assert result[5:8] == "000"
    assert result[8:] == section.rjust(2, "0") + f"{numero:04d}"
    assert n.idpar(result) == result  # idempotent
    assert n.idpar_from_parts(commune, str(arr), section, str(numero)) == result


@given(st.integers(1000, 95999), sections, numeros)
def test_ordinary_references_are_kept_and_idempotent(code, section, numero):
    commune = f"{code:05d}"
    ref = f"{commune}000{section.rjust(2, '0')}{numero:04d}"
    assert n.idpar(ref) == ref
    assert n.idpar_from_parts(commune, "0", section, str(numero)) == ref


# -- periods, booleans, dates, numbers ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [("AVANT_1949", "AVANT_1949"), ("De 1949 à 1960", "DE_1949_A_1960"),
     ("NON_CONNUE", None), ("non renseigné", None), ("", None)],
)
def test_periods(raw, expected):
    assert n.period(raw) == expected


def test_every_period_label_of_the_reference_layer_reads_as_its_code():
    # labels as periodes_construction.csv writes them ("À compter de 2011": accent, capital)
    for row in reference.table("periodes_construction"):
        assert n.period(row.libelle) == row.code


@given(st.sampled_from(n.PERIODS))
def test_every_period_code_round_trips_through_its_label(code):
    label = code.replace("_", " ").lower()
    assert n.period(code) == n.period(label) == code


def test_unknown_period_is_invalid():
    with pytest.raises(Invalid):
        n.period("ENTRE_1800_ET_1900")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("oui", True), ("non", False), ("Oui", True), ("Non", False), ("1", True), ("0", False),
     ("non connu", None), ("", None), ("NA", None)],
)
def test_booleans(raw, expected):
    assert n.boolean(raw) is expected


@given(st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_iso_and_french_dates_agree(day):
    assert n.date(day.isoformat()) == n.date(day.strftime("%d/%m/%Y")) == day


@pytest.mark.parametrize("raw", ["2023-02-30", "32/01/2020", "20230101", "hier"])
def test_unparseable_dates_are_invalid(raw):
    with pytest.raises(Invalid) as exc:
        n.date(raw)
    assert exc.value.reason == "date_invalide"


@pytest.mark.parametrize("raw", ["non connu", "", "NA", None, "  "])
def test_placeholders_are_null(raw):
    assert n.text(raw) is None and n.integer(raw) is None and n.date(raw) is None


def test_numbers_with_decimal_comma_and_lost_zeros():
    assert n.decimal("8000,00") == Decimal("8000.00")
    assert n.integer("12.0") == 12
    assert n.postcode("1000") == "01000"
    assert n.postcode("93140") == "93140"
    assert n.insee("1053") == "01053"
    with pytest.raises(Invalid):
        n.integer("12,5")
    with pytest.raises(Invalid):
        n.postcode("ABCDE")


@given(st.integers(1000, 99999))
def test_postcodes_are_five_digits_whatever_the_export(code):
    assert n.postcode(str(code)) == n.postcode(f"{code:05d}") == f"{code:05d}"


# -- SIRET ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("siret", ["34863116900045", "59202763500032", "60205776200034", "35600000000048"])
def test_real_sirets_pass_the_checksum(siret):
    assert n.siret_checksum_ok(siret)


@given(st.text(digits, min_size=13, max_size=13))
def test_exactly_one_check_digit_completes_a_siret(body):
    valid = [d for d in "0123456789" if n.siret_checksum_ok(body + d)]
    if not body.startswith("356000000"):  # La Poste has a second rule
        assert len(valid) == 1


def test_siret_format():
    assert n.siret("348 631 169 00045") == "34863116900045"
    with pytest.raises(Invalid):
        n.siret("3486311690004")


# -- names and geometry -----------------------------------------------------------------------------------
def test_header_names_normalise_accents_and_punctuation():
    assert n.normalise_name("Numéro d'immatriculation") == "numero_d_immatriculation"
    assert n.normalise_name("Nombre de lots à usage d’habitation") == "nombre_de_lots_a_usage_d_habitation"
    assert n.normalise_name("N°DPE") == "n_dpe"
    assert n.normalise_name("\ufeffEtiquette_DPE ") == "etiquette_dpe"


def test_local_projection_by_departement():
    assert n.local_srid("93") == 2154 and n.local_srid("2A") == 2154 and n.local_srid("974") == 2975
    # every overseas territory of territoires.csv, by its code or a commune code of it
    for row in reference.table("territoires"):
        if row.code_departement:
            assert n.local_srid(row.code_departement) == n.local_srid(row.code_departement + "01") == row.srid_local


def test_ewkt_and_ewkb_carry_their_srid():
    assert n.ewkt_or_ewkb("SRID=2154;POINT(1 2)") == ("SRID=2154;POINT(1 2)", 2154)
    # hex EWKB of SRID=2975;POINT(1 2)
    ewkb = "01010000209f0b0000000000000000f03f0000000000000040"
    assert n.ewkt_or_ewkb(ewkb) == (ewkb, 2975)
    with pytest.raises(Invalid):
        n.ewkt_or_ewkb("POINT(1 2)")


def test_points_inside_france():
    assert n.in_france(2.48, 48.9) and n.in_france(55.45, -20.88) and n.in_france(-61.5, 16.2)
    assert not n.in_france(0.0, 0.0) and not n.in_france(48.9, 2.48)


# -- what is NOT a value: forms Python's own parsers would take but the sources never mean ------
@pytest.mark.parametrize("fn, raw", [
    (n.integer, "²"), (n.integer, "١٢"), (n.decimal, "1_000"), (n.decimal, "inf"),
    (n.decimal, "014080000E0535"), (n.postcode, "²²²"), (n.num_immat, "AAß065268"),
])
def test_non_ascii_digits_underscores_and_huge_exponents_are_invalid(fn, raw):
    with pytest.raises(Invalid):
        fn(raw)
