"""DDXPlus: dataset adapter, embedded reasoner built from the release files, scoring and cross-fitting.

DDXPlus (Fansi Tchango et al. 2022, arXiv:2205.09148; mila-iqia/ddxplus) is released under CC-BY.

    items = load_ddxplus("patients.csv")                      # release files beside the CSV, or kb_dir=...
    reasoner = DDXPlusReasoner.from_release(kb_dir)           # structural Bayes from the release files
    reasoner.fit("train_patients.csv")                        # optional; never the rows being scored
    preds = [reasoner.predict(it) for it in items]            # ranked (pathology, p), kept differential, why
    score_ddxplus(items, preds)                               # top1/top3/top5, ddx_precision/recall/f1
    cross_fit_score("patients_dev.csv", folds=2, seed=0)      # fit one half, score the other, swap, pool
"""

from wardround.evals.ddxplus.items import DDXPlusItem, item_to_case, load_ddxplus, render_note
from wardround.evals.ddxplus.reasoner import DDXPlusPrediction, DDXPlusReasoner, EvidenceContribution
from wardround.evals.ddxplus.release import ConditionDef, DDXPlusRelease, EvidenceDef, ParsedEvidence
from wardround.evals.ddxplus.scoring import cross_fit_score, score_ddxplus

__all__ = [
    "ConditionDef",
    "DDXPlusItem",
    "DDXPlusPrediction",
    "DDXPlusReasoner",
    "DDXPlusRelease",
    "EvidenceContribution",
    "EvidenceDef",
    "ParsedEvidence",
    "cross_fit_score",
    "item_to_case",
    "load_ddxplus",
    "render_note",
    "score_ddxplus",
]
