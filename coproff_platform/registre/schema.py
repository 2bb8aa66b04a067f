"""The declaration contract as JSON Schema: loading, and the structure controls.

`schemas/ws1.schema.json` and `schemas/ws2.schema.json` reference the blocks defined once in
`schemas/commun.schema.json`; `bundled(service)` inlines those definitions so that one document is
all a validator needs. Two validators read the very same bundled schema:
- `jsonschema_rs` (compiled, in Rust) answers "valid or not" — the fast path, taken by almost
  every document of a national batch (12 µs a declaration, against 85 µs for `fastjsonschema`);
- `jsonschema` lists every error of an invalid document, each mapped to a control code: the
  `x-controle` keyword of the sub-schema that failed (e.g. a negative amount → `D_MONTANT_NEGATIF`),
  else a code per JSON Schema keyword (`required` → `STR_CHAMP_OBLIGATOIRE`, ...).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.exceptions import ValidationError, best_match

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SERVICES = ("WS1", "WS2")

# JSON Schema keyword → control code, when the failing sub-schema names none (`x-controle`).
KEYWORD_CODES = {
    "required": "STR_CHAMP_OBLIGATOIRE",
    "additionalProperties": "STR_CHAMP_INCONNU",
    "type": "STR_TYPE",
    "enum": "STR_VALEUR_HORS_LISTE",
    "const": "STR_VALEUR_HORS_LISTE",
}
DEFAULT_CODE = "STR_VALEUR_INVALIDE"
_REQUIRED = re.compile(r"^'(.+)' is a required property")
# Keywords whose failure is the type's, not the value's: `x-controle` does not apply to them.
TYPE_KEYWORDS = frozenset({"type", "required", "additionalProperties", "enum", "const"})


@dataclass(frozen=True)
class Failure:
    """One failed control on one declaration: code, the field (JSON path) and a detail."""

    code: str
    champ: str = ""
    detail: str = ""


def _read(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def _inline_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _inline_refs(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("commun.schema.json#"):
            out["$ref"] = ref[len("commun.schema.json"):]
        return out
    if isinstance(node, list):
        return [_inline_refs(v) for v in node]
    return node


@functools.cache
def bundled(service: str) -> dict[str, Any]:
    """The schema of `service` (WS1 or WS2) with the common definitions inlined under `$defs`."""
    if service not in SERVICES:
        raise ValueError(f"unknown web service {service!r}: expected one of {SERVICES}")
    schema = copy.deepcopy(_read(f"{service.lower()}.schema.json"))
    schema.pop("$id", None)
    schema["$defs"] = _inline_refs(_read("commun.schema.json")["$defs"])
    return _inline_refs(schema)


@functools.cache
def _fast(service: str) -> jsonschema_rs.Draft202012Validator:
    # Unknown keywords (`x-controle`) are ignored, as by `jsonschema`: same meaning in both.
    return jsonschema_rs.Draft202012Validator(bundled(service))


@functools.cache
def _full(service: str) -> jsonschema.Draft202012Validator:
    schema = bundled(service)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _path(error: ValidationError) -> str:
    return "/".join(str(p) for p in error.absolute_path)


def _failure(error: ValidationError) -> Failure:
    if error.validator in ("anyOf", "oneOf") and error.context:
        # `date_ou_nul`, `numero_syndicat_principal`: report the branch that came closest.
        return _failure(best_match(error.context))
    champ = _path(error)
    if error.validator == "required":
        # One error per missing property, named in the message.
        m = _REQUIRED.match(error.message)
        champ = "/".join(p for p in (champ, m.group(1) if m else "") if p)
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - allowed)
        champ = "/".join(p for p in (champ, extra[0] if extra else "") if p)
    code = None
    if error.validator not in TYPE_KEYWORDS:
        code = error.schema.get("x-controle")
    return Failure(code or KEYWORD_CODES.get(error.validator, DEFAULT_CODE), champ, error.message[:200])


def structure_failures(document: Any) -> list[Failure]:
    """Structure controls of one parsed document; [] when it conforms to its service's schema."""
    if not isinstance(document, dict):
        return [Failure("STR_TYPE", "", "a declaration is a JSON object")]
    service = document.get("service")
    if service not in SERVICES:
        return [Failure("STR_SERVICE_INCONNU", "service", f"service {service!r}")]
    if _fast(service).is_valid(document):
        return []
    seen: set[tuple[str, str]] = set()
    failures = []
    for error in sorted(_full(service).iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        f = _failure(error)
        if (f.code, f.champ) not in seen:
            seen.add((f.code, f.champ))
            failures.append(f)
    return failures


def schema_codes() -> set[str]:
    """Every control code the schemas can produce (x-controle values and keyword codes)."""
    codes = set(KEYWORD_CODES.values()) | {DEFAULT_CODE, "STR_SERVICE_INCONNU"}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "x-controle" in node:
                codes.add(node["x-controle"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for s in SERVICES:
        walk(bundled(s))
    return codes
