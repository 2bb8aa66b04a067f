"""The reference lists and parameters have one home: dbt_like_sql/reference/.

SQL models join `ref.<table>`, Python reads `coproff_platform/reference.py`. This test scans the
repository's `.py` and `.sql` files (not the reference folder, not `tests/data/`) and fails, naming
file and line, when a file writes one of the lists again:

* 3 or more distinct codes (quoted) of one list in one file: construction periods, gap-class
  labels, mandate labels, TUP types, `ctpdl` codes (a fixture using one or two codes passes);
* a territory's WGS84 box (4 numbers each within 1° of a box of `territoires.csv`);
* an SRID map: 3 or more distinct local SRIDs of `territoires.csv` (Lambert-93 aside) in one file;
* a parameter's value next to its meaning: on one line, the value of a `parametres.csv` row with
  its code, or with the environment variable its description names, or written as a quantity of
  its unit on a line about its topic ("periods widened by 4 years", "within 100 m of the
  cadastral reference"), or a date parameter's date anywhere.

Lists deliberately not scanned: DPE labels (single letters, published as columns nb_dpe_a ..
nb_dpe_g), situations (the codes the population rule produces, in coproff_base.sql).
"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

from coproff_platform import reference

ROOT = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve()
EXCLUDED_DIRS = ("dbt_like_sql/reference/", "tests/data/")
MIN_CODES = 3
LAMBERT_93 = reference.local_srid(None)

# Files that still write a reference list, by the helper who migrates them. The lead empties this
# list at merge; a file listed here is still scanned by the other files' rules, only its own
# findings are tolerated. Never add a file to silence a new finding: read the reference instead.
PENDING_BY_OWNER: dict[str, tuple[str, ...]] = {}
PENDING = {path for paths in PENDING_BY_OWNER.values() for path in paths}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


@cache
def code_lists() -> dict[str, frozenset[str]]:
    """The code lists a file must not write again (3+ distinct codes)."""
    return {
        "construction periods (periodes_construction.csv)": frozenset(reference.periods()),
        "gap-class labels (classes_ecart_logements.csv)": frozenset(c.libelle for c in reference.gap_classes()),
        "mandate labels (mandats.csv)": frozenset(r.libelle for r in reference.table("mandats")),
        "TUP types (types_tup.csv)": frozenset(r.code for r in reference.table("types_tup")),
        "ctpdl codes (types_pdl.csv)": frozenset(r.code for r in reference.table("types_pdl")),
    }


def scanned_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py", "*.sql"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()
    return [
        ROOT / p for p in sorted(set(listed))
        if not p.startswith(EXCLUDED_DIRS) and (ROOT / p).resolve() != THIS and (ROOT / p).exists()
    ]


_QUOTED = re.compile(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)\"""")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_FOUR_NUMBERS = re.compile(
    r"(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)"
)


def _literals(line: str) -> list[str]:
    return [a if a else b for a, b in _QUOTED.findall(line)]


def find_code_lists(path: str, lines: list[str]) -> list[Finding]:
    out = []
    for what, codes in code_lists().items():
        first_line: dict[str, int] = {}
        for i, line in enumerate(lines, start=1):
            for lit in _literals(line):
                if lit in codes:
                    first_line.setdefault(lit, i)
        if len(first_line) >= MIN_CODES:
            line = sorted(first_line.values())[MIN_CODES - 1]
            out.append(Finding(path, line, f"{len(first_line)} {what}: {', '.join(sorted(first_line))}"))
    return out


def find_boxes(path: str, lines: list[str]) -> list[Finding]:
    boxes = {r.code: (r.lon_min, r.lat_min, r.lon_max, r.lat_max) for r in reference.table("territoires")}
    out = []
    for i, line in enumerate(lines, start=1):
        for match in _FOUR_NUMBERS.finditer(line):
            numbers = [float(x) for x in match.groups()]
            for code, box in boxes.items():
                if all(abs(a - b) <= 1.0 for a, b in zip(numbers, box)):
                    out.append(Finding(path, i, f"the WGS84 box of {code} (territoires.csv)"))
    return out


def find_srid_maps(path: str, lines: list[str]) -> list[Finding]:
    srids = {r.srid_local for r in reference.table("territoires")} - {LAMBERT_93}
    first_line: dict[int, int] = {}
    for i, line in enumerate(lines, start=1):
        for token in _NUMBER.findall(line):
            if token.lstrip("-").isdigit() and int(token) in srids:
                first_line.setdefault(int(token), i)
    if len(first_line) >= MIN_CODES:
        return [Finding(path, sorted(first_line.values())[MIN_CODES - 1],
                        f"an SRID map ({', '.join(map(str, sorted(first_line)))}: territoires.csv srid_local)")]
    return []


_UNIT_WORDS = {"ans": r"(?:years?|ans?|années?)", "m": r"(?:m|metres?|mètres?)"}
# What a line must also speak of for "<value> <unit>" to be that parameter (a fixture's "3 years"
# or a rule's own "within 2 years" is not a copy of another parameter).
TOPICS = {
    "coherence_construction_marge_ans": r"widen|élarg|coheren|cohéren",
    "copro_recente_ans": r"recent|récent",
    "dpe_fenetre_ans": r"\bDPE\b|energy",
    "ventes_fenetre_ans": r"mutation|sales?\b|ventes?",
    "vacance_longue_ans": r"vacan",
    "reference_distance_max_m": r"cadastral|reference|référence",
    "geoloc_copro_ff_distance_max_m": r"geoloc|FF copropri",
    "point_loin_commune_m": r"commune",
}
_ENV = re.compile(r"\b(COPROFF_[A-Z0-9_]+)\b")


class ParameterPattern(NamedTuple):
    code: str
    needle: str  # text every match contains (lower case): lines without it are not searched
    named: re.Pattern[str]  # the value with what names the parameter, on one line
    quantity: re.Pattern[str] | None  # the value as a quantity of its unit on a line about its topic


@cache
def parameter_patterns() -> tuple[ParameterPattern, ...]:
    out = []
    for row in reference.table("parametres"):
        names = "|".join([re.escape(row.code)] + [re.escape(e) for e in _ENV.findall(row.description)])
        value = rf"(?<![\w.]){re.escape(row.valeur)}(?![\w.])"
        named = re.compile(rf"(?:{names}).*{value}|{value}.*(?:{names})")
        unit, topic = _UNIT_WORDS.get(row.unite), TOPICS.get(row.code)
        quantity, needle = None, row.valeur.lower()
        if row.unite == "date":  # a precise date is its own meaning: ISO or date(y, m, d)
            y, m, d = (int(x) for x in row.valeur.split("-"))
            quantity = re.compile(rf"{re.escape(row.valeur)}|date\(\s*{y}\s*,\s*{m}\s*,\s*{d}\s*\)")
            needle = str(y)  # in both spellings
        elif unit and topic:
            amount = rf"(?<![\w.±-]){re.escape(row.valeur)}[  -]?{unit}\b"
            quantity = re.compile(rf"(?i)(?=.*(?:{topic})).*{amount}")
        out.append(ParameterPattern(row.code, needle, named, quantity))
    return tuple(out)


def find_parameters(path: str, lines: list[str]) -> list[Finding]:
    out = []
    patterns = parameter_patterns()
    for i, line in enumerate(lines, start=1):
        lowered = line.lower()
        for p in patterns:
            if p.needle not in lowered:  # the regexes below are ~95% of the scan's time
                continue
            if p.named.search(line) or (p.quantity is not None and p.quantity.search(line)):
                out.append(Finding(path, i, f"the value of parameter {p.code} (parametres.csv)"))
    return out


def findings_in(path: str, text: str) -> list[Finding]:
    lines = text.splitlines()
    return [
        *find_code_lists(path, lines),
        *find_boxes(path, lines),
        *find_srid_maps(path, lines),
        *find_parameters(path, lines),
    ]


@cache  # one scan of the tree for the tests below (they only read it)
def all_findings() -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = defaultdict(list)
    for file in scanned_files():
        rel = str(file.relative_to(ROOT))
        out[rel] = findings_in(rel, file.read_text(encoding="utf-8", errors="replace"))
    return out


# -- the rule itself --------------------------------------------------------------------------

def test_no_reference_list_or_parameter_is_written_outside_the_reference_layer():
    findings = [f for path, fs in all_findings().items() if path not in PENDING for f in fs]
    assert not findings, "reference lists written outside dbt_like_sql/reference/ (read coproff_platform/" \
        "reference.py or join ref.<table>):\n" + "\n".join(map(str, findings))


def test_pending_files_exist_and_still_need_migrating():
    # a pending file that no longer writes a list must leave the list (the lead empties it at merge)
    found = all_findings()
    for owner, paths in PENDING_BY_OWNER.items():
        for path in paths:
            assert (ROOT / path).exists(), f"{path} (pending for {owner}) does not exist"
            assert found.get(path), f"{path} (pending for {owner}) writes no reference list any more: remove it"


# -- the detector catches what it must, and lets fixtures pass ------------------------------------

def test_three_period_codes_are_found_two_are_not():
    periods = reference.periods()
    two = f"rows = [('{periods[0]}', 1), ('{periods[1]}', 2)]\n"
    three = two + f"other = '{periods[2]}'\n"
    assert not find_code_lists("fixture.py", two.splitlines())
    (finding,) = find_code_lists("fixture.py", three.splitlines())
    assert finding.line == 2 and "construction periods" in finding.what


def test_gap_labels_mandates_and_ctpdl_lists_are_found():
    labels = [c.libelle for c in reference.gap_classes()][:3]
    sql = "case\n" + "".join(f"  when x = {i} then '{lab}'\n" for i, lab in enumerate(labels)) + "end"
    assert [f.line for f in find_code_lists("m.sql", sql.splitlines())] == [4]
    ctpdl = [r.code for r in reference.table("types_pdl")][:3]
    assert find_code_lists("m.sql", [f"where ctpdl in ({', '.join(repr(c) for c in ctpdl)})"])


def test_a_retyped_box_or_srid_map_is_found():
    old_metropole = "FRANCE = {'metropole': (-5.3, 41.2, 9.7, 51.2)}"  # the box normalise.py used to hold
    (box,) = find_boxes("n.py", [old_metropole])
    assert "metropole" in box.what and box.line == 1
    srid_map = ['SRIDS = {"971": 5490, "973": 2972,', '         "974": 2975}']
    (srid,) = find_srid_maps("n.py", srid_map)
    assert srid.line == 2
    assert not find_srid_maps("t.py", ["assert local_srid('974') == 2975 and local_srid('93') == 2154"])


def test_a_parameter_value_next_to_its_meaning_is_found():
    lines = [
        "-- RNIC periods widened by 4 years on each side",
        'GAP_SHARE_MIN = float(os.environ.get("COPROFF_GAP_SHARE_MIN", "0.67"))',
        "reference_distance_max_m = 100",
        "score = 0.20 * meme_adresse  -- a weight, not a parameter",
        "limit 100",
        "-- within 2 years of the registration's own TUP (a rule of its own)",
        '("750000000002", T1, "V", 2020),  # 3 years ago',
        "REGISTRY_OPENING = dt.date(2016, 11, 1)",
    ]
    assert [f.line for f in find_parameters("x.sql", lines)] == [1, 2, 3, 8]
