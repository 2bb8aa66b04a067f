"""Publication of a millésime in schema coproff: registry, views, keys and indexes, comments,
read-only role, and no personal data. Hand-made marts stand in for the SQL models."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, materialize
from sqlalchemy.engine import make_url

from coproff_platform import labels as L
from coproff_platform.assets.publication import publication
from coproff_platform.publish import READER_ROLE
from coproff_platform.resources.postgis import literal as sql_literal
from coproff_platform.partitions import register_millesime
from coproff_platform.resources.postgis import PostGISResource

COPROFF_DDL = """
create table coproff.coproff (
    idcopro text not null, millesime smallint not null, num_immat char(9), idtup text,
    code_commune char(5), type_syndic text, syndic_raison_sociale text, nom_copro text,
    geom geometry(Point, 4326)
) partition by list (millesime)
"""
APPARIEMENT_DDL = """
create table coproff.appariement (
    num_immat char(9) not null, millesime smallint not null, idtup text, methode text
) partition by list (millesime)
"""
COMMENTS = {
    "coproff.coproff": "Référentiel des copropriétés",
    "coproff.coproff.idcopro": "Identifiant CoproFF",
    "coproff.coproff.millesime": "Millésime",
    "coproff.coproff.num_immat": "Numéro d'immatriculation",
    "coproff.coproff.idtup": "Identifiant de la TUP",
    "coproff.coproff.code_commune": "Code INSEE de la commune",
    "coproff.coproff.type_syndic": "Type de syndic",
    "coproff.coproff.syndic_raison_sociale": "Raison sociale du syndic professionnel",
    "coproff.coproff.nom_copro": "Nom d'usage",
    "coproff.coproff.geom": "Point (WGS84)",
    "coproff.appariement": "Appariement RNIC-TUP",
    "coproff.appariement.num_immat": "Numéro d'immatriculation",
    "coproff.appariement.millesime": "Millésime",
    "coproff.appariement.idtup": "TUP retenue",
    "coproff.appariement.methode": "Méthode",
}
COPROFF_COLS = ["idcopro", "millesime", "num_immat", "idtup", "code_commune", "type_syndic", "syndic_raison_sociale", "nom_copro"]


def _comment_all(conn) -> None:
    for target, text in COMMENTS.items():
        kind = "column" if target.count(".") == 2 else "table"
        conn.execute(sa.text(f"comment on {kind} {target} is {sql_literal(text)}"))


def fill(db: PostGISResource, millesime: int, rows: list[tuple]) -> None:
    with db.replace_millesime("coproff.coproff", millesime) as swap:
        swap.copy_rows(COPROFF_COLS, [(r[0], millesime, *r[1:]) for r in rows])
        swap.conn.execute(sa.text(f"update {swap.table} set geom = st_setsrid(st_makepoint(2.35, 48.85), 4326)"))
    with db.replace_millesime("coproff.appariement", millesime) as swap:
        swap.copy_rows(["num_immat", "millesime", "idtup", "methode"],
                       [(r[1], millesime, r[2], "idpar") for r in rows if r[1]])


ROWS_2022 = [
    ("RNC_AA0000001", "AA0000001", "75101000AB0001", "75101", "professionnel", "CABINET DURAND SA", "Les Tilleuls"),
    ("FF_75101000AB0002", None, "75101000AB0002", "75101", None, None, None),
]
ROWS_2023 = ROWS_2022 + [
    ("RNC_AA0000003", "AA0000003", "93010000AC0003", "93010", "bénévole", None, "Résidence du Parc"),
]


@pytest.fixture
def marts(fresh_db: PostGISResource) -> PostGISResource:
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text(COPROFF_DDL))
        conn.execute(sa.text(APPARIEMENT_DDL))
        # As the model runner's .yml would: an index on idtup already exists.
        conn.execute(sa.text("create index coproff_idtup_by_runner on coproff.coproff (idtup)"))
        _comment_all(conn)
    fill(fresh_db, 2022, ROWS_2022)
    fill(fresh_db, 2023, ROWS_2023)
    return fresh_db


_INSTANCES: list[DagsterInstance] = []  # results read events through their instance: keep it alive


def publish(db: PostGISResource, millesime: str):
    instance = DagsterInstance.ephemeral()
    _INSTANCES.append(instance)
    register_millesime(instance, millesime)
    return materialize([publication], partition_key=millesime, resources={"postgis": db},
                       instance=instance, raise_on_error=False)


def scalar(db: PostGISResource, sql: str):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


def test_published_millesimes_are_registered_and_latest_view_follows(marts):
    assert publish(marts, "2022").success
    assert scalar(marts, "select count(*) from coproff.coproff_dernier") == 2
    assert publish(marts, "2023").success
    with marts.engine.connect() as conn:
        registry = conn.execute(sa.text("select millesime, row_counts from coproff.millesimes order by 1")).all()
        assert [(m, c["coproff"]) for m, c in registry] == [(2022, 2), (2023, 3)]
        assert registry[1][1]["appariement"] == 2
        assert conn.execute(sa.text("select distinct millesime from coproff.coproff_dernier")).scalars().all() == [2023]
        assert conn.execute(sa.text("select count(*) from coproff.coproff_2022")).scalar() == 2
        assert conn.execute(sa.text("select count(*) from coproff.coproff_2023")).scalar() == 3
        assert conn.execute(sa.text("select count(*) from coproff.appariement_dernier")).scalar() == 2


def test_republishing_an_unchanged_millesime_touches_no_view(marts):
    """DROP VIEW would make readers of the view wait: an unchanged view is left as it is."""
    assert publish(marts, "2023").success
    oids = lambda: scalar(marts, "select array_agg(oid::int order by relname) from pg_class "
                                 "where relnamespace = 'coproff'::regnamespace and relkind = 'v'")
    before = oids()
    assert publish(marts, "2023").success
    assert oids() == before
    # A column added to the table: its views are recreated with it, the others stay.
    with marts.engine.begin() as conn:
        conn.execute(sa.text("alter table coproff.appariement add column score real"))
        conn.execute(sa.text("comment on column coproff.appariement.score is 'Score'"))
    assert publish(marts, "2023").success
    assert scalar(marts, "select count(*) from coproff.appariement_dernier where score is null") == 2
    assert scalar(marts, "select to_regclass('coproff.coproff_dernier')::oid::int") in before


def test_a_relation_without_comment_blocks_publication_and_the_previous_version_stays(marts):
    result = publish(marts, "2023")
    [ev] = result.get_asset_check_evaluations()
    assert ev.passed and ev.partition == "2023"
    first_run = result.run_id
    published_at = scalar(marts, "select published_at from coproff.millesimes where millesime = 2023")
    with marts.engine.begin() as conn:
        conn.execute(sa.text("alter table coproff.coproff add column surface integer"))
    result = publish(marts, "2023")
    assert not result.success
    [ev] = result.get_asset_check_evaluations()
    assert not ev.passed and ev.partition == "2023"
    missing = ev.metadata[L.RELATIONS_SANS_COMMENTAIRE].value
    assert "coproff.coproff.surface" in missing and "coproff.coproff_dernier.surface" in missing
    # Nothing was committed: same registry row, views without the new column.
    assert scalar(marts, "select published_at from coproff.millesimes where millesime = 2023") == published_at
    assert scalar(marts, "select count(*) from pg_attribute where attrelid = 'coproff.coproff_dernier'::regclass "
                         "and attname = 'surface'") == 0
    # The failed run says which version consumers still read, since when and by which run.
    [obs] = [e.event_specific_data.asset_observation for e in result.all_events
             if e.event_type_value == "ASSET_OBSERVATION"]
    assert obs.partition == "2023"
    assert obs.metadata[L.TOUJOURS_PUBLIE].value is True
    assert obs.metadata[L.EXECUTION_DE_PUBLICATION].value == first_run
    assert obs.metadata[L.PUBLIE_DEPUIS].value == published_at.timestamp()
    assert obs.metadata[L.EXECUTION_EN_ECHEC].value == result.run_id


def test_a_volunteer_syndic_name_is_never_published(marts):
    assert publish(marts, "2022").success
    # A bénévole syndic is a natural person: their name in any published column blocks publication.
    fill(marts, 2023, ROWS_2023[:2] + [ROWS_2023[2][:5] + ("Jean Dupont",) + ROWS_2023[2][6:]])
    result = publish(marts, "2023")
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "coproff.coproff.syndic_raison_sociale: 1 rows name a non-professional syndic" in failure.event_specific_data.error.to_string()
    with marts.engine.connect() as conn:
        assert conn.execute(sa.text("select array_agg(millesime) from coproff.millesimes")).scalar() == [2022]
        assert conn.execute(sa.text("select distinct millesime from coproff.coproff_dernier")).scalar() == 2022


def test_an_owner_column_blocks_publication(marts):
    with marts.engine.begin() as conn:
        conn.execute(sa.text("alter table coproff.coproff add column proprietaire text"))
    assert not publish(marts, "2023").success
    assert scalar(marts, "select to_regclass('coproff.millesimes')") is None


def test_empty_millesime_is_not_published(marts):
    assert not publish(marts, "2021").success


def test_reader_role_reads_coproff_and_nothing_else(marts):
    assert publish(marts, "2023").success
    url = make_url(marts.database_url)
    login = f"{url.database}_analyste"
    with marts.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"drop role if exists {login}"))
        # The documented way to give an analyst access: a LOGIN role member of coproff_lecteur.
        conn.execute(sa.text(f"create role {login} login in role {READER_ROLE}"))
        rolcanlogin = conn.execute(sa.text("select rolcanlogin from pg_roles where rolname = :r"), {"r": READER_ROLE}).scalar()
        assert rolcanlogin is False
    dsn = f"postgresql://{login}@{url.host or '127.0.0.1'}:{url.port or 5432}/{url.database}"
    try:
        with psycopg.connect(dsn, autocommit=True) as reader:
            assert reader.execute("select count(*) from coproff.coproff_dernier").fetchone() == (3,)
            assert reader.execute("select count(*) from coproff.coproff where millesime = 2022").fetchone() == (2,)
            assert reader.execute("select count(*) from coproff.millesimes").fetchone() == (1,)
            for statement in (
                "insert into coproff.coproff (idcopro, millesime) values ('FF_x', 2023)",
                "update coproff.coproff set nom_copro = 'x'",
                "delete from coproff.appariement",
                "create table coproff.mine (a int)",
                "create table public.mine (a int)",
                "drop view coproff.coproff_dernier",
                "select count(*) from staging.rnic",
                "select count(*) from staging.lovac",
                "select count(*) from coproff.coproff_m2023",  # partitions: read through the parent only
                "select count(*) from coproff.appariement_m2022",
                "select count(*) from quality.quarantine",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    reader.execute(statement)
    finally:
        with marts.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f"drop role if exists {login}"))


def test_after_a_failed_rebuild_the_kept_version_is_observed(marts, monkeypatch):
    """A build of a published millésime fails upstream (publication never runs): the sensor
    `publication_conservee` records on coproff/publication which version consumers still read."""
    from dagster import AssetKey, DagsterEventType, Failure, asset, build_run_status_sensor_context

    from coproff_platform.assets.publication import publication_conservee
    from coproff_platform.partitions import millesime_partitions

    monkeypatch.setenv("COPROFF_DATABASE_URL", marts.database_url)
    published = publish(marts, "2023")
    assert published.success

    @asset(key=["coproff", "coproff"], partitions_def=millesime_partitions)
    def broken_rebuild():
        raise Failure(description="audit idcopro_unique en échec")

    instance = DagsterInstance.ephemeral()
    _INSTANCES.append(instance)
    register_millesime(instance, "2023")
    failed = materialize([broken_rebuild], partition_key="2023", instance=instance, raise_on_error=False)
    assert not failed.success
    failure = next(e for e in failed.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
    context = build_run_status_sensor_context(
        sensor_name="publication_conservee", dagster_event=failure, dagster_instance=instance,
        dagster_run=failed.dagster_run).for_run_failure()
    publication_conservee(context)
    [record] = instance.fetch_observations(AssetKey(["coproff", "publication"]), limit=10).records
    observation = record.event_log_entry.dagster_event.event_specific_data.asset_observation
    assert observation.partition == "2023"
    meta = observation.metadata
    assert meta[L.TOUJOURS_PUBLIE].value is True
    assert meta[L.EXECUTION_DE_PUBLICATION].value == published.run_id
    assert meta[L.EXECUTION_EN_ECHEC].value == failed.run_id
    assert meta[L.LIGNES_PUBLIEES].value["coproff"] == 3


def test_a_reader_holding_a_view_delays_its_recreation_without_queueing_other_readers(marts, monkeypatch):
    """A publication that must recreate a view (its table gained a column) waits for a reader's
    open transaction with a short lock_timeout, steps back, retries, and finally gives up naming
    that reader; meanwhile other readers of the view are served."""
    import threading
    import time

    from coproff_platform.publish import publish as publish_now
    from coproff_platform.resources.postgis import LockWaitTimeout

    assert publish(marts, "2023").success
    with marts.engine.begin() as conn:
        conn.execute(sa.text("alter table coproff.appariement add column score real"))
        conn.execute(sa.text("comment on column coproff.appariement.score is 'Score'"))
    monkeypatch.setenv("COPROFF_LOCK_TIMEOUT_MS", "300")
    monkeypatch.setenv("COPROFF_LOCK_WAIT_MAX_S", "2")
    url = make_url(marts.database_url)
    dsn = f"postgresql://postgres@{url.host or '127.0.0.1'}:{url.port or 5432}/{url.database}"
    outcome: dict = {}

    def publish_in_thread() -> None:
        try:
            publish_now(marts.engine, 2023, "run-x")
        except LockWaitTimeout as exc:
            outcome["error"] = exc

    with psycopg.connect(dsn + "?application_name=rapport_mensuel") as holder:
        holder.execute("begin")
        holder.execute("select count(*) from coproff.appariement_dernier").fetchone()
        worker = threading.Thread(target=publish_in_thread)
        worker.start()
        waits = []
        with psycopg.connect(dsn) as other:
            for _ in range(6):
                started = time.monotonic()
                other.execute("select count(*) from coproff.appariement_dernier").fetchone()
                waits.append(time.monotonic() - started)
                time.sleep(0.15)
        worker.join(15)
        holder_pid = holder.info.backend_pid
        holder.execute("commit")
    assert max(waits) < 0.8, waits
    assert f"pid {holder_pid}" in str(outcome["error"]) and "rapport_mensuel" in str(outcome["error"])
    # Once the reader is gone the same publication goes through and the view gains the column.
    publish_now(marts.engine, 2023, "run-y")
    assert scalar(marts, "select count(*) from coproff.appariement_dernier where score is null") == 2


def test_the_registry_records_where_the_parcel_units_came_from(marts):
    # Before the open-cadastre mode exists (no intermediate.tup.source_parcelles column): NULL.
    assert publish(marts, "2022").success
    assert scalar(marts, "select source_parcelles is null from coproff.millesimes where millesime = 2022") is True
    with marts.engine.begin() as conn:
        conn.execute(sa.text("create table intermediate.tup (millesime smallint, idtup text, source_parcelles text) "
                             "partition by list (millesime)"))
        conn.execute(sa.text("create table intermediate.tup_m2023 partition of intermediate.tup for values in (2023)"))
        conn.execute(sa.text("insert into intermediate.tup values (2023, '75101000AB0001', 'cadastre'), "
                             "(2023, '75101000AB0002', 'cadastre')"))
    assert publish(marts, "2023").success
    assert scalar(marts, "select source_parcelles from coproff.millesimes where millesime = 2023") == "cadastre"
    with marts.engine.begin() as conn:
        conn.execute(sa.text("insert into intermediate.tup values (2023, '93010000AC0003', 'ff')"))
    assert publish(marts, "2023").success
    assert scalar(marts, "select source_parcelles from coproff.millesimes where millesime = 2023") == "cadastre,ff"
    assert scalar(marts, "select col_description('coproff.millesimes'::regclass, 5)").startswith("Origine des unités")


def test_published_join_columns_are_indexed_by_their_dictionary():
    """Keys and indexes live only in the models' .yml: each published table declares its primary key
    and an index on every column consumers join or filter on (and its point)."""
    from coproff_platform.models.project import project

    join_columns = {"idcopro", "idcopro_a", "idcopro_b", "idtup", "num_immat", "code_commune", "geom"}
    for model in project():
        if model.schema != "coproff":
            continue
        assert model.dictionary.primary_key and model.dictionary.primary_key[0] == "millesime", model.name
        documented = {c.name for c in model.dictionary.columns}
        missing = sorted((documented & join_columns) - set(model.dictionary.indexes))
        assert not missing, f"{model.path.with_suffix('.yml')}: add {missing} to indexes"
