"""Bayesian update with likelihood ratios, and its evidence verifier.

Post-test odds = pre-test odds x product of the LRs of the findings observed (LR+ for a present finding, LR-
for an explicitly absent one); findings that were not observed contribute nothing. This is the textbook
odds form of Bayes' theorem used throughout the JAMA Rational Clinical Examination series (Sackett DL,
"A primer on the precision and accuracy of the clinical examination", JAMA 1992;267(19):2638-44,
doi:10.1001/jama.1992.03480190080037). It assumes conditional independence of findings, which overstates certainty when findings
are correlated; wardround caps each post-test probability below 0.99 to keep that visible rather than
claiming certainty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from wardround.evidence import Evidence, register_verifier

MAX_PROBABILITY = 0.99
MIN_PROBABILITY = 0.001


def post_test_probability(prior: float, lrs: Sequence[float]) -> float:
    """Post-test probability from a pre-test probability and the LRs of the observed findings."""
    if not 0.0 < prior < 1.0:
        raise ValueError(f"prior must lie strictly between 0 and 1, not {prior}")
    log_odds = math.log(prior / (1.0 - prior)) + sum(math.log(lr) for lr in lrs)
    p = 1.0 / (1.0 + math.exp(-log_odds))
    return min(MAX_PROBABILITY, max(MIN_PROBABILITY, p))


def verify_bayes(ev: Evidence) -> str | None:
    """Recompute a recorded Bayesian update from its inputs (``prior`` and ``lrs``)."""
    inputs = ev.inputs or {}
    try:
        p = post_test_probability(float(inputs["prior"]), [float(x) for x in inputs["lrs"]])
    except (KeyError, TypeError, ValueError) as exc:
        return f"cannot recompute the Bayesian update: {exc}"
    if not isinstance(ev.value, int | float) or abs(round(p, 4) - float(ev.value)) > 1e-9:
        return f"recorded probability {ev.value!r} does not recompute (got {round(p, 4)})"
    return None


register_verifier("bayes", verify_bayes)
