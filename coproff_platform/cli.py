"""`coproff`: the command line for people outside the Dagster UI.

Each sub-command lives in its own module and registers its arguments here; the module is imported
only when the command runs, so `coproff --help` stays fast.

Every failure ends in a few lines on stderr (what failed, the cause, what to do, where the full
log is) and one of the exit codes below; `--verbose` shows Dagster's own log stream and full
tracebacks.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path

# Exit codes, the same for every command (listed in `coproff --help`).
EXIT_OK = 0
EXIT_BUILD_FAILED = 1  # an asset failed to build (bad file, SQL error...)
EXIT_USAGE = 2  # bad arguments: unknown option, invalid millésime, unknown asset key
EXIT_CHECK_FAILED = 3  # everything built but a blocking check failed: nothing new was published
EXIT_DATABASE = 4  # the database is unreachable
EXIT_NOT_FOUND = 5  # the millésime is not registered / not published
EXIT_INTERNAL = 70  # a bug: the traceback is written to a file named on stderr

EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_BUILD_FAILED: "a build failed (an asset raised an error)",
    EXIT_USAGE: "usage error (bad option, invalid millésime, unknown --select key, missing landing folder)",
    EXIT_CHECK_FAILED: "a blocking check failed (the published version is kept)",
    EXIT_DATABASE: "database unreachable (COPROFF_DATABASE_URL)",
    EXIT_NOT_FOUND: "millésime not registered or not published",
    EXIT_INTERNAL: "internal error (traceback written to a file named on stderr)",
}

# name -> (module with `add_arguments(parser)` and `run(args) -> int`, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "sample": ("coproff_platform.sample.cli", "generate a sample millésime in the real source formats"),
    "materialize": ("coproff_platform.runner", "load and build what changed in a millésime, with its checks (--force: all)"),
    "evaluate": ("coproff_platform.evaluation", "score matching and duplicate flags against the ground truth"),
    "status": ("coproff_platform.status", "millésimes, last runs and check results"),
    "quarantine": ("coproff_platform.quarantine", "rows set aside at loading: reasons, counts, examples"),
    "millesime": ("coproff_platform.millesime_cli", "list or remove registered millésimes (partitions)"),
    "export": ("coproff_platform.exports", "export a millésime as GeoPackage or CSV"),
    "registre": ("coproff_platform.registre.cli", "the registry's declarations: editors' test service, sample declarations"),
}


class CommandError(Exception):
    """A failure already explained: `lines` go to stderr as they are, `code` is the exit code."""

    def __init__(self, code: int, *lines: str):
        super().__init__(lines[0] if lines else "")
        self.code = code
        self.lines = list(lines)


def _epilog() -> str:
    codes = "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES.items())
    return f"exit codes:\n{codes}\n\nAdd --verbose to any command for Dagster's log stream and full tracebacks."


def _chosen_command(argv: list[str]) -> str | None:
    """The sub-command named on the line: the first word that is one (the only global option,
    --verbose, takes no value)."""
    return next((word for word in argv if word in COMMANDS), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """Only the chosen command's module is imported (to register its arguments): `coproff --help`
    and a command that needs no Dagster do not pay for importing the others (Dagster, the sample
    generator). `argv=None` reads sys.argv."""
    chosen = _chosen_command(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="coproff",
        description=__doc__.splitlines()[0],
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="show Dagster's log stream and full tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        cmd = sub.add_parser(
            name, help=help_text, description=help_text, epilog=_epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.add_argument("--verbose", "-v", action="store_true", default=argparse.SUPPRESS,
                         help="show Dagster's log stream and full tracebacks")
        if name != chosen:
            continue
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


def database_error_line(exc: BaseException) -> str | None:
    """The database error in one line when `exc` (or its cause) is a connection failure, else None."""
    import sqlalchemy as sa

    seen = exc
    while seen is not None:
        if isinstance(seen, sa.exc.OperationalError):
            text = str(seen.orig or seen).strip()
            return next((line.strip() for line in text.splitlines() if line.strip()), text)
        if type(seen).__name__ == "OperationalError" and type(seen).__module__.startswith("psycopg"):
            return str(seen).strip().splitlines()[0]
        seen = seen.__cause__ or seen.__context__
    return None


def database_unreachable(command: str, line: str) -> CommandError:
    from sqlalchemy.engine import make_url

    from coproff_platform.config import database_url

    url = make_url(database_url()).render_as_string(hide_password=True)
    return CommandError(
        EXIT_DATABASE,
        f"coproff {command}: database unreachable ({url})",
        f"  cause: {line}",
        "  what to do: start PostgreSQL (e.g. `pg_ctlcluster 15 main start`) or fix COPROFF_DATABASE_URL, then rerun",
    )


def _crash_file(command: str) -> Path:
    from coproff_platform.config import dagster_home

    folder = dagster_home() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"coproff-{command}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.log"


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
    if getattr(args, "_missing", None):
        print(f"coproff {args.command}: not available in this version ({args._missing} is missing)", file=sys.stderr)
        return EXIT_USAGE
    if not verbose:
        from coproff_platform.quiet import quiet_library_noise

        quiet_library_noise()
    try:
        return int(args._run(args) or 0)
    except CommandError as exc:
        print("\n".join(exc.lines), file=sys.stderr)
        return exc.code
    except BrokenPipeError:  # `coproff status | head`: the reader left, nothing to report
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(f"coproff {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last resort: a few lines, the traceback in a file
        db_line = database_error_line(exc)
        if db_line is not None:
            if verbose:
                traceback.print_exc()
            err = database_unreachable(args.command, db_line)
            print("\n".join(err.lines), file=sys.stderr)
            return err.code
        if verbose:
            traceback.print_exc()
            return EXIT_INTERNAL
        path = _crash_file(args.command)
        path.write_text(traceback.format_exc(), encoding="utf-8")
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        print(
            f"coproff {args.command}: unexpected error: {type(exc).__name__}: {first}\n"
            f"  full traceback: {path}\n"
            "  what to do: rerun with --verbose; report it with that file if it persists",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
