"""Sample declarations to the registry: `<landing>/<M>/declarations/*.jsonl` and their truth.

Reads the sample's own RNIC file(s) of the millésime (so every update names a registration that
exists), and writes, one line per declaration received by the registry (an envelope
`{"id_depot", "recu_le", "numero_attribue", "declaration"}`):
- an annual update (WS2 `annuelle`) for a share of the registrations, with plausible charges per
  lot (log-normal around 1,500 € a lot and a year), skewed arrears (most copropriétés a few %, a
  tail above a quarter of the charges), rare procedures (arrêtés, mandat ad hoc, carence);
- a few standard updates and new registrations (WS1, numbers of the test sequence `ZT…`);
- malformed declarations, each planted with the controls it must fail, written to the ground
  truth `$COPROFF_TRUTH_DIR/<M>/declarations_rejetees.csv` (file, line, the blocking codes they
  must fail; an incidental alert such as a late annual update may come on top).
Deterministic for a seed. Called by `coproff registre sample` (after `coproff sample`); the sample
generator may call `write_declarations()` as a hook once the RNIC file is written.
"""

from __future__ import annotations

import base64
import copy
import csv
import datetime as dt
import hashlib
import json
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coproff_platform import normalise as n
from coproff_platform import reference

ANNUAL_SHARE = 0.6  # registrations with an annual update in the millésime
STANDARD_SHARE = 0.03
WS1_SHARE = 0.02
MALFORMED_SHARE = 0.01
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def siret_with_key(prefix13: str) -> str:
    """A 14-digit SIRET whose last digit makes the Luhn checksum right."""
    for d in "0123456789":
        if n.luhn_ok(prefix13 + d):
            return prefix13 + d
    raise AssertionError("unreachable")


def justificatif() -> dict[str, Any]:
    return {"administration_provisoire": False, "type_justificatif": "contrat_syndic",
            "nom_fichier": "contrat_syndic.pdf", "justificatif": base64.b64encode(PDF).decode()}


def identification(*, nom: str = "Résidence des Tilleuls", numero: str = "12", voie: str = "rue des Tilleuls",
                   code_postal: str = "93140", commune: str = "Bondy", code_insee: str = "93010",
                   lon: float | None = 2.4825, lat: float | None = 48.9023,
                   parcelles: list[str] | None = None, lots_total: int = 40, lots_hab: int = 30,
                   lots_stat: int = 10, date_copro: str = "1972-05-15", siret: str | None = None) -> dict[str, Any]:
    return {
        "nom_usage": nom,
        "date_mise_en_copropriete": date_copro,
        "siret": siret,
        "adresse_principale": {"numero_voie": numero, "voie": voie, "code_postal": code_postal, "commune": commune,
                               "code_insee": code_insee, "longitude": lon, "latitude": lat},
        "adresses_secondaires": [],
        "parcelles_cadastrales": parcelles or ["93010000AB0123"],
        "residence_service": False,
        "syndicat_cooperatif": False,
        "syndicat_principal": True,
        "numero_syndicat_principal": None,
        "nombre_asl": 0,
        "nombre_aful": 0,
        "nombre_unions_syndicats": 0,
        "nombre_lots_total": lots_total,
        "nombre_lots_habitation_bureaux_commerces": lots_hab,
        "nombre_lots_habitation": lots_hab,
        "nombre_lots_stationnement": lots_stat,
    }


def techniques(periode: str = "DE_1961_A_1974") -> dict[str, Any]:
    return {
        "batiments_par_etiquette": [{"etiquette": "D", "nombre_batiments": 1}, {"etiquette": "E", "nombre_batiments": 1}],
        "periode_construction": periode,
        "chauffage": {"type": "collectif", "urbain": False, "energie": "gaz"},
        "nombre_ascenseurs": 1,
    }


def financieres(*, ag: str = "2023-05-20", cloture: str = "2022-12-31", charges: float = 60000.0,
                impayes: float = 4500.0, debiteurs: int = 3) -> dict[str, Any]:
    return {
        "date_ag_approbation_comptes": ag, "date_cloture_comptes": cloture,
        "charges_courantes": charges, "charges_exceptionnelles": 0.0,
        "montant_impayes": impayes, "nombre_coproprietaires_impayes": debiteurs,
        "dettes_fournisseurs": 1200.0, "fonds_travaux": 15000.0, "presence_employes": False,
    }


def teledeclarant() -> dict[str, Any]:
    return {"identifiant": "EDITEUR-TEST-01", "mail_utilisateur": "gestion@syndic-exemple.fr"}


def ws1(**identification_args: Any) -> dict[str, Any]:
    """A WS1 declaration that passes every control (without alert)."""
    return {
        "service": "WS1",
        "date_transmission": "2023-06-01T10:00:00+02:00",
        "teledeclarant": teledeclarant(),
        "rattachement": justificatif(),
        "identification": identification(**identification_args),
        "procedures": {"arretes": [], "mandat_ad_hoc": None, "date_ordonnance_carence": None},
        "donnees_techniques": techniques(),
        "donnees_financieres": financieres(),
    }


def ws2(num_immat: str = "AA0652685", type_mise_a_jour: str = "annuelle", **identification_args: Any) -> dict[str, Any]:
    """A WS2 annual update that passes every control (without alert)."""
    doc = ws1(**identification_args)
    del doc["rattachement"]
    doc.update(service="WS2", numero_immatriculation=num_immat, type_mise_a_jour=type_mise_a_jour)
    return doc


# -- malformed declarations planted in the sample: mutation → the exact codes it must fail ---------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = doc
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        node[last] = value
    return apply


def _drop(path: str) -> Mutation:
    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = doc
        for p in parents:
            node = node[p]
        del node[last]
    return apply


@dataclass(frozen=True)
class Malformation:
    name: str
    services: tuple[str, ...]
    mutate: Callable[[dict[str, Any]], None]
    codes: tuple[str, ...]


def _lots_hab_over_total(doc: dict[str, Any]) -> None:
    a = doc["identification"]
    a["nombre_lots_habitation"] = a["nombre_lots_total"] + 5
    a["nombre_lots_habitation_bureaux_commerces"] = a["nombre_lots_total"] + 5


def _mainlevee_before(doc: dict[str, Any]) -> None:
    doc["procedures"]["arretes"] = [{"type": "peril", "date_arrete": "2021-03-10", "date_mainlevee": "2020-01-05"}]


def _debiteurs_over_lots(doc: dict[str, Any]) -> None:
    doc["donnees_financieres"]["nombre_coproprietaires_impayes"] = doc["identification"]["nombre_lots_total"] + 1


MALFORMATIONS: tuple[Malformation, ...] = (
    Malformation("sans_identification", ("WS1", "WS2"), _drop("identification"), ("STR_CHAMP_OBLIGATOIRE",)),
    Malformation("lots_en_texte", ("WS1", "WS2"), _set("identification/nombre_lots_total", "quarante"), ("STR_TYPE",)),
    Malformation("immat_mal_formee", ("WS2",), _set("numero_immatriculation", "A-12345"), ("A_IMMAT_FORMAT",)),
    Malformation("adresse_plage", ("WS1", "WS2"), _set("identification/adresse_principale/numero_voie", "12-14"), ("A_ADRESSE_PLAGE",)),
    Malformation("siret_cle", ("WS1", "WS2"), _set("identification/siret", "12345678901234"), ("A_SIRET_CLE",)),
    Malformation("parcelle_mal_formee", ("WS1", "WS2"), _set("identification/parcelles_cadastrales", ["93010AB12"]), ("A_PARCELLE_FORMAT",)),
    Malformation("habitation_sup_total", ("WS1", "WS2"), _lots_hab_over_total, ("A_LOTS_HABITATION", "A_LOTS_HABITATION_BUREAUX")),
    Malformation("mainlevee_avant_arrete", ("WS1", "WS2"), _mainlevee_before, ("B_MAINLEVEE_AVANT_ARRETE",)),
    Malformation("impayes_negatifs", ("WS1", "WS2"), _set("donnees_financieres/montant_impayes", -120.0), ("D_MONTANT_NEGATIF",)),
    Malformation("debiteurs_sup_lots", ("WS1", "WS2"), _debiteurs_over_lots, ("D_DEBITEURS_LOTS",)),
    Malformation("json_tronque", ("WS1", "WS2"), lambda doc: None, ("STR_JSON_ILLISIBLE",)),
)


# -- from the sample's RNIC rows -----------------------------------------------------------------

_NUMERO = re.compile(r"^\s*(\d+)(?:\s*(?:bis|ter|quater|[A-Z])\b)?[\s,]+(.*)$", re.IGNORECASE)


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _rnic_rows(folder: Path) -> Iterator[dict[str, str]]:
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            yield from csv.DictReader(f)


def _from_rnic(row: dict[str, str], millesime: int) -> tuple[str, dict[str, Any]] | None:
    """(num_immat, block A) from one current-format RNIC row; None when it cannot be declared."""
    try:
        num = n.num_immat(row.get("numero_d_immatriculation"))
        refs = [n.idpar_ref_or_parts(row.get(f"reference_cadastrale_{i}"), row.get(f"code_insee_commune_{i}"),
                                     row.get(f"prefixe_{i}"), row.get(f"section_{i}"), row.get(f"numero_parcelle_{i}"))
                for i in (1, 2, 3)]
        code_insee = n.insee(row.get("commune"))
    except n.Invalid:
        return None
    parcelles = list(dict.fromkeys(r for r in refs if r))
    cp = (row.get("code_postal_adresse_de_reference") or "").strip().zfill(5)
    if num is None or not parcelles or not re.fullmatch(r"[0-9]{5}", cp):
        return None
    m = _NUMERO.match(row.get("numero_et_voie_adresse_de_reference") or "")
    numero, voie = (m.group(1), m.group(2).strip(" ,")) if m else (None, (row.get("numero_et_voie_adresse_de_reference") or "").strip(" ,"))
    total = _int(row.get("nombre_total_de_lots")) or 1
    hab = _int(row.get("nombre_de_lots_a_usage_d_habitation")) or 0
    stat = _int(row.get("nombre_de_lots_de_stationnement")) or 0
    hbc = _int(row.get("nombre_total_de_lots_a_usage_d_habitation_de_bureaux_ou_de_comm"))
    total = max(total, hab, stat, hbc or 0)  # the registry's own export contradicts itself at times
    hbc = max(hbc or hab, hab)
    date_reg = row.get("date_du_reglement_de_copropriete") or ""
    a = identification(
        nom=(row.get("nom_d_usage_de_la_copropriete") or "").strip() or f"Copropriété {num}",
        numero=numero, voie=voie or "voie inconnue", code_postal=cp,
        commune=(row.get("commune_adresse_de_reference") or "").strip() or "commune inconnue",
        code_insee=code_insee if code_insee and parcelles[0][:2] == code_insee[:2] else None,
        lon=_float(row.get("long")), lat=_float(row.get("lat")), parcelles=parcelles,
        lots_total=total, lots_hab=hab, lots_stat=stat,
        # A règlement dated after the updates' exercise would be a planted error: kept for the registry only.
        date_copro=date_reg if (re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", date_reg)
                                and f"{reference.parameter('declaration_annee_min'):04d}" <= date_reg < f"{millesime - 1}-01-01")
        else "1975-01-01",
    )
    a["nombre_lots_habitation_bureaux_commerces"] = hbc
    return num, a


def _annual(rng: random.Random, num: str, a: dict[str, Any], millesime: int) -> dict[str, Any]:
    doc = ws2(num)
    doc["identification"] = a
    lots = a["nombre_lots_total"]
    charges = round(lots * min(8000.0, max(200.0, rng.lognormvariate(math.log(1500), 0.45))), 2)
    share = rng.lognormvariate(math.log(0.05), 1.0)  # skewed: median 5 %, a tail above 25 %
    impayes = round(charges * min(share, 2.5), 2) if rng.random() > 0.12 else 0.0
    debiteurs = 0 if impayes == 0 else max(1, min(lots, round(lots * min(0.6, share * rng.uniform(0.5, 1.5)))))
    ag = dt.date(millesime, 1, 15) + dt.timedelta(days=rng.randrange(0, 160))
    delay = rng.randrange(1, 55) if rng.random() > 0.08 else rng.randrange(70, 200)
    sent = ag + dt.timedelta(days=delay)
    d = financieres(ag=ag.isoformat(), cloture=f"{millesime - 1}-12-31", charges=charges,
                    impayes=impayes, debiteurs=debiteurs)
    d["charges_exceptionnelles"] = round(charges * rng.choice((0, 0, 0, 0.1, 0.3)), 2)
    d["dettes_fournisseurs"] = round(charges * rng.lognormvariate(math.log(0.04), 0.9), 2)
    d["fonds_travaux"] = round(charges * rng.uniform(0.05, 0.6), 2)
    d["presence_employes"] = lots > 150 and rng.random() < 0.4
    doc["donnees_financieres"] = d
    labels = rng.choices("ABCDEFG", weights=(2, 5, 15, 30, 25, 15, 8), k=max(1, min(6, lots // 40 + 1)))
    doc["donnees_techniques"]["batiments_par_etiquette"] = [
        {"etiquette": e, "nombre_batiments": labels.count(e)} for e in sorted(set(labels))]
    if rng.random() < 0.3:
        doc["donnees_techniques"]["chauffage"] = {"type": "individuel", "urbain": None, "energie": None}
    doc["donnees_techniques"]["nombre_ascenseurs"] = 0 if lots < 20 else rng.randrange(0, 1 + lots // 30)
    doc["donnees_techniques"]["periode_construction"] = "AVANT_1949"  # never after the copropriété's date
    # Rare procedures, more often where arrears are high.
    if rng.random() < (0.004 + (0.03 if share > 0.25 else 0)):
        start = dt.date(millesime - rng.randrange(1, 8), rng.randrange(1, 13), 1)
        lifted = (start + dt.timedelta(days=rng.randrange(200, 900))).isoformat() if rng.random() < 0.4 else None
        if lifted and lifted > sent.isoformat():
            lifted = None
        doc["procedures"]["arretes"] = [{"type": rng.choice(("insalubrite", "peril", "equipements_communs")),
                                         "date_arrete": start.isoformat(), "date_mainlevee": lifted}]
    if rng.random() < 0.002 + (0.01 if share > 0.4 else 0):
        doc["procedures"]["mandat_ad_hoc"] = {"date_ordonnance_nomination": f"{millesime - 1}-10-02", "date_fin_mission": None}
    if rng.random() < 0.0005:
        doc["procedures"]["date_ordonnance_carence"] = f"{millesime - 1}-06-12"
    doc["date_transmission"] = f"{sent.isoformat()}T09:30:00+02:00"
    return doc


def _envelope(i: int, doc: dict[str, Any], attribue: str | None = None) -> dict[str, Any]:
    sent = doc.get("date_transmission", "2023-01-01T00:00:00+00:00")
    return {"id_depot": f"D{i:08d}", "recu_le": sent, "numero_attribue": attribue, "declaration": doc}


def write_sample(millesime: int, land: Path, truth: Path, seed: int) -> dict[str, int]:
    """The generator's hook (`PACKAGE_SOURCES["declarations"].sample_writer`): `land` and `truth`
    are the millésime's folders (the generator writes them under a temporary name)."""
    return write_declarations(millesime, land.parent, truth.parent, seed, folders=(land, truth))


def write_declarations(millesime: int, landing: Path, truth: Path, seed: int = 42,
                       malformed_share: float = MALFORMED_SHARE,
                       folders: tuple[Path, Path] | None = None) -> dict[str, int]:
    """Writes `<landing>/<M>/declarations/declarations.jsonl` and the truth file; returns counts.
    `folders` = (landing, truth) folders of the millésime when not `<landing>/<M>`, `<truth>/<M>`."""
    rng = random.Random(f"declarations:{millesime}:{seed}")
    land_m, truth_m = folders or (landing / str(millesime), truth / str(millesime))
    folder = land_m / "declarations"
    folder.mkdir(parents=True, exist_ok=True)
    truth_m.mkdir(parents=True, exist_ok=True)
    out_path = folder / "declarations.jsonl"
    counts = {"annuelle": 0, "standard": 0, "ws1": 0, "malformees": 0}
    planted: list[tuple[int, str, str]] = []
    line = 0
    seq = 0
    with out_path.open("w", encoding="utf-8") as out:
        def emit(record: dict[str, Any] | str) -> None:
            nonlocal line
            line += 1
            out.write((record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)) + "\n")

        for row in _rnic_rows(land_m / "rnic"):
            parsed = _from_rnic(row, millesime)
            if parsed is None:
                continue
            num, a = parsed
            r = rng.random()
            if r < malformed_share:
                m = MALFORMATIONS[counts["malformees"] % len(MALFORMATIONS)]  # every kind, in turn
                service = rng.choice(m.services)
                doc = _annual(rng, num, a, millesime)
                if service == "WS1":
                    del doc["numero_immatriculation"], doc["type_mise_a_jour"]
                    doc = {"service": "WS1", "rattachement": justificatif(), **{k: v for k, v in doc.items() if k != "service"}}
                m.mutate(doc)
                record = _envelope(line + 1, doc)
                emit(json.dumps(record, ensure_ascii=False)[:-40] if m.name == "json_tronque" else record)
                planted.append((line, m.name, " ".join(sorted(m.codes))))
                counts["malformees"] += 1
            elif r < malformed_share + ANNUAL_SHARE:
                emit(_envelope(line + 1, _annual(rng, num, a, millesime)))
                counts["annuelle"] += 1
            elif r < malformed_share + ANNUAL_SHARE + STANDARD_SHARE:
                doc = ws2(num, "standard")
                doc["identification"] = a
                doc["date_transmission"] = f"{millesime}-03-02T11:00:00+01:00"
                del doc["donnees_financieres"], doc["donnees_techniques"]
                emit(_envelope(line + 1, doc))
                counts["standard"] += 1
            elif r < malformed_share + ANNUAL_SHARE + STANDARD_SHARE + WS1_SHARE:
                seq += 1
                doc = ws1()
                doc["identification"] = copy.deepcopy(a)
                doc["identification"]["nom_usage"] = f"{a['nom_usage']} (nouvelle copropriété)"
                doc["donnees_financieres"] = None
                del doc["donnees_financieres"]
                doc["date_transmission"] = f"{millesime}-04-{1 + seq % 28:02d}T10:00:00+02:00"
                emit(_envelope(line + 1, doc, attribue=f"ZT{millesime % 100:02d}{seq:05d}"))
                counts["ws1"] += 1
    with (truth_m / "declarations_rejetees.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source_file", "source_line", "malformation", "codes"])
        rel = f"{millesime}/declarations/{out_path.name}"
        for ln, name, codes in planted:
            w.writerow([rel, ln, name, codes])
    digest = hashlib.sha256(out_path.read_bytes()).hexdigest()[:12]
    counts["lignes"] = line
    counts["sha256"] = int(digest, 16) % 10**9
    return counts
