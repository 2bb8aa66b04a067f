"""`coproff sample`: write a sample millésime (real source formats) and its ground truth."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import config
from .generator import DEFAULT_COPROS, DEFAULT_DEPARTEMENTS, SampleSpec, check_years, generate, parse_years
from .geography import NATIONAL_TOTAL, resolve_departements


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--millesime", type=int, help="millésime to generate (e.g. 2023)")
    parser.add_argument("--years", help="consecutive millésimes, e.g. 2021-2023 (overrides --millesime)")
    parser.add_argument("--departements", default=DEFAULT_DEPARTEMENTS,
                        help="comma-separated codes (75,93,974), or 'all' / 'national' for every département")
    parser.add_argument("--copros", type=int, default=None,
                        help=f"rows of the final referential in total (default {DEFAULT_COPROS}; "
                             f"{NATIONAL_TOTAL} with --departements all)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rnic-format", choices=("current", "labels"), default="current",
                        help="RNIC header: current 72-column snake_case, or the older French labels (dd/mm/YYYY dates)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="départements built in parallel processes (output identical whatever the value)")
    parser.add_argument("--profile", action="store_true",
                        help="do not generate: measure how the registry points and references of the landing "
                             "millésime sit on its parcels (restricted to --departements when given) and "
                             "compare with the real profile (coproff_platform/sample/profil_reel.csv)")
    parser.add_argument("--cadastre", type=Path, default=None,
                        help="lay the registrations on the real parcels of one commune: an Etalab file "
                             "cadastre-<insee>-parcelles.json[.gz]; writes rnic/ and cadastre/ (open-cadastre "
                             "mode), --copros = registrations (default: one per 12 plausible parcels, 20–400)")
    parser.add_argument("--landing", type=Path, default=None, help="landing zone (default $COPROFF_LANDING_DIR)")
    parser.add_argument("--truth", type=Path, default=None, help="ground truth folder (default $COPROFF_TRUTH_DIR)")


def _profile(args: argparse.Namespace) -> int:
    from . import profile

    landing = args.landing or config.landing_dir()
    years = parse_years(args.millesime, args.years)
    explicit = args.departements != DEFAULT_DEPARTEMENTS and args.departements.strip().lower() not in {"all", "national", "france"}
    deps = frozenset(resolve_departements(args.departements)) if explicit else None
    status = 0
    for year in years:
        folder = landing / str(year)
        if not (folder / "rnic").is_dir() or not ((folder / "ff").is_dir() or (folder / "cadastre").is_dir()):
            print(f"coproff sample --profile: {folder} has no rnic/ and ff/ folders (nor rnic/ and cadastre/)", file=sys.stderr)
            return 2
        measures = profile.measure(folder, deps)
        print(f"millésime {year}" + (f", départements {','.join(sorted(deps))}" if deps else ""))
        print("\n".join(profile.lines(measures)))
    return status


def run(args: argparse.Namespace) -> int:
    if getattr(args, "profile", False):
        try:
            return _profile(args)
        except ValueError as exc:
            print(f"coproff sample: {exc}", file=sys.stderr)
            return 2
    try:
        years = parse_years(args.millesime, args.years)
        check_years(years)
        deps = resolve_departements(args.departements)
    except ValueError as exc:
        print(f"coproff sample: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "cadastre", None) is not None:
        from .generator import _check_replaceable
        from .on_cadastre import generate_on_cadastre

        if len(years) != 1 or not args.cadastre.is_file():
            print("coproff sample --cadastre: one --millesime and an existing cadastre file", file=sys.stderr)
            return 2
        landing, truth = args.landing or config.landing_dir(), args.truth or config.truth_dir()
        _check_replaceable(landing / str(years[0]))
        _check_replaceable(truth / str(years[0]))
        try:
            generate_on_cadastre(args.cadastre, years[0], args.copros, args.seed, landing, truth)
        except ValueError as exc:
            print(f"coproff sample: {exc}", file=sys.stderr)
            return 2
        return 0
    national = args.departements.strip().lower() in {"all", "national", "france"}
    copros = args.copros if args.copros is not None else (NATIONAL_TOTAL if national else DEFAULT_COPROS)
    if copros < 1:
        print(f"coproff sample: --copros must be positive (got {copros})", file=sys.stderr)
        return 2
    spec = SampleSpec(tuple(years), tuple(deps), copros, args.seed, args.rnic_format)
    generate(spec, args.landing or config.landing_dir(), args.truth or config.truth_dir(), jobs=max(1, getattr(args, "jobs", 1)))
    return 0
