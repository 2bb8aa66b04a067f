"""The editors' test service: the registry's two web services on 127.0.0.1, for self-certification.

`POST /ws1` (immatriculation et rattachement) and `POST /ws2` (mise à jour) take one JSON
declaration and answer like the registry: the same schema and controls as the landing source
(`controles.controler`: the JSON Schema, then the business controls' SQL on a batch of one, the very
files the landing source runs on its whole batch), then
- 201 (WS1) with a registration number from the local test sequence (`ZT` + 7 digits, the
  registry's pattern of 2 letters + 7 digits), or 200 (WS2);
- 400 with the control results when a blocking control fails (or the body is not JSON);
- 500 when the service itself fails (database unreachable, ...), with the reason.
An accepted declaration is appended, as received, to the landing zone of the millésime it belongs
to (`<landing>/<N>/declarations/service_test.jsonl`, N by the cut-off month of
`parametres.declarations_mois_arret`), so that the next `coproff materialize` of N loads it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from coproff_platform import reference
from coproff_platform.registre.controles import Reponse, controler
from coproff_platform.registre.load import canonical
from coproff_platform.registre.schema import Failure
from coproff_platform.resources.postgis import PostGISResource

LANDING_FILE = "service_test.jsonl"
SETUP_SQL = """
create schema if not exists registre_test;
create sequence if not exists registre_test.sequence_immatriculation;
create table if not exists registre_test.numero (
    num_immat char(9) primary key, id_depot text not null, attribue_le timestamptz not null default now());
comment on table registre_test.numero is 'Numéros d''immatriculation attribués par le service de test des éditeurs';
"""


def millesime_of(recu_le: dt.datetime) -> int:
    """Declarations received up to the end of the cut-off month of year N belong to millésime N."""
    cutoff_month = reference.parameter("declarations_mois_arret")
    return recu_le.year if recu_le.month <= cutoff_month else recu_le.year + 1


def test_number(seq: int) -> str:
    return f"ZT{seq:07d}"


def create_app(database_url: str, landing: Path, millesime: int | None = None) -> FastAPI:
    app = FastAPI(title="Registre des copropriétés : plateforme de test des éditeurs",
                  description="WS1 immatriculation et rattachement, WS2 mise à jour : mêmes schéma et contrôles que le registre.")
    engine = PostGISResource(database_url=database_url).engine
    state: dict[str, bool] = {"ready": False}

    def setup(conn: sa.Connection) -> None:
        if not state["ready"]:
            conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('coproff.registre_test'))"))
            for statement in filter(str.strip, SETUP_SQL.split(";")):
                conn.execute(sa.text(statement))
            state["ready"] = True

    def append(path: Path, envelope: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # several workers may append to the same file
            f.write(json.dumps(envelope, ensure_ascii=False) + "\n")

    async def handle(request: Request, service: str) -> JSONResponse:
        recu_le = dt.datetime.now(dt.timezone.utc)
        id_depot = f"T{uuid.uuid4().hex[:16]}"
        try:
            body = await request.body()
            try:
                doc = json.loads(body)
            except ValueError as exc:
                rep = Reponse(service, [Failure("STR_JSON_ILLISIBLE", "", str(exc)[:120])], structure_valide=False)
                return JSONResponse(rep.as_json() | {"id_depot": id_depot}, status_code=400)
            if isinstance(doc, dict) and doc.get("service") not in (None, service):
                rep = Reponse(service, [Failure("STR_SERVICE_INCONNU", "service", f"{doc.get('service')!r} envoyé à {service}")],
                              structure_valide=False)
                return JSONResponse(rep.as_json() | {"id_depot": id_depot}, status_code=400)
            target = millesime or millesime_of(recu_le)
            with engine.begin() as conn:
                setup(conn)
                rep = controler(conn, doc, recu_le=recu_le, millesime=target)
                if not rep.acceptee:
                    return JSONResponse(rep.as_json() | {"id_depot": id_depot}, status_code=400)
                if service == "WS1":
                    seq = conn.execute(sa.text("select nextval('registre_test.sequence_immatriculation')")).scalar()
                    rep.numero_immatriculation = test_number(seq)
                    conn.execute(sa.text("insert into registre_test.numero (num_immat, id_depot) values (:n, :d)"),
                                 {"n": rep.numero_immatriculation, "d": id_depot})
                else:
                    rep.numero_immatriculation = canonical(doc["numero_immatriculation"])
                # Appended before the commit: a failed write answers 500 and attributes no number.
                append(landing / str(target) / "declarations" / LANDING_FILE,
                       {"id_depot": id_depot, "recu_le": recu_le.isoformat(),
                        "numero_attribue": rep.numero_immatriculation if service == "WS1" else None,
                        "declaration": doc})
            body_out = rep.as_json() | {"id_depot": id_depot, "millesime": target}
            return JSONResponse(body_out, status_code=201 if service == "WS1" else 200)
        except Exception as exc:  # the registry's "internal failure" answer
            return JSONResponse({"service": service, "statut": "erreur_interne", "id_depot": id_depot,
                                 "message": "Erreur interne du service : la déclaration n'est pas enregistrée",
                                 "detail": f"{type(exc).__name__}: {str(exc)[:300]}"}, status_code=500)

    @app.post("/ws1", status_code=201, summary="WS1 : immatriculation et rattachement")
    async def ws1(request: Request) -> JSONResponse:
        return await handle(request, "WS1")

    @app.post("/ws2", status_code=200, summary="WS2 : mise à jour standard ou annuelle")
    async def ws2(request: Request) -> JSONResponse:
        return await handle(request, "WS2")

    @app.get("/sante", summary="Le service répond")
    async def sante() -> dict[str, str]:
        return {"statut": "ok"}

    return app
