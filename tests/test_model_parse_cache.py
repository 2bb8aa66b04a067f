"""The parse cache of the SQL models and audits (models/parse_cache.py): a hit is keyed by the exact
text and sqlglot's version, a miss parses, an invalid file is never cached, and the cached
project equals a fresh parse of every file."""

from __future__ import annotations

import json

import pytest

from coproff_platform.checks.audits import _single_select, _tables, audits_of
from coproff_platform.models import parse_cache
from coproff_platform.models.project import ModelProjectError, load_project, referenced_tables

QUERY = "select a.x from staging.rnic a join ref.parametres p on true where a.millesime = :millesime"


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    """A cache of its own: XDG_CACHE_HOME under tmp_path, nothing memoised from earlier loads."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(parse_cache, "_memo", {})
    return parse_cache.cache_file()


def _parse_count():
    calls = []

    def parse(sql):
        calls.append(sql)
        return referenced_tables(sql)

    return parse, calls


def test_the_second_read_of_the_same_text_does_not_parse(cache_home):
    parse, calls = _parse_count()
    assert parse_cache.tables_read("model", QUERY, parse) == ("ref.parametres", "staging.rnic")
    assert parse_cache.tables_read("model", QUERY, parse) == ("ref.parametres", "staging.rnic")
    assert len(calls) == 1
    # another process reads the file written by the first
    parse_cache._memo.clear()
    assert parse_cache.tables_read("model", QUERY, parse) == ("ref.parametres", "staging.rnic")
    assert len(calls) == 1 and cache_home.is_file()


def test_an_edited_text_or_another_sqlglot_version_is_a_miss(cache_home, monkeypatch):
    parse, calls = _parse_count()
    parse_cache.tables_read("model", QUERY, parse)
    edited = QUERY.replace("staging.rnic", "staging.dpe")
    assert parse_cache.tables_read("model", edited, parse) == ("ref.parametres", "staging.dpe")
    monkeypatch.setattr(parse_cache.sqlglot, "__version__", "0.0.0-other")
    parse_cache.tables_read("model", QUERY, parse)
    assert len(calls) == 3


def test_model_and_audit_readings_of_one_text_are_kept_apart(cache_home, tmp_path):
    # scopes (models) skip CTE names; an audit's table list is every qualified table
    with_cte = "with t as (select * from staging.rnic) select * from t where millesime = :millesime"
    assert parse_cache.tables_read("model", with_cte, referenced_tables) == ("staging.rnic",)
    audit = parse_cache.tables_read("audit", with_cte, lambda q: _tables(_single_select(tmp_path, q)))
    assert audit == ("staging.rnic",)
    assert len(json.loads(cache_home.read_text())) == 2


def test_an_invalid_model_is_not_cached_and_fails_at_every_load(cache_home, tmp_path):
    folder = tmp_path / "models" / "marts"
    folder.mkdir(parents=True)
    (folder / "bad.sql").write_text("select x from unqualified where millesime = :millesime")
    for _ in range(2):
        with pytest.raises(ModelProjectError, match=r"bad\.sql: table 'unqualified' must be schema-qualified"):
            load_project(tmp_path / "models")
    assert not cache_home.exists() or json.loads(cache_home.read_text()) == {}


def test_an_unreadable_cache_file_is_a_miss(cache_home):
    cache_home.parent.mkdir(parents=True)
    cache_home.write_text("{not json")
    parse, calls = _parse_count()
    assert parse_cache.tables_read("model", QUERY, parse) == ("ref.parametres", "staging.rnic")
    assert len(calls) == 1 and json.loads(cache_home.read_text())  # rewritten whole


def test_the_cached_project_equals_a_fresh_parse_of_every_model_and_audit(cache_home):
    cold = load_project()
    warm = load_project()  # every upstream and audit from the cache now
    for model_cold, model_warm in zip(cold, warm, strict=True):
        assert model_warm.upstream == model_cold.upstream == tuple(sorted(referenced_tables(model_cold.sql)))
        for audit in audits_of(model_warm):
            assert audit.reads == tuple(sorted(_tables(_single_select(audit.path, audit.sql))))
