"""Evaluation against the sample's ground truth (no production asset depends on it).

Reads `COPROFF_TRUTH_DIR/<millesime>/` through `coproff_platform.evaluation`; when the millésime has
no truth (real data), the asset logs why and materializes nothing.
"""

from collections.abc import Iterator

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from coproff_platform import labels as L
from coproff_platform.config import truth_dir
from coproff_platform.evaluation import TruthMissing, confusion_markdown, evaluate
from coproff_platform.partitions import millesime_partitions
from coproff_platform.resources.postgis import PostGISResource
from coproff_platform.ui import OWNERS, group_of
from coproff_platform.versions import python_code_version


def _kinds_markdown(by_kind: dict[str, dict[str, float]]) -> str:
    rows = ["| type | vérité | signalées | précision | rappel |", "|---|---:|---:|---:|---:|"]
    for kind, s in sorted(by_kind.items()):
        rows.append(f"| {kind} | {int(s['truth'])} | {int(s['flagged'])} | {s['precision']:.4f} | {s['recall']:.4f} |")
    return "\n".join(rows)


@asset(
    key=AssetKey(["evaluation", "scores"]),
    deps=[AssetKey(["coproff", "appariement"]), AssetKey(["coproff", "doublons"])],
    partitions_def=millesime_partitions,
    code_version=python_code_version("assets/evaluation.py", "evaluation.py"),
    group_name=group_of(AssetKey(["evaluation", "scores"])),
    owners=OWNERS,
    kinds={"postgres", "python"},
    output_required=False,
    description=(
        "Précision et rappel de l'appariement RNIC ↔ TUP et des paires de doublons, mesurés sur la "
        "vérité terrain d'un échantillon généré (COPROFF_TRUTH_DIR/<millesime>/). Ne matérialise rien "
        "pour un millésime sans vérité terrain (données réelles)."
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
            L.PRECISION_APPARIEMENT: scores.matching_precision,
            L.RAPPEL_APPARIEMENT: scores.matching_recall,
            L.EXACTITUDE_APPARIEMENT: scores.matching_accuracy,
            L.PRECISION_DOUBLONS: scores.duplicates_precision,
            L.RAPPEL_DOUBLONS: scores.duplicates_recall,
            L.IMMATRICULATIONS_VERITE: scores.registrations_truth,
            L.IMMATRICULATIONS_APPARIEES: scores.registrations_matched,
            L.PAIRES_VERITE: scores.pairs_truth,
            L.PAIRES_SIGNALEES: scores.pairs_flagged,
            L.PRINCIPAL_SECONDAIRE_SIGNALES: scores.principal_secondaire_flagged,
            L.DOUBLONS_PAR_TYPE: MetadataValue.md(_kinds_markdown(scores.by_kind)),
            L.APPARIEMENT_PAR_MOTIF: MetadataValue.md(confusion_markdown(scores.by_motif, "motif")),
            L.APPARIEMENT_PAR_CAS_PLANTE: MetadataValue.md(confusion_markdown(scores.by_case, "cas planté (point / référence)")),
            L.RESUME: MetadataValue.md("\n".join(f"    {line}" for line in scores.lines())),
        }
    )


EVALUATION_ASSETS = [evaluation_scores]
