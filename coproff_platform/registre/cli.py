"""`coproff registre`: the editors' test service (`serve`) and the sample declarations (`sample`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coproff_platform import config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="registre_command", required=True, metavar="ACTION")
    serve = sub.add_parser("serve", help="start the editors' test service (WS1, WS2) on 127.0.0.1")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--millesime", type=int, default=None,
                       help="millésime whose landing zone receives accepted declarations (default: by the cut-off month)")
    serve.add_argument("--landing", type=Path, default=None, help="landing zone (default $COPROFF_LANDING_DIR)")
    sample = sub.add_parser("sample", help="write sample declarations from the millésime's RNIC landing files")
    sample.add_argument("--millesime", type=int, required=True)
    sample.add_argument("--seed", type=int, default=42)
    sample.add_argument("--landing", type=Path, default=None)
    sample.add_argument("--truth", type=Path, default=None)


def run(args: argparse.Namespace) -> int:
    landing = args.landing or config.landing_dir()
    if args.registre_command == "sample":
        from coproff_platform.sample.declarations import write_declarations
        if not (landing / str(args.millesime) / "rnic").is_dir():
            print(f"coproff registre sample: no {landing / str(args.millesime) / 'rnic'} (run coproff sample first)",
                  file=sys.stderr)
            return 2
        counts = write_declarations(args.millesime, landing, args.truth or config.truth_dir(), seed=args.seed)
        print(f"declarations {args.millesime}: {counts['lignes']} lines "
              f"({counts['annuelle']} annual updates, {counts['standard']} standard, {counts['ws1']} WS1, "
              f"{counts['malformees']} malformed)")
        return 0
    import uvicorn

    from coproff_platform.registre.service import create_app
    from coproff_platform.resources.postgis import PostGISResource
    app = create_app(PostGISResource.from_env().database_url, landing, args.millesime)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
