"""The registry's application controls: one declaration built to fail each control.

The cases are keyed by the codes of `dbt_like_sql/reference/controles_declaration.csv`: a control
added to the table without a case here fails `test_every_control_has_a_case`. Each case starts
from a declaration that passes every control (`sample.declarations.ws1()` / `ws2()`), breaks one
thing, and checks the code in the registry's answer, and that a blocking control rejects while an
alert accepts.
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import pytest

from coproff_platform import reference
from coproff_platform.registre import schema
from coproff_platform.assets.reference import load_reference_layer
from coproff_platform.registre.controles import CONTROLES_DIR, catalogue, controler
from coproff_platform.registre.load import examine, read_records
from coproff_platform.sample import declarations as s

CSV = Path(__file__).resolve().parents[1] / "dbt_like_sql" / "reference" / "controles_declaration.csv"
KNOWN = {"AA0652685", "AB2351013"}


@pytest.fixture(scope="module")
def warehouse(postgis):
    """The reference layer the controls' SQL reads, loaded once for the module."""
    postgis.ensure_database()
    with postgis.engine.begin() as conn:
        load_reference_layer(conn)
    return postgis


@pytest.fixture
def conn(warehouse):
    """A transaction rolled back after the test (the controls' tables are temporary anyway)."""
    with warehouse.engine.connect() as c:
        tx = c.begin()
        yield c
        tx.rollback()


def _a(doc, **values):
    doc["identification"].update(values)


def _d(doc, **values):
    doc["donnees_financieres"].update(values)


def _c(doc, **values):
    doc["donnees_techniques"].update(values)


def _addr(doc, **values):
    doc["identification"]["adresse_principale"].update(values)


def _ratt(doc, **values):
    doc.setdefault("rattachement", s.justificatif()).update(values)


def _arrete(doc, **values):
    doc["procedures"]["arretes"] = [{"type": "peril", "date_arrete": "2021-03-10", "date_mainlevee": None} | values]


def _max_justificatif() -> int:
    return reference.parameter("declaration_justificatif_caracteres_max")


# code -> (service, mutation). Line-level codes (unreadable JSON, envelope) are tested on records.
CASES = {
    "STR_SERVICE_INCONNU": ("WS1", lambda d: d.update(service="WS3")),
    "STR_CHAMP_OBLIGATOIRE": ("WS1", lambda d: d.pop("rattachement")),
    "STR_CHAMP_INCONNU": ("WS1", lambda d: _a(d, nombre_lots_bureaux=3)),
    "STR_TYPE": ("WS2", lambda d: _a(d, nombre_lots_total="quarante")),
    "STR_VALEUR_HORS_LISTE": ("WS2", lambda d: d.update(type_mise_a_jour="trimestrielle")),
    "STR_VALEUR_INVALIDE": ("WS1", lambda d: _addr(d, latitude=123.0)),
    "STR_DATE_FORMAT": ("WS1", lambda d: _a(d, date_mise_en_copropriete="15/05/1972")),
    "T_MAIL_FORMAT": ("WS1", lambda d: d["teledeclarant"].update(mail_utilisateur="gestion.syndic")),
    "A_IMMAT_FORMAT": ("WS2", lambda d: d.update(numero_immatriculation="A0652685")),
    "A_SIRET_FORMAT": ("WS1", lambda d: _a(d, siret="1234 5678 9012")),
    "A_CODE_POSTAL_FORMAT": ("WS1", lambda d: _addr(d, code_postal="9314")),
    "A_CODE_INSEE_FORMAT": ("WS1", lambda d: _addr(d, code_insee="9301")),
    "A_NOMBRE_NEGATIF": ("WS1", lambda d: _a(d, nombre_lots_stationnement=-1)),
    "A_LOTS_TOTAL_NUL": ("WS1", lambda d: _a(d, nombre_lots_total=0, nombre_lots_habitation=0,
                                               nombre_lots_stationnement=0, nombre_lots_habitation_bureaux_commerces=0)),
    "A_PARCELLE_ABSENTE": ("WS1", lambda d: _a(d, parcelles_cadastrales=[])),
    "D_MONTANT_NEGATIF": ("WS2", lambda d: _d(d, dettes_fournisseurs=-5.0)),
    "T_DATE_TRANSMISSION": ("WS1", lambda d: d.update(date_transmission="2023-02-30T10:00:00+01:00")),
    "R_JUSTIFICATIF_TAILLE": ("WS1", lambda d: _ratt(d, justificatif="A" * (_max_justificatif() + 4))),
    "R_JUSTIFICATIF_BASE64": ("WS1", lambda d: _ratt(d, justificatif="ceci n'est pas du base 64 !")),
    "R_JUSTIFICATIF_PDF": ("WS1", lambda d: _ratt(d, nom_fichier="mandat.docx")),
    "R_ADMINISTRATION_PROVISOIRE": ("WS1", lambda d: _ratt(d, administration_provisoire=True)),
    "A_DATE_INEXISTANTE": ("WS1", lambda d: _d(d, date_cloture_comptes="2022-02-30")),
    "A_DATE_COPRO_FUTURE": ("WS1", lambda d: _a(d, date_mise_en_copropriete="2024-01-01")),
    "A_DATE_COPRO_ANCIENNE": ("WS1", lambda d: _a(d, date_mise_en_copropriete="1810-01-01")),
    "A_LOTS_HABITATION": ("WS1", lambda d: (_a(d, nombre_lots_habitation=41),
                                                  d["identification"].pop("nombre_lots_habitation_bureaux_commerces"))),
    "A_LOTS_STATIONNEMENT": ("WS2", lambda d: _a(d, nombre_lots_stationnement=41)),
    "A_LOTS_HABITATION_BUREAUX": ("WS1", lambda d: _a(d, nombre_lots_habitation_bureaux_commerces=20)),
    "A_ADRESSE_PLAGE": ("WS1", lambda d: _addr(d, numero_voie="12 à 14")),
    "A_ADRESSE_HORS_TERRITOIRE": ("WS1", lambda d: _addr(d, longitude=-30.0, latitude=40.0)),
    "A_PARCELLE_FORMAT": ("WS2", lambda d: _a(d, parcelles_cadastrales=["93010000AB0123", "93010AB12"])),
    "A_PARCELLE_DOUBLON": ("WS1", lambda d: _a(d, parcelles_cadastrales=["93010000AB0123", "93010000AB0123"])),
    "A_PARCELLE_DEPARTEMENT": ("WS1", lambda d: _a(d, parcelles_cadastrales=["75118000DF0112"])),
    "A_SIRET_CLE": ("WS1", lambda d: _a(d, siret="12345678901234")),
    "A_PRINCIPAL_MANQUANT": ("WS1", lambda d: _a(d, syndicat_principal=False)),
    "A_PRINCIPAL_SOI_MEME": ("WS2", lambda d: _a(d, syndicat_principal=False, numero_syndicat_principal="AA0652685")),
    "B_ARRETE_FUTUR": ("WS1", lambda d: _arrete(d, date_arrete="2023-09-01")),
    "B_MAINLEVEE_AVANT_ARRETE": ("WS2", lambda d: _arrete(d, date_mainlevee="2020-01-01")),
    "B_FIN_MISSION_AVANT_NOMINATION": ("WS1", lambda d: d["procedures"].update(
        mandat_ad_hoc={"date_ordonnance_nomination": "2022-05-01", "date_fin_mission": "2022-01-01"})),
    "B_PROCEDURE_FUTURE": ("WS2", lambda d: d["procedures"].update(date_ordonnance_carence="2024-01-01")),
    "C_PERIODE_INCONNUE": ("WS1", lambda d: _c(d, periode_construction="1961-1974")),
    "C_ETIQUETTE_INCONNUE": ("WS1", lambda d: _c(d, batiments_par_etiquette=[{"etiquette": "H", "nombre_batiments": 1}])),
    "C_ETIQUETTE_DOUBLON": ("WS2", lambda d: _c(d, batiments_par_etiquette=[{"etiquette": "D", "nombre_batiments": 1},
                                                                            {"etiquette": "D", "nombre_batiments": 2}])),
    "C_BATIMENTS_AUCUN": ("WS1", lambda d: _c(d, batiments_par_etiquette=[{"etiquette": "D", "nombre_batiments": 0}])),
    "C_ENERGIE_CHAUFFAGE": ("WS1", lambda d: _c(d, chauffage={"type": "collectif", "urbain": False, "energie": None})),
    "C_PERIODE_APRES_COPRO": ("WS1", lambda d: _c(d, periode_construction="DE_1975_A_1993")),
    "D_CLOTURE_APRES_AG": ("WS2", lambda d: _d(d, date_ag_approbation_comptes="2022-11-15")),
    "D_AG_FUTURE": ("WS1", lambda d: _d(d, date_ag_approbation_comptes="2023-07-01")),
    "D_IMPAYES_SANS_CHARGES": ("WS2", lambda d: _d(d, charges_courantes=0.0)),
    "D_IMPAYES_DEBITEURS": ("WS2", lambda d: _d(d, nombre_coproprietaires_impayes=0)),
    "D_DEBITEURS_LOTS": ("WS1", lambda d: _d(d, nombre_coproprietaires_impayes=41)),
    "D_IMPAYES_EXCESSIFS": ("WS2", lambda d: _d(d, montant_impayes=250000.0)),
    "D_CHARGES_PAR_LOT": ("WS2", lambda d: _d(d, charges_courantes=1200000.0)),
    "M_IMMAT_INCONNUE": ("WS2", lambda d: d.update(numero_immatriculation="ZZ9999999")),
    "M_ANNUELLE_HORS_DELAI": ("WS2", lambda d: d.update(date_transmission="2023-08-01T10:00:00+02:00")),
    "M_ANNUELLE_EXERCICE_ANCIEN": ("WS2", lambda d: _d(d, date_cloture_comptes="2020-12-31", date_ag_approbation_comptes="2023-05-20")),
}
LINE_CASES = {
    "STR_JSON_ILLISIBLE": '{"id_depot": "D1", "recu_le": "2023-06-01T10:00:00+02:00", "declaration": {"service": ',
    "STR_ENVELOPPE": '{"id_depot": "D1", "declaration": {"service": "WS1"}}',
}


def _rows() -> list[dict[str, str]]:
    with CSV.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_every_control_has_a_case_and_an_implementation():
    codes = {r["code"] for r in _rows()}
    assert codes == set(CASES) | set(LINE_CASES)
    business = {p.stem for p in CONTROLES_DIR.glob("*.sql") if not p.stem.startswith("_")}
    assert business == {r["code"] for r in _rows() if r["categorie"] == "metier"}
    implemented = business | schema.schema_codes() | set(LINE_CASES)
    assert codes == implemented, (codes - implemented, implemented - codes)


def test_at_least_twenty_controls_per_web_service():
    for service in ("WS1", "WS2"):
        assert sum(service in r["services"].split() for r in _rows()) >= 20


def test_reference_rows_are_well_formed():
    for r in _rows():
        assert r["niveau"] in ("bloquant", "alerte") and r["categorie"] in ("structure", "metier"), r
        assert r["message"] and set(r["services"].split()) <= {"WS1", "WS2"}, r


@pytest.mark.parametrize("service", ["WS1", "WS2"])
def test_valid_declaration_passes_every_control(conn, service):
    doc = s.ws1() if service == "WS1" else s.ws2()
    reponse = controler(conn, doc, connus=KNOWN)
    assert reponse.controles == [] and reponse.acceptee
    assert reponse.as_json()["statut"] == "acceptee"


@pytest.mark.parametrize("code", sorted(CASES))
def test_declaration_built_to_fail_the_control(conn, code):
    service, mutate = CASES[code]
    doc = copy.deepcopy(s.ws1() if service == "WS1" else s.ws2())
    mutate(doc)
    reponse = controler(conn, doc, connus=KNOWN)
    assert code in reponse.codes, reponse.as_json()
    control = catalogue()[code]
    assert reponse.acceptee is (not control.bloquant), reponse.as_json()
    body = reponse.as_json()
    entry = next(c for c in body["controles"] if c["code"] == code)
    assert entry["niveau"] == control.niveau and entry["message"] == control.message


@pytest.mark.parametrize("code", sorted(LINE_CASES))
def test_unreadable_line_fails_the_control(code, tmp_path):
    path = tmp_path / "declarations.jsonl"
    path.write_text(LINE_CASES[code] + "\n", encoding="utf-8")
    (record,) = list(read_records(path, "x.jsonl"))
    ex = examine(record)
    assert ex.reponse.codes == [code] and not ex.reponse.acceptee and ex.num is None and ex.staged is None


def test_structure_failures_name_the_field(conn):
    doc = s.ws2()
    del doc["identification"]["nom_usage"]
    doc["donnees_financieres"]["montant_impayes"] = -1
    failures = {(f.code, f.champ) for f in controler(conn, doc, connus=KNOWN).controles}
    assert failures == {("STR_CHAMP_OBLIGATOIRE", "identification/nom_usage"),
                        ("D_MONTANT_NEGATIF", "donnees_financieres/montant_impayes")}


def test_annual_update_requires_blocks_c_and_d_but_standard_does_not(conn):
    doc = s.ws2(type_mise_a_jour="annuelle")
    del doc["donnees_financieres"]
    assert controler(conn, doc, connus=KNOWN).codes == ["STR_CHAMP_OBLIGATOIRE"]
    doc["type_mise_a_jour"] = "standard"
    del doc["donnees_techniques"]
    assert controler(conn, doc, connus=KNOWN).acceptee


def test_hyphenated_registration_number_is_the_same_registration(conn):
    doc = s.ws2("AA0-652-685")
    assert controler(conn, doc, connus=KNOWN).acceptee


def test_schemas_are_valid_json_schema_documents():
    import jsonschema
    for service in schema.SERVICES:
        jsonschema.Draft202012Validator.check_schema(schema.bundled(service))
