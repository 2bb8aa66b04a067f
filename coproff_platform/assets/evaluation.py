"""Evaluation against the sample's ground truth (no production asset depends on it).

Reads `COPROFF_TRUTH_DIR/<millesime>/` through `coproff_platform.evaluation`; when the millésime has
no truth (real data), the asset logs why and materializes nothing.
"""

from collections.abc import Iterator

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from coproff_platform.config import truth_dir
from coproff_platform.evaluation import TruthMissing, confusion_markdown, evaluate
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.postgis import PostGISResource
from coproff_platform.versions import python_code_version


def _kinds_markdown(by_kind: dict[str, dict[str, float]]) -> str:
    rows = ["| kind | truth | flagged | precision | recall |", "|---|---:|---:|---:|---:|"]
    for kind, s in sorted(by_kind.items()):
        rows.append(f"| {kind} | {int(s['truth'])} | {int(s['flagged'])} | {s['precision']:.4f} | {s['recall']:.4f} |")
    return "\n".join(rows)


@asset(
    key=AssetKey(["evaluation", "scores"]),
    deps=[AssetKey(["coproff", "appariement"]), AssetKey(["coproff", "doublons"])],
    partitions_def=millesime_partitions,
    code_version=python_code_version("assets/evaluation.py", "evaluation.py"),
    group_name="evaluation",
    owners=["team:coproff-data"],
    kinds={"postgres", "python"},
    output_required=False,
    description=(
        "Precision and recall of the RNIC ↔ TUP matching and of the duplicate pairs against the "
        "ground truth of a generated sample (COPROFF_TRUTH_DIR/<millesime>/). Materializes nothing "
        "for a millésime without ground truth (real data)."
    ),
)
def evaluation_scores(context: AssetExecutionContext, postgis: PostGISResource) -> Iterator[MaterializeResult]:
    millesime = int(context.partition_key)
    try:
        scores = evaluate(postgis, millesime, truth_dir())
    except TruthMissing as exc:
        context.log.info(f"evaluation skipped: {exc} (real data has no ground truth)")
        return
    yield MaterializeResult(
        metadata={
            "matching_precision": scores.matching_precision,
            "matching_recall": scores.matching_recall,
            "matching_accuracy": scores.matching_accuracy,
            "duplicates_precision": scores.duplicates_precision,
            "duplicates_recall": scores.duplicates_recall,
            "registrations_truth": scores.registrations_truth,
            "registrations_matched": scores.registrations_matched,
            "pairs_truth": scores.pairs_truth,
            "pairs_flagged": scores.pairs_flagged,
            "principal_secondaire_flagged": scores.principal_secondaire_flagged,
            "duplicates_by_kind": MetadataValue.md(_kinds_markdown(scores.by_kind)),
            "matching_by_motif": MetadataValue.md(confusion_markdown(scores.by_motif, "motif")),
            "matching_by_planted_case": MetadataValue.md(confusion_markdown(scores.by_case, "cas planté (point / référence)")),
            "summary": MetadataValue.md("\n".join(f"    {line}" for line in scores.lines())),
        }
    )


EVALUATION_ASSETS = [evaluation_scores]
