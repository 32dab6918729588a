"""Doctors: choose the next action of an encounter from what has been observed so far.

``RulesDDXPlusDoctor`` asks the DDXPlus question with the largest expected information gain (EIG) over the
posterior of the embedded DDXPlus reasoner, and diagnoses when the posterior crosses a threshold, when no
question is worth asking any more (the largest EIG falls below ``min_gain``), or when the budget ends.

The posterior uses the reasoner's own likelihood table (``alpha``) and prior (``log_prior``) with the
reasoning engine's ``log_scores``, over the evidences *asked so far* only: an evidence not yet asked carries no
term, where ``DDXPlusReasoner.predict`` (built for complete rows) would count an unasked root question as absent.
The kept differential is the reasoner's ``predict`` on the answers so far. EIG of asking evidence ``e`` with
posterior ``pi``: ``H(pi) - [P(e) H(pi | e) + (1 - P(e)) H(pi | not e)]``, ``P(e) = sum_q pi_q alpha_qe``
(Lindley 1956, "On a measure of the information provided by an experiment", Ann. Math. Stat. 27:986-1005,
doi:10.1214/aoms/1177728069). Thresholds are modelling choices tuned on data, not clinical facts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from wardround.encounters.models import Action
from wardround.evals.ddxplus.items import DDXPlusItem
from wardround.evals.ddxplus.reasoner import DDXPlusPrediction, DDXPlusReasoner
from wardround.reasoning import engine

DEFAULT_THRESHOLD = 0.99
"""Stop when the leading pathology's posterior reaches this (tuned on the dev file; see docs/encounters.md)."""
DEFAULT_MIN_GAIN = 0.0
"""Stop when no question's expected information gain (nats) exceeds this; 0 = never stop on gain."""


class Doctor(Protocol):
    """What an encounter needs from a doctor."""

    name: str

    def next_action(self, observed: Mapping[str, list[str]], answered: list[str], turn: int) -> Action:
        """The next action given the answers so far (``observed``: evidence -> revealed codes)."""
        ...

    def assess(self, observed: Mapping[str, list[str]], answered: list[str]) -> dict[str, Any]:
        """The current ranked posterior and kept differential."""
        ...


def _entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    return -(p * np.log(np.clip(p, 1e-300, None))).sum(axis=axis)


def lead_differential(ranked: list[tuple[str, float]], kept: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The kept differential led by the posterior's top pathology (always kept), the rest by keep score.

    The list order is the differential's ranking. The leading pathology shows its keep score when the
    differential model kept it, else its posterior.
    """
    top, p_top = ranked[0]
    scores = dict(kept)
    rest = sorted(((n, s) for n, s in kept if n != top), key=lambda t: -t[1])
    return [(top, scores.get(top, p_top)), *rest]


class RulesDDXPlusDoctor:
    """Expected-information-gain questioning over the DDXPlus reasoner's posterior, with a threshold stop.

    Args:
        reasoner: a ``DDXPlusReasoner`` (fitted on other patients than the ones it interviews, for evaluation).
        threshold: diagnose when the leading posterior reaches it (None: never stop on confidence).
        min_gain: diagnose when the best question's EIG (nats) is at most this.
        age, sex: demographics passed to the reasoner's differential model.
    """

    name = "rules-eig"

    def __init__(self, reasoner: DDXPlusReasoner, threshold: float | None = DEFAULT_THRESHOLD,
                 min_gain: float = DEFAULT_MIN_GAIN, age: float | None = None, sex: str = "unknown") -> None:
        self.reasoner = reasoner
        self.release = reasoner.release
        self.threshold = threshold
        self.min_gain = min_gain
        self.age = age
        self.sex = sex
        names = reasoner.evidences
        self._idx = {e: i for i, e in enumerate(names)}
        self._root = [self.release.root_of(e) for e in names]
        alpha = np.clip(np.asarray(reasoner.alpha, dtype=float), 1e-9, 1 - 1e-9)
        self._alpha = alpha
        self._l1, self._l0 = np.log(alpha), np.log1p(-alpha)

    # -- posterior ----------------------------------------------------------------------------------------

    def _masks(self, observed: Mapping[str, list[str]], answered: list[str]) -> tuple[np.ndarray, np.ndarray]:
        m = len(self._idx)
        present, absent = np.zeros(m), np.zeros(m)
        for name in answered:
            j = self._idx.get(name)
            if j is None:
                continue
            if self._is_present(name, observed.get(name, [])):
                present[j] = 1.0
            else:
                absent[j] = 1.0
        return present, absent

    def _is_present(self, name: str, codes: list[str]) -> bool:
        ev = self.release.evidences[name]
        for code in codes:
            value = self.release.parse_code(code).value
            if value is None or not ev.is_default(value):
                return True
        return False

    def posterior(self, observed: Mapping[str, list[str]], answered: list[str]) -> np.ndarray:
        """Posterior over the reasoner's pathologies given the answers so far (asked evidences only)."""
        present, absent = self._masks(observed, answered)
        score = engine.log_scores(np.asarray(self.reasoner.log_prior), self._l1, self._l0, present, absent)
        return engine.normalise_rows(score[None, :])[0]

    def gains(self, post: np.ndarray, answered: list[str], present_names: set[str]) -> np.ndarray:
        """EIG (nats) of every evidence; -inf for those already asked or not askable yet.

        A sub-question is askable once its root question has been answered present (the release hierarchy).
        """
        p_e = post @ self._alpha  # (m,) probability that each evidence is present
        joint1 = post[:, None] * self._alpha
        joint0 = post[:, None] * (1 - self._alpha)
        h1 = _entropy(joint1 / np.clip(p_e, 1e-300, None), axis=0)
        h0 = _entropy(joint0 / np.clip(1 - p_e, 1e-300, None), axis=0)
        gain = float(_entropy(post)) - (p_e * h1 + (1 - p_e) * h0)
        done = set(answered)
        for name, j in self._idx.items():
            root = self._root[j]
            if name in done or (root != name and root not in present_names):
                gain[j] = -np.inf
        return gain

    def assess(self, observed: Mapping[str, list[str]], answered: list[str]) -> dict[str, Any]:
        """Ranked posterior, the reasoner's kept differential on the answers so far, and its prediction."""
        post = self.posterior(observed, answered)
        order = np.argsort(-post, kind="stable")
        ranked = [(self.reasoner.pathologies[j], float(post[j])) for j in order]
        pred = self.predict_partial(observed, answered)
        return {"ranked": ranked, "differential": lead_differential(ranked, pred.differential), "prediction": pred}

    def predict_partial(self, observed: Mapping[str, list[str]], answered: list[str]) -> DDXPlusPrediction:
        """The reasoner's ``predict`` on the codes revealed so far (its differential model)."""
        codes = [c for name in answered for c in observed.get(name, [])]
        first = answered[0] if answered else None
        item = DDXPlusItem(id="encounter", age=self.age, sex=self.sex, evidences=list(dict.fromkeys(codes)),
                           initial_evidence=first)
        return self.reasoner.predict(item)

    # -- policy -------------------------------------------------------------------------------------------

    def next_action(self, observed: Mapping[str, list[str]], answered: list[str], turn: int) -> Action:
        """Diagnose when confident enough or nothing is worth asking; else ask the most informative question."""
        post = self.posterior(observed, answered)
        top = int(np.argmax(post))
        if self.threshold is not None and post[top] >= self.threshold:
            return Action(kind="diagnose", rationale=f"posterior of {self.reasoner.pathologies[top]} "
                                                     f"{post[top]:.3f} >= threshold {self.threshold}")
        present = {n for n in answered if self._is_present(n, observed.get(n, []))}
        gain = self.gains(post, answered, present)
        j = int(np.argmax(gain))
        if not math.isfinite(gain[j]) or gain[j] <= self.min_gain:
            return Action(kind="diagnose", rationale=f"no question gains more than {self.min_gain} nats")
        name = self.reasoner.evidences[j]
        return Action(kind="ask", target=name, score=round(float(gain[j]), 6),
                      rationale=f"largest expected information gain ({gain[j]:.3f} nats)")

    def contributions(self, observed: Mapping[str, list[str]], answered: list[str], pathology: str) -> dict[str, float]:
        """Per answered evidence, log P(answer | pathology) - log mean P(answer | other pathologies)."""
        q = self.reasoner.pathologies.index(pathology)
        out: dict[str, float] = {}
        others = np.arange(len(self.reasoner.pathologies)) != q
        for name in answered:
            j = self._idx.get(name)
            if j is None:
                continue
            lik = self._l1[:, j] if self._is_present(name, observed.get(name, [])) else self._l0[:, j]
            out[name] = float(lik[q] - np.log(np.exp(lik[others]).mean()))
        return out
