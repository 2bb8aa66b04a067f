"""Markdown rendering shared by the Dagster metadata of sources, models and checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def markdown_cell(value: Any, *, float_format: str = ".4g", max_chars: int | None = None) -> str:
    """One cell: `None` empty, floats with `float_format` ("" = as Python prints them), `|` escaped,
    new lines as spaces (they would end the row), cut at `max_chars`."""
    if value is None:
        return ""
    text = format(value, float_format) if isinstance(value, float) else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if max_chars is None else text[:max_chars]


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                   float_format: str = ".4g", max_chars: int | None = None) -> str:
    """A Markdown table of `rows` under `columns`, each cell rendered by `markdown_cell`."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(markdown_cell(v, float_format=float_format, max_chars=max_chars) for v in row) + " |"
              for row in rows]
    return "\n".join(lines)
