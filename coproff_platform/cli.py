"""`coproff`: the command line for people outside the Dagster UI.

Each sub-command lives in its own module and registers its arguments here; the module is imported
only when the command runs, so `coproff --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module with `add_arguments(parser)` and `run(args) -> int`, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "sample": ("coproff_platform.sample.cli", "generate a sample millésime in the real source formats"),
    "materialize": ("coproff_platform.runner", "load and build a millésime with its checks"),
    "evaluate": ("coproff_platform.evaluation", "score matching and duplicate flags against the ground truth"),
    "status": ("coproff_platform.status", "millésimes, last runs and check results"),
    "export": ("coproff_platform.exports", "export a millésime as GeoPackage or CSV"),
    "registre": ("coproff_platform.registre.cli", "the registry's declarations: editors' test service, sample declarations"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coproff", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            cmd.set_defaults(_missing=module_name)
            continue
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "_missing", None):
        print(f"coproff {args.command}: not available in this version ({args._missing} is missing)", file=sys.stderr)
        return 2
    return int(args._run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
