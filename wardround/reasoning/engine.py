"""The diagnostic engine: competing hypotheses scored over one shared finding space.

One table serves every knowledge source (the shipped knowledge base, the DDXPlus release files): for each
hypothesis ``h`` and finding ``f`` a log-likelihood term when ``f`` is present and one when it is explicitly
absent. A hypothesis' score is its log prior plus the terms of the observed findings; findings that were not
observed contribute nothing. Scores are compared on one scale and normalised together, optionally with an explicit
"none of these" hypothesis, so a probability means the same thing in every report (single-fault assumption: one
hypothesis accounts for the presentation).

How a knowledge source fills the table is its own business, with one rule in common: a finding that a hypothesis
does not explain is not neutral. In the shipped knowledge base its term is ``log(LEAK_LR)``; in DDXPlus it is
``log(LEAK)``. This is the leak of the noisy-OR model of QMR-DT (Shwe et al. 1991, "Probabilistic diagnosis using
a reformulation of the INTERNIST-1/QMR knowledge base", Methods Inf Med 30:241-255, DOI:10.1055/s-0038-1634846)
and the unexplained-finding penalty of INTERNIST-1 (Miller, Pople & Myers 1982, N Engl J Med 307:468-476,
DOI:10.1056/NEJM198208193070803): a finding the hypothesis cannot cause must be put down to chance, which is
unlikely, so it counts against the hypothesis.

The constants below are modelling choices, not clinical facts (docs/reasoning.md explains them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from wardround.evidence import Evidence, register_verifier

LEAK_LR = 0.25
"""Likelihood ratio of a salient finding that a hypothesis does not explain: the finding is about four times less
likely under that hypothesis than in the presenting population, where other causes of it are common."""

NONE_PRIOR = 0.2
"""Pre-test probability of "none of these": before any finding, one presentation in five comes from a condition
the ward did not consider. A condition then outweighs it once its own post-test probability exceeds about 20 %.
Findings that no hypothesis explains leave "none of these" standing while they pull every hypothesis down, which
is how a case outside the knowledge base shows."""

NONE = "none_of_these"
"""Key of the "none of these" hypothesis in normalised shares."""


def log_odds(probability: float) -> float:
    """logit(p) for 0 < p < 1."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"a probability must lie strictly between 0 and 1, not {probability}")
    return math.log(probability / (1.0 - probability))


def score(prior: float, lrs: Sequence[float]) -> float:
    """A hypothesis' log posterior odds against the reference: logit(prior) + sum of log likelihood ratios."""
    return log_odds(prior) + sum(math.log(lr) for lr in lrs)


def normalise(scores: Mapping[str, float], none_score: float | None = None) -> dict[str, float]:
    """Posterior shares of competing hypotheses from their log scores (softmax), "none of these" included.

    Args:
        scores: hypothesis key -> log score on a common scale.
        none_score: log score of "none of these"; ``None`` leaves it out.

    Returns:
        key -> share, summing to 1 (with ``NONE`` when ``none_score`` is given).
    """
    items = dict(scores)
    if none_score is not None:
        items[NONE] = none_score
    if not items:
        return {}
    top = max(items.values())
    weights = {k: math.exp(v - top) for k, v in items.items()}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


def log_scores(log_prior: Any, present_terms: Any, absent_terms: Any, present: Any, absent: Any) -> Any:
    """Vectorised scores for tabular knowledge sources (numpy arrays).

    Args:
        log_prior: ``(k,)`` log prior (or log prior odds) of each hypothesis.
        present_terms, absent_terms: ``(k, m)`` log-likelihood terms of each finding when present / absent.
        present, absent: ``(m,)`` or ``(n, m)`` indicator (or weight) of the findings observed present / absent.

    Returns:
        ``(k,)`` or ``(n, k)`` log scores.
    """
    return present @ present_terms.T + absent @ absent_terms.T + log_prior


def normalise_rows(scores: Any) -> Any:
    """Row-wise softmax of ``(n, k)`` log scores (numpy): each row's posterior shares."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    import numpy as np

    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def posterior_inputs(hypotheses: Mapping[str, tuple[float, Sequence[float]]],
                     none_prior: float | None = NONE_PRIOR) -> dict[str, Any]:
    """The recorded inputs of a posterior: every hypothesis' prior and LRs, and the "none of these" prior."""
    shares = shares_from(hypotheses, none_prior)
    return {
        "hypotheses": {k: {"prior": p, "lrs": [float(x) for x in lrs]} for k, (p, lrs) in hypotheses.items()},
        "none_prior": none_prior,
        "shares": {k: round(v, 4) for k, v in shares.items()},
    }


def shares_from(hypotheses: Mapping[str, tuple[float, Sequence[float]]],
                none_prior: float | None = NONE_PRIOR) -> dict[str, float]:
    """Posterior shares of hypotheses given as ``key -> (prior, lrs)``, "none of these" included when given."""
    scores = {k: score(p, lrs) for k, (p, lrs) in hypotheses.items()}
    return normalise(scores, None if none_prior is None else log_odds(none_prior))


def verify_posterior(ev: Evidence) -> str | None:
    """Recompute a recorded posterior (``posterior:`` tool evidence) from its priors and likelihood ratios."""
    inputs = ev.inputs or {}
    try:
        hyps = {k: (float(v["prior"]), [float(x) for x in v["lrs"]]) for k, v in inputs["hypotheses"].items()}
        none_prior = inputs.get("none_prior")
        shares = shares_from(hyps, None if none_prior is None else float(none_prior))
        recorded = {k: float(v) for k, v in inputs["shares"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return f"cannot recompute the posterior: {exc}"
    if set(recorded) != set(shares):
        return "recorded posterior names other hypotheses than its inputs"
    for k, v in shares.items():
        if abs(round(v, 4) - recorded[k]) > 1e-9:
            return f"recorded share of {k} {recorded[k]!r} does not recompute (got {round(v, 4)})"
    if ev.value is not None and (not isinstance(ev.value, int | float)
                                 or abs(float(ev.value) - recorded.get(NONE, 0.0)) > 1e-9):
        return f"recorded value {ev.value!r} is not the share of none of these"
    return None


register_verifier("posterior", verify_posterior)
