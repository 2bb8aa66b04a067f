"""No personal data of natural persons in the published tables (a volunteer syndic, an owner)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform.publish.catalog import PublishedTable
from coproff_platform.resources.postgis import ident

# Column names that would carry the identity of a natural person. A volunteer syndic's "raison
# sociale" is a person's name; it may be published only when NULL for every non-professional syndic.
PERSONAL_COLUMN = re.compile(r"(proprietaire|owner|ddenom|dnomus|dprnus|representant|raison_sociale|nom_syndic)")
SYNDIC_NAME_COLUMN = re.compile(r"raison_sociale")


def personal_data_findings(conn: Connection, tables: list[PublishedTable], millesime: int) -> list[str]:
    """Columns of published tables that carry (or could carry) a natural person's identity."""
    findings: list[str] = []
    for t in tables:
        for column in t.columns:
            if not PERSONAL_COLUMN.search(column):
                continue
            if SYNDIC_NAME_COLUMN.search(column) and "type_syndic" in t.columns:
                leaked = conn.execute(
                    sa.text(
                        f"select count(*) from {t.qualified} where millesime = :m and {ident(column)} is not null "
                        "and type_syndic is distinct from 'professionnel'"
                    ),
                    {"m": millesime},
                ).scalar_one()
                if leaked:
                    findings.append(f"{t.qualified}.{column}: {leaked} rows name a non-professional syndic")
            else:
                findings.append(f"{t.qualified}.{column}: personal data column")
    return findings
