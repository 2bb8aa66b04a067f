"""Header mapping and row transform of one file, driven by its `SourceSpec`."""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
from dataclasses import dataclass, field
from typing import Any

from coproff_platform import normalise as n
from coproff_platform.contracts.sources import PERSONAL_COLUMNS, Rule, SourceSpec
from coproff_platform.loading.reader import SourceFileError
from coproff_platform.normalise import Invalid, normalise_name


@dataclass
class HeaderMap:
    index: dict[str, int]  # canonical raw field -> position
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)
    personal: list[str] = field(default_factory=list)  # personal-data columns present, not loaded
    row_names: bool = False  # leading unnamed column of R's write.csv
    width: int = 0


def map_header(spec: SourceSpec, header: list[str]) -> tuple[HeaderMap, list[str]]:
    """Maps header cells to the spec's raw fields by normalised name; returns (map, missing required)."""
    hm = HeaderMap(index={}, width=len(header))
    for pos, cell in enumerate(header):
        if pos == 0 and not cell.strip():
            hm.row_names = True
            continue
        canonical = spec.resolve(cell)
        if canonical is None:
            if PERSONAL_COLUMNS.search(normalise_name(cell)) and not spec.raw_in_quarantine:
                hm.personal.append(cell)
            else:
                hm.unknown.append(cell)
        elif canonical in hm.index:
            hm.duplicates.append(cell)
        else:
            hm.index[canonical] = pos
    missing = [f for f in spec.required if f not in hm.index]
    hm.missing_optional = [f.name for f in spec.fields if not f.required and f.name not in hm.index]
    return hm, missing


def choose_spec(specs: tuple[SourceSpec, ...], header: list[str], display: str) -> tuple[SourceSpec, HeaderMap]:
    """The first format variant whose required columns are all present, else a clear error."""
    first_missing: list[str] | None = None
    for spec in specs:
        hm, missing = map_header(spec, header)
        if not missing:
            return spec, hm
        if first_missing is None:
            first_missing = missing
    raise SourceFileError(
        display,
        f"missing required column(s) {', '.join(first_missing or [])} "
        f"(header has {len(header)} columns: {', '.join(h for h in header[:8])}...); "
        "columns are matched by name, accents and case ignored",
        1,
    )


@dataclass
class Reject:
    reason: str
    field: str | None
    detail: str


class RowTransformer:
    """Raw fields of one record → the tuple COPY writes, or a `Reject` (hard failure)."""

    def __init__(self, spec: SourceSpec, hm: HeaderMap, millesime: int, source_file: str) -> None:
        self.spec = spec
        self.hm = hm
        self.millesime = millesime
        self.source_file = source_file
        self.plan = [_plan(r, hm) for r in spec.rules]
        self.out_rules = [r.column for r in spec.rules if not r.column.startswith("_")]
        self.out_derived = [d.column for d in spec.derived if not d.column.startswith("_")]
        self.soft_counts: dict[str, int] = {}
        types = {c.name: c.type for c in spec.table.columns}
        outputs = ["millesime", *self.out_rules, *self.out_derived]
        self.array_positions = [i for i, c in enumerate(outputs) if types[c].startswith("text[]")]
        # Integer columns and their bounds: a value PostgreSQL would refuse costs its row only.
        first_input = {r.column: r.inputs[0] for r in spec.rules}
        self.int_bounds = [(c, first_input.get(c, c), INT_BOUNDS[types[c].split()[0]])
                           for c in [*self.out_rules, *self.out_derived] if types[c].split()[0] in INT_BOUNDS]
        self.field_of_position = {i: k for k, i in hm.index.items()}
        # Column-wise path (`batch`): one memo per rule, keyed by the raw value(s) of its inputs.
        self.plan_inputs = [[hm.index.get(i) for i in r.inputs] for r in spec.rules]
        self.memos = [_Memo(r.fn, len(idxs) == 1 and idxs[0] is not None)
                      for r, idxs in zip(spec.rules, self.plan_inputs)]
        self.rule_columns = [r.column for r in spec.rules]
        out_cols = [*self.out_rules, *self.out_derived]
        getter = operator.itemgetter(*out_cols) if out_cols else (lambda o: ())
        self._outputs = (lambda o: (getter(o),)) if len(out_cols) == 1 else getter

    def quarantine_raw(self, fields: list[str] | None, raw: str) -> str | None:
        if self.spec.raw_in_quarantine:
            return raw
        # Only the contract's own fields: unlisted columns may carry personal data.
        if fields is None:
            return None
        return "|".join(f"{k}={fields[i]}" for k, i in self.hm.index.items() if i < len(fields))

    def __call__(self, fields: list[str], line: int, raw: str) -> tuple | Reject:
        width = self.hm.width
        if len(fields) != width:
            return Reject("ligne_malformee", None, f"{len(fields)} fields where the header has {width}")
        if "\x00" in raw:  # PostgreSQL text cannot hold NUL: the row goes, not the file
            pos = next((i for i, v in enumerate(fields) if "\x00" in v), None)
            name = self.field_of_position.get(pos, f"colonne {pos + 1}" if pos is not None else None)
            return Reject("caractere_nul", name, f"NUL byte (0x00) in field {name}")
        out: dict[str, Any] = {}
        flags: list[str] = []
        for column, single, getter, fn, hard, not_null, first in self.plan:
            try:
                value = fn(fields[getter]) if single else fn(*getter(fields))
            except Invalid as exc:
                if hard:
                    return Reject(exc.reason, first, exc.detail)
                value = None
                flags.append(exc.reason)
            if value is None and not_null:
                return Reject(f"{column}_manquant", first, f"{first} is empty")
            out[column] = value
        return self._tail(out, flags, line, raw)

    def batch(self, records: list[tuple[list[str], int, str]]) -> list[tuple | Reject]:
        """Same results as `self(fields, line, raw)` for each record, in order, computed column-wise.

        Each rule's normaliser runs once per distinct raw value of the batch's column (`_Memo`),
        not once per field: dates, codes, booleans and counts repeat across rows. Rejects keep the
        per-row order of precedence: the first failing rule (in declaration order) names the row's
        reason, then the derived columns, integer bounds and controls run on the surviving rows.
        """
        width = self.hm.width
        results: list[tuple | Reject | None] = [None] * len(records)
        good: list[int] = []
        for k, (fields, _line, raw) in enumerate(records):
            if len(fields) != width or "\x00" in raw:
                results[k] = self(fields, _line, raw)  # malformed or NUL: the per-row path says why
            else:
                good.append(k)
        if not good:
            return results  # type: ignore[return-value]
        columns = list(zip(*(records[k][0] for k in good)))
        n_rows = len(good)
        rejected: dict[int, Reject] = {}
        soft: dict[int, list[str]] = {}
        outputs: list[list[Any]] = []
        for (column, _single, _getter, _fn, hard, not_null, first), memo, idxs in zip(
                self.plan, self.memos, self.plan_inputs):
            if len(idxs) == 1 and idxs[0] is not None:
                values = list(map(memo.__getitem__, columns[idxs[0]]))
            else:
                inputs = [columns[i] if i is not None else itertools.repeat(None, n_rows) for i in idxs]
                values = list(map(memo.__getitem__, zip(*inputs)))
            if memo.errors:
                for i, v in enumerate(values):
                    if v.__class__ is _Err:
                        values[i] = None
                        if i in rejected:
                            continue
                        if hard:
                            rejected[i] = Reject(v.reason, first, v.detail)
                        else:
                            soft.setdefault(i, []).append(v.reason)
            if not_null and None in values:
                for i, v in enumerate(values):
                    if v is None and i not in rejected:
                        rejected[i] = Reject(f"{column}_manquant", first, f"{first} is empty")
            outputs.append(values)
        names = self.rule_columns
        tail = self._tail
        for i, values in enumerate(zip(*outputs)):
            k = good[i]
            if i in rejected:
                results[k] = rejected[i]
                continue
            results[k] = tail(dict(zip(names, values)), soft.get(i, []), records[k][1], records[k][2])
        return results  # type: ignore[return-value]

    def _tail(self, out: dict[str, Any], flags: list[str], line: int, raw: str) -> tuple | Reject:
        """Derived columns, integer bounds, controls and the COPY tuple of one row whose rules passed."""
        for d in self.spec.derived:
            out[d.column] = d.fn(out)
        for column, name, (low, high) in self.int_bounds:
            value = out[column]
            if value is not None and not low <= value <= high:
                return Reject("nombre_hors_limites", name, f"{value} is outside [{low}, {high}] for {column}")
        for control in self.spec.controls:
            if control.fails(out):
                flags.append(control.code)
        counts = self.soft_counts
        for code in flags:
            counts[code] = counts.get(code, 0) + 1
        row = [self.millesime, *self._outputs(out)]
        for i in self.array_positions:
            if row[i] is not None:
                row[i] = array_literal(row[i])
        if self.spec.flags_column:
            row.append(array_literal(flags))
        if self.spec.line_hash_column:
            row.append(line_hash(raw))
        row += [self.source_file, line]
        return tuple(row)


class _Err:
    """An `Invalid` raised by a normaliser, kept in the memo like a value (same raw, same error)."""

    __slots__ = ("reason", "detail")

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail


# Distinct raw values kept per rule: past this, the memo is emptied (bounded memory on columns
# where every value is new, such as names and registration numbers).
MEMO_MAX = 8_192


class _Memo(dict):
    """raw value (or tuple of raw values) → normalised value or `_Err`, computed on first sight."""

    def __init__(self, fn: Any, single: bool) -> None:
        super().__init__()
        self.fn = fn
        self.single = single
        self.errors = False  # an `_Err` was ever stored: the rule's column is scanned for them

    def __missing__(self, key: Any) -> Any:
        try:
            value = self.fn(key) if self.single else self.fn(*key)
        except Invalid as exc:
            value = _Err(exc.reason, exc.detail)
            self.errors = True
        if len(self) >= MEMO_MAX:
            self.clear()
        self[key] = value
        return value


# Pure one-field normalisers of low-cardinality fields (dates, codes, yes/no, counts): memoised
# per file in a bounded LRU. High-cardinality text (names, addresses) is not: misses cost more.
_MEMO = frozenset({n.boolean, n.date, n.period, n.insee, n.postcode, n.departement, n.integer, n.label_a_g})


INT_BOUNDS = {"smallint": (-(2**15), 2**15 - 1), "integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}


def _plan(rule: Rule, hm: HeaderMap) -> tuple:
    idxs = [hm.index.get(i) for i in rule.inputs]
    fn = rule.fn
    if len(idxs) == 1 and idxs[0] is not None:
        if fn in _MEMO:
            fn = functools.lru_cache(maxsize=4096)(fn)  # an `Invalid` is not cached: raised per row
        return (rule.column, True, idxs[0], fn, rule.hard, rule.not_null, rule.inputs[0])
    if all(i is not None for i in idxs):
        getter = operator.itemgetter(*idxs)
        get = (lambda f: (getter(f),)) if len(idxs) == 1 else getter
    else:  # absent optional columns read as empty
        get = (lambda f, idxs=tuple(idxs): tuple(f[i] if i is not None else None for i in idxs))
    return (rule.column, False, get, fn, rule.hard, rule.not_null, rule.inputs[0])


def array_literal(items: list[str]) -> str:
    """PostgreSQL text-array literal; our items (idpar, reason codes) are plain [0-9A-Za-z_].

    Written as text, COPY parses it into text[]: cheaper than psycopg's Python list dumper.
    """
    return "{" + ",".join(items) + "}"


def line_hash(raw: str) -> str:
    """Identical raw lines (DVF's exact duplicates) share this hash; line endings ignored."""
    return hashlib.md5(raw.rstrip("\r\n").encode("utf-8")).hexdigest()
