"""The code location loads as the UI would, and every asset and check shares the millésime partitions."""

from dagster import Definitions

from coproff_platform.definitions import defs
from coproff_platform.partitions import millesime_partitions


def test_code_location_loads():
    Definitions.validate_loadable(defs)


def test_every_asset_and_check_is_partitioned_by_millesime():
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    for key in graph.materializable_asset_keys:
        assert graph.get(key).partitions_def == millesime_partitions, key
