"""GX suite of one staged source: one `SUMMARY` pass (how the checks ran before) against the two
passes of `checks.expectations.validate` (`BOOLEAN_ONLY`, then `SUMMARY` for failures only), in
one process, alternating, on an already built database:

    python -m benchmarks.gx_passes --database-url URL --source dpe --millesime 2023 [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from coproff_platform.checks import expectations as ex


def one_summary_pass(url: str, source: str, millesime: int) -> list[tuple[str, str, bool]]:
    gx = ex._gx()
    schema, table = ex.partition_name(ex.SOURCES[source].table.qualified, millesime).split(".")
    context = gx.get_context(mode="ephemeral")
    datasource = context.data_sources.add_postgres(name="coproff", connection_string=url)
    batch = datasource.add_table_asset(name=table, table_name=table, schema_name=schema) \
        .add_batch_definition_whole_table("millesime")
    suite = context.suites.add(gx.ExpectationSuite(name="one_pass"))
    for e in ex.suite_for(source, millesime):
        suite.add_expectation(getattr(gx.expectations, e.kind)(**ex._iso_dates(e.kwargs)))
    definition = context.validation_definitions.add(gx.ValidationDefinition(data=batch, suite=suite, name="one_pass"))
    result = definition.run(result_format={"result_format": "SUMMARY", "partial_unexpected_count": ex.SAMPLE})
    datasource.get_execution_engine().engine.dispose()
    return sorted((r.expectation_config.type, str(r.expectation_config.kwargs.get("column")), bool(r.success))
                  for r in result.results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("COPROFF_DATABASE_URL"))
    parser.add_argument("--source", default="dpe")
    parser.add_argument("--millesime", type=int, default=2023)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ex._gx()  # import outside the timings
    for i in range(args.rounds):
        started = time.monotonic()
        before = one_summary_pass(args.database_url, args.source, args.millesime)
        t_before = time.monotonic() - started
        started = time.monotonic()
        now = ex.validate(args.database_url, args.source, args.millesime)
        t_now = time.monotonic() - started
        same = before == sorted((o.kind, str(o.column), o.success) for o in now)
        print(f"round {i + 1}: one SUMMARY pass {t_before:.1f} s, two passes {t_now:.1f} s "
              f"({t_before / t_now:.1f}×), same verdicts: {same}, failed expectations: "
              f"{sum(not o.success for o in now)}, load average {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
