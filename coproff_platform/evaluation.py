"""`coproff evaluate`: scores the matching and the duplicate flags against a sample's ground truth.

The truth of a generated millésime lives in `<truth>/<millesime>/` (`COPROFF_TRUTH_DIR`, outside
the landing zone, read by nothing but this module):
  - `links.csv` (`num_immat,idtup`, empty idtup when the registration has no TUP);
  - `duplicates.csv` (`num_immat_a,num_immat_b,kind`; for FF kinds b is `FF_<idtup>`);
  - `principal_secondaire.csv` (`num_immat_principal,num_immat_secondaire`), optional: legitimate
    pairs that must not be flagged (counted, reported as false alarms);
  - `cases.csv` (`num_immat,situation,cas_point,cas_reference`), optional: the real-world case the
    generator planted for each registration (where its point sits, what its first reference is),
    so that misses can be traced to the cases that cause them.

Matching: a registration counts right when its idtup equals the truth, "no TUP" included.
  precision = right TUPs / registrations we matched to a TUP;
  recall    = right TUPs / registrations that have a TUP in the truth;
  accuracy  = right answers (TUP or no TUP) / registrations in the truth.
Confusion per reason code (`motif` of coproff.appariement) and per planted case: right TUP, wrong
TUP, wrongly unmatched (a TUP in the truth, none found), wrongly matched (no TUP in the truth, one
found), right "no TUP"; with each group's precision (right / (right + wrong + wrongly matched)) and
recall (right / (right + wrong + wrongly unmatched)).
Duplicates: pairs compared unordered (a registration number, or `FF_<idtup>`), whatever the kind;
  precision = flagged pairs in the truth / flagged pairs; recall = truth pairs flagged / truth pairs.
The comparison runs in PostgreSQL: the truth files are streamed in with COPY into temporary tables.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coproff_platform.config import database_url, truth_dir
from coproff_platform.resources.postgis import PostGISResource

LINKS = "links.csv"
DUPLICATES = "duplicates.csv"
PRINCIPAL_SECONDAIRE = "principal_secondaire.csv"
CASES = "cases.csv"
OUTCOMES = ("right_tup", "wrong_tup", "wrongly_unmatched", "wrongly_matched", "right_none")


class TruthMissing(FileNotFoundError):
    pass


@dataclass
class Scores:
    millesime: int
    registrations_truth: int
    registrations_with_tup_truth: int
    registrations_matched: int
    matched_right: int
    none_right: int
    matching_precision: float
    matching_recall: float
    matching_accuracy: float
    pairs_truth: int
    pairs_flagged: int
    pairs_right: int
    duplicates_precision: float
    duplicates_recall: float
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    principal_secondaire_truth: int = 0
    principal_secondaire_flagged: int = 0
    wrong_matches_sample: list[tuple[str, str | None, str | None, str | None]] = field(default_factory=list)
    # motif -> outcome -> registrations; planted case ("cas_point / cas_reference") -> outcome -> registrations
    by_motif: dict[str, dict[str, int]] = field(default_factory=dict)
    by_case: dict[str, dict[str, int]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [
            f"millésime {self.millesime}",
            f"matching   precision {self.matching_precision:.4f}  recall {self.matching_recall:.4f}  "
            f"accuracy {self.matching_accuracy:.4f}  "
            f"({self.matched_right} right of {self.registrations_matched} matched; "
            f"{self.registrations_with_tup_truth} with a TUP and {self.registrations_truth} registrations in the truth)",
            f"duplicates precision {self.duplicates_precision:.4f}  recall {self.duplicates_recall:.4f}  "
            f"({self.pairs_right} right of {self.pairs_flagged} flagged; {self.pairs_truth} pairs in the truth)",
        ]
        if self.principal_secondaire_truth:
            out.append(
                f"  principal/secondary pairs flagged as duplicates: {self.principal_secondaire_flagged} "
                f"of {self.principal_secondaire_truth}"
            )
        for kind, s in sorted(self.by_kind.items()):
            out.append(
                f"  {kind:<24} truth {int(s['truth']):>6}  flagged {int(s['flagged']):>6}  "
                f"precision {s['precision']:.4f}  recall {s['recall']:.4f}"
            )
        out += confusion_lines("matching by reason code (motif)", self.by_motif)
        if self.by_case:
            out += confusion_lines("matching by planted case (point / first reference)", self.by_case)
        return out


def _precision(row: dict[str, int]) -> float:
    return _ratio(row["right_tup"], row["right_tup"] + row["wrong_tup"] + row["wrongly_matched"])


def _recall(row: dict[str, int]) -> float:
    """Right TUPs among the group's registrations that have a TUP in the truth."""
    return _ratio(row["right_tup"], row["right_tup"] + row["wrong_tup"] + row["wrongly_unmatched"])


def confusion_lines(title: str, table: dict[str, dict[str, int]]) -> list[str]:
    """A confusion table as text: one line per group, the groups with most errors first."""
    if not table:
        return []
    head = "".join(f"{o:>18}" for o in OUTCOMES)
    out = [title + ":", f"  {'':<52}{head}   precision  recall"]
    order = sorted(table.items(), key=lambda kv: (-(kv[1]["wrong_tup"] + kv[1]["wrongly_unmatched"]
                                                    + kv[1]["wrongly_matched"]), kv[0]))
    for name, row in order:
        out.append(f"  {name:<52}" + "".join(f"{row[o]:>18}" for o in OUTCOMES)
                   + f"   {_precision(row):.4f}     {_recall(row):.4f}")
    return out


def confusion_markdown(table: dict[str, dict[str, int]], label: str) -> str:
    rows = [f"| {label} | " + " | ".join(OUTCOMES) + " | precision | recall |", "|---|" + "---:|" * (len(OUTCOMES) + 2)]
    for name, row in sorted(table.items(), key=lambda kv: (-(kv[1]["wrong_tup"] + kv[1]["wrongly_unmatched"]
                                                             + kv[1]["wrongly_matched"]), kv[0])):
        rows.append(f"| {name} | " + " | ".join(str(row[o]) for o in OUTCOMES)
                    + f" | {_precision(row):.4f} | {_recall(row):.4f} |")
    return "\n".join(rows)


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 1.0


def _copy_csv(conn: Connection, path: Path, table: str, columns: list[str]) -> None:
    """Streams a truth CSV into a temporary table, checking its header first."""
    with path.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f), None)
    if header is None or [h.strip() for h in header[: len(columns)]] != columns:
        raise ValueError(f"{path}: line 1: expected header {','.join(columns)}, found {header}")
    raw = conn.connection.driver_connection
    cols = ", ".join(columns)
    with raw.cursor() as cur, path.open("rb") as f:
        with cur.copy(f"copy {table} ({cols}) from stdin with (format csv, header true)") as copy:
            while chunk := f.read(1 << 20):
                copy.write(chunk)


def has_truth(millesime: int | str, truth: Path) -> bool:
    """Whether `millesime` has a ground truth to be evaluated against (generated samples only)."""
    return (truth / str(millesime) / LINKS).is_file()


def evaluate(postgis: PostGISResource, millesime: int, truth: Path) -> Scores:
    folder = truth / str(millesime)
    links, duplicates = folder / LINKS, folder / DUPLICATES
    if not has_truth(millesime, truth):
        raise TruthMissing(f"no ground truth for millésime {millesime}: {links} does not exist")
    with postgis.engine.begin() as conn:
        conn.execute(sa.text("create temporary table truth_links (num_immat text, idtup text) on commit drop"))
        conn.execute(sa.text(
            "create temporary table truth_duplicates (num_immat_a text, num_immat_b text, kind text) on commit drop"
        ))
        _copy_csv(conn, links, "truth_links", ["num_immat", "idtup"])
        if duplicates.is_file():
            _copy_csv(conn, duplicates, "truth_duplicates", ["num_immat_a", "num_immat_b", "kind"])
        conn.execute(sa.text(
            "create temporary table truth_ps (num_immat_principal text, num_immat_secondaire text) on commit drop"
        ))
        if (folder / PRINCIPAL_SECONDAIRE).is_file():
            _copy_csv(conn, folder / PRINCIPAL_SECONDAIRE, "truth_ps", ["num_immat_principal", "num_immat_secondaire"])
        ps = conn.execute(sa.text(
            """
            select count(*),
                   count(*) filter (where exists (
                       select 1 from coproff.doublons d
                       where d.millesime = :m
                         and least(d.num_immat_a::text, d.num_immat_b::text)
                             = least(trim(p.num_immat_principal), trim(p.num_immat_secondaire))
                         and greatest(d.num_immat_a::text, d.num_immat_b::text)
                             = greatest(trim(p.num_immat_principal), trim(p.num_immat_secondaire))))
            from truth_ps p
            """
        ), {"m": millesime}).one()
        m = conn.execute(sa.text(
            """
            with truth as (
                select trim(num_immat) as num_immat, nullif(trim(idtup), '') as idtup from truth_links
            ),
            predicted as (
                select num_immat::text as num_immat, idtup from coproff.appariement where millesime = :m
            ),
            compared as (
                select coalesce(truth.num_immat, predicted.num_immat) as num_immat, truth.idtup as idtup_truth, predicted.idtup as idtup_predicted,
                       predicted.num_immat is not null as staged, truth.num_immat is not null as in_truth
                from truth full join predicted using (num_immat)
            )
            select
                count(*) filter (where idtup_truth is not null) as n_truth_tup,
                count(*) filter (where idtup_predicted is not null) as n_matched,
                count(*) filter (where idtup_predicted is not null and idtup_predicted = idtup_truth) as right_tup,
                count(*) filter (where staged and idtup_truth is null and idtup_predicted is null
                                 and in_truth) as right_none
            from compared
            """
        ), {"m": millesime}).one()
        n_truth = conn.execute(sa.text("select count(*) from truth_links")).scalar_one()
        conn.execute(sa.text(
            "create temporary table truth_cases (num_immat text, situation text, cas_point text, cas_reference text) "
            "on commit drop"
        ))
        if (folder / CASES).is_file():
            _copy_csv(conn, folder / CASES, "truth_cases", ["num_immat", "situation", "cas_point", "cas_reference"])
        confusion = conn.execute(sa.text(
            """
            with truth as (
                select trim(num_immat) as num_immat, nullif(trim(idtup), '') as idtup from truth_links
            ),
            predicted as (
                select num_immat::text as num_immat, idtup, motif from coproff.appariement where millesime = :m
            ),
            outcomes as (
                select coalesce(p.motif, '(absente du référentiel)') as motif,
                       coalesce(c.cas_point || ' / ' || c.cas_reference, '') as cas,
                       case
                           when t.idtup is not null and p.idtup = t.idtup then 'right_tup'
                           when t.idtup is not null and p.idtup is not null then 'wrong_tup'
                           when t.idtup is not null then 'wrongly_unmatched'
                           when p.idtup is not null then 'wrongly_matched'
                           else 'right_none'
                       end as outcome
                from truth t
                left join predicted p using (num_immat)
                left join truth_cases c on trim(c.num_immat) = t.num_immat
            )
            select 'motif' as axis, motif as name, outcome, count(*) as n from outcomes group by motif, outcome
            union all
            select 'cas', cas, outcome, count(*) from outcomes where cas <> '' group by cas, outcome
            """
        ), {"m": millesime}).all()
        wrong = conn.execute(sa.text(
            """
            select t.num_immat, nullif(trim(t.idtup), ''), a.idtup, a.motif
            from truth_links t left join coproff.appariement a
              on a.millesime = :m and a.num_immat::text = trim(t.num_immat)
            where a.idtup is distinct from nullif(trim(t.idtup), '')
            order by 1 limit 20
            """
        ), {"m": millesime}).all()
        pairs = conn.execute(sa.text(
            """
            with truth as (
                select distinct least(trim(num_immat_a), trim(num_immat_b)) as x,
                       greatest(trim(num_immat_a), trim(num_immat_b)) as y, kind
                from truth_duplicates
            ),
            flagged as (
                select distinct least(num_immat_a::text, coalesce(num_immat_b::text, idcopro_b)) as x,
                       greatest(num_immat_a::text, coalesce(num_immat_b::text, idcopro_b)) as y, kind
                from coproff.doublons where millesime = :m
            ),
            kinds as (select kind from truth union select kind from flagged)
            select
                kinds.kind,
                (select count(*) from truth where truth.kind = kinds.kind) as truth,
                (select count(*) from flagged where flagged.kind = kinds.kind) as flagged,
                (select count(*) from flagged where flagged.kind = kinds.kind
                   and exists (select 1 from truth where truth.x = flagged.x and truth.y = flagged.y)) as flagged_right,
                (select count(*) from truth where truth.kind = kinds.kind
                   and exists (select 1 from flagged where truth.x = flagged.x and truth.y = flagged.y)) as truth_found
            from kinds
            union all
            select
                null,
                (select count(*) from (select distinct x, y from truth) t),
                (select count(*) from (select distinct x, y from flagged) f),
                (select count(*) from (select distinct x, y from flagged) f
                   where exists (select 1 from truth where truth.x = f.x and truth.y = f.y)),
                (select count(*) from (select distinct x, y from truth) t
                   where exists (select 1 from flagged where t.x = flagged.x and t.y = flagged.y))
            """
        ), {"m": millesime}).all()
    total = next(p for p in pairs if p.kind is None)
    by_kind = {
        p.kind: {
            "truth": p.truth,
            "flagged": p.flagged,
            "precision": _ratio(p.flagged_right, p.flagged),
            "recall": _ratio(p.truth_found, p.truth),
        }
        for p in pairs
        if p.kind is not None
    }
    by_motif: dict[str, dict[str, int]] = {}
    by_case: dict[str, dict[str, int]] = {}
    for row in confusion:
        target = by_motif if row.axis == "motif" else by_case
        target.setdefault(row.name, dict.fromkeys(OUTCOMES, 0))[row.outcome] = row.n
    return Scores(
        millesime=millesime,
        by_motif=by_motif,
        by_case=by_case,
        registrations_truth=n_truth,
        registrations_with_tup_truth=m.n_truth_tup,
        registrations_matched=m.n_matched,
        matched_right=m.right_tup,
        none_right=m.right_none,
        matching_precision=_ratio(m.right_tup, m.n_matched),
        matching_recall=_ratio(m.right_tup, m.n_truth_tup),
        matching_accuracy=_ratio(m.right_tup + m.right_none, n_truth),
        pairs_truth=total.truth,
        pairs_flagged=total.flagged,
        pairs_right=total.flagged_right,
        duplicates_precision=_ratio(total.flagged_right, total.flagged),
        duplicates_recall=_ratio(total.truth_found, total.truth),
        by_kind=by_kind,
        principal_secondaire_truth=ps[0],
        principal_secondaire_flagged=ps[1],
        wrong_matches_sample=[tuple(r) for r in wrong],
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--millesime", required=True, type=int, help="millésime (year), e.g. 2023")
    parser.add_argument("--truth-dir", type=Path, default=None, help="ground truth folder (default COPROFF_TRUTH_DIR)")
    parser.add_argument("--show-errors", action="store_true", help="print a sample of wrong matches")


def run(args: argparse.Namespace) -> int:
    postgis = PostGISResource(database_url=database_url())
    try:
        scores = evaluate(postgis, args.millesime, args.truth_dir or truth_dir())
    except TruthMissing as exc:
        print(f"coproff evaluate: {exc}")
        return 2
    print("\n".join(scores.lines()))
    if args.show_errors:
        print("wrong matches (num_immat, truth idtup, predicted idtup, motif):")
        for row in scores.wrong_matches_sample:
            print("  ", *row)
    return 0


def scores_dict(scores: Scores) -> dict:
    return asdict(scores)
