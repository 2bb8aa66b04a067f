"""The one SQL-literal helper (`resources.postgis.literal`): what goes in comes back out."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from coproff_platform.resources.postgis import literal

TRICKY = [
    "Nom d'usage de la copropriété",           # quote
    "Référence :millesime et :idtup, 12:30",  # would be bind parameters for sqlalchemy.text
    r"C:\chemin\fichier \n pas un saut",      # backslashes stay backslashes
    "deux\nlignes\tet tabulation",
    "$$ dollar $$ et %s %(x)s {accolade}",
    "émoji 🏠, ½, « guillemets »",
    "'; drop table coproff.coproff; --",
]


@pytest.mark.parametrize("text", TRICKY)
def test_a_comment_written_with_literal_reads_back_unchanged(fresh_db, text):
    with fresh_db.engine.begin() as conn:
        conn.execute(sa.text("create table coproff.t_literal (a int)"))
        conn.execute(sa.text(f"comment on table coproff.t_literal is {literal(text)}"))
        conn.execute(sa.text(f"comment on column coproff.t_literal.a is {literal(text)}"))
        assert conn.execute(sa.text("select obj_description('coproff.t_literal'::regclass, 'pg_class')")).scalar() == text
        assert conn.execute(sa.text("select col_description('coproff.t_literal'::regclass, 1)")).scalar() == text


def test_a_nul_character_is_refused_before_the_server():
    with pytest.raises(ValueError, match="NUL"):
        literal("avant\x00après")
