"""SQL text helpers with no dependency on the rest of the package (contracts and resources both
import them, so they must not import either)."""

from __future__ import annotations


def literal(text: str) -> str:
    """A SQL string literal for statements that take no bind parameters (COMMENT ON), to be run
    through `sqlalchemy.text`.

    The one literal helper of the code base. Quotes are doubled (standard_conforming_strings is on
    since PostgreSQL 9.1, so a backslash is an ordinary character); a colon is written `\\:` so that
    `sqlalchemy.text` does not take `:word` for a bind parameter (it removes the backslash). A NUL
    character cannot be stored in PostgreSQL text: refused here rather than by the server.
    """
    text = str(text)
    if "\x00" in text:
        raise ValueError(f"a SQL literal cannot contain a NUL character: {text[:60]!r}")
    return "'" + text.replace("'", "''").replace(":", r"\:") + "'"
