"""The embedded DDXPlus reasoner: a structural Bayes built from the release files, optionally fitted on data.

It is the reasoning core's engine (``wardround.reasoning.engine``) over a second knowledge source: the release
files fill the same table of present/absent log-likelihood terms that the shipped knowledge base fills, with
``LEAK`` as the likelihood of an evidence the pathology does not list, and the engine scores and normalises.

Ranking (which pathology): a naive Bayes over evidence presence.

- Structure (no fit): ``P(e present | q) = ALPHA_SYMPTOM`` when ``e`` is listed among ``q``'s symptoms,
  ``ALPHA_ANTECEDENT`` when listed among its antecedents, ``LEAK`` otherwise. A categorical or multi-choice
  evidence counts as present when it has a non-default value. Absent evidences count too (``1 - P``), but only
  when the question would have been asked: a sub-question (``code_question`` names another evidence) is
  evaluated only when its root question is present. Priors are uniform (the release files give no prevalence).
- Fit: the same table re-estimated from training patients as a Beta posterior whose prior mean is the
  structural value with ``PSEUDO_COUNT`` pseudo-observations, ``(n_qe + m a_qe) / (n_q,asked + m)``; priors are
  Laplace-smoothed pathology frequencies.

Differential (which pathologies to keep):

- No fit: the top-ranked pathology plus every pathology that explains the presenting complaint (the initial
  evidence is in its symptoms or antecedents) and at least ``COVERAGE`` of the patient's present symptoms.
- Fit: one logistic model per pathology for "this pathology is in the differential", trained on the
  training patients' DIFFERENTIAL_DIAGNOSIS, with features of the patient (evidence codes, values, body sites
  pooled over left/right, ordinal scales, age band, sex) plus knowledge-base features of the (patient,
  pathology) pair shared by all pathologies (coverage of the patient's evidences by the pathology's list and of
  the list by the patient's evidences, evidences it does not explain, structural log-likelihood and rank). L2
  penalties keep the per-pathology weights small, so pathologies seen rarely lean on the shared structural
  features. The model is stacked in two stages: stage 1 is that model; stage 2 is the same model with stage 1's
  probabilities of all 49 pathologies added as patient features (which pathologies travel together) and as pair
  features (the pathology's own stage-1 log-odds, its rank and the expected size of the differential). Stage 2
  is trained on out-of-fold stage-1 probabilities of the training rows (``STACK_FOLDS`` inner folds), so it
  learns how far to trust stage 1 on patients stage 1 did not see. A pathology is kept when its stage-2
  probability is at least ``KEEP_THRESHOLD``; the top-ranked pathology is always kept.

These constants are modelling choices, not clinical facts, and carry no clinical reference.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from wardround.errors import InputError
from wardround.evals.ddxplus.items import DDXPlusItem, load_ddxplus
from wardround.evals.ddxplus.release import DDXPlusRelease
from wardround.reasoning import engine

log = logging.getLogger(__name__)

ALPHA_SYMPTOM = 0.6
"""P(symptom present | pathology lists it). Top-1 on the dev file moves by < 0.006 over 0.5-0.8."""
ALPHA_ANTECEDENT = 0.4
"""P(antecedent present | pathology lists it): antecedents are reported less often than symptoms."""
LEAK = 0.01
"""P(evidence present | pathology does not list it): a leak so that one unexpected finding is not fatal."""
PSEUDO_COUNT = 10.0
"""Weight, in patients, of the structural table when fitting it on data (Beta prior strength)."""
COVERAGE = 0.5
"""No-fit differential: minimum share of the patient's present symptoms a kept pathology must explain."""
KEEP_THRESHOLD = 0.4
"""Fitted differential: keep a pathology when P(in differential) >= this. The F1-optimal threshold of a
calibrated classifier is half the F1 it attains (Lipton, Elkan & Naryanaswamy 2014, "Optimal thresholding of
classifiers to maximize F1 measure", ECML PKDD, doi:10.1007/978-3-662-44851-9_15, PMID 26023687); expected F1 here is ~0.8."""
L2_PATHOLOGY = 0.3
"""L2 penalty on the per-pathology weights of the differential model."""
L2_SHARED = 0.01
"""L2 penalty on the weights of the shared knowledge-base pair features."""
AGE_BANDS = (0, 5, 15, 30, 45, 60, 75)
"""Lower bounds (years) of the age bands used as features of the fitted differential model."""
N_EXPLAIN = 3
"""Number of top-ranked pathologies explained in each prediction."""
STACK_FOLDS = 2
"""Inner folds giving the out-of-fold stage-1 probabilities on which the stage-2 differential model is trained."""
STACK_SEED = 0
"""Seed of the inner split (fixed, so a fit is reproducible)."""
PAIR_FEATURES = ("coverage", "unexplained_share", "log1p_unexplained", "all_explained", "structural_loglik",
                 "structural_top", "log1p_structural_rank", "list_recall", "symptom_list_recall")
STACK_PAIR_FEATURES = ("stage1_logodds", "log1p_stage1_rank", "stage1_expected_size")
"""Pair features added in stage 2 (shared weights), after ``PAIR_FEATURES``."""


class EvidenceContribution(BaseModel):
    """How much one evidence (present or absent) moved one pathology against the others (log-likelihood ratio)."""

    evidence: str
    present: bool
    text: str
    weight: float = Field(description="log P(x_e|q) - log mean P(x_e|other pathologies); > 0 supports q")


class DDXPlusPrediction(BaseModel):
    """A ranked list of pathologies with posteriors, the kept differential and per-pathology explanations."""

    id: str | None = None
    pathology: str = Field(description="top-ranked pathology")
    ranked: list[tuple[str, float]] = Field(description="every pathology with its posterior, best first")
    differential: list[tuple[str, float]] = Field(
        description="kept pathologies with their keep score (P(in differential) when fitted, else coverage)")
    rule: str = Field(description="'structural' or 'fitted'")
    explanations: dict[str, list[EvidenceContribution]] = Field(default_factory=dict)

    @property
    def differential_names(self) -> list[str]:
        """Names of the kept pathologies."""
        return [name for name, _ in self.differential]


class DDXPlusReasoner:
    """Structural Bayes over the DDXPlus release files, with an optional fit on training patients."""

    def __init__(self, release: DDXPlusRelease) -> None:
        self.release = release
        self.pathologies: list[str] = release.pathologies
        self.evidences: list[str] = release.evidence_names
        self._pidx = {p: i for i, p in enumerate(self.pathologies)}
        self._eidx = {e: i for i, e in enumerate(self.evidences)}
        k, m = len(self.pathologies), len(self.evidences)
        self.listed = np.zeros((k, m), dtype=bool)
        self.symptom_listed = np.zeros((k, m), dtype=bool)
        alpha = np.full((k, m), LEAK)
        for i, p in enumerate(self.pathologies):
            cond = release.condition(p)
            for e in cond.antecedents:
                alpha[i, self._eidx[e]] = ALPHA_ANTECEDENT
                self.listed[i, self._eidx[e]] = True
            for e in cond.symptoms:  # a code listed as both counts as a symptom
                alpha[i, self._eidx[e]] = ALPHA_SYMPTOM
                self.listed[i, self._eidx[e]] = True
                self.symptom_listed[i, self._eidx[e]] = True
        self.structural_alpha = alpha
        self._struct_l1, self._struct_l0 = np.log(alpha), np.log1p(-alpha)
        self.alpha = alpha.copy()
        self.log_prior = np.full(k, -math.log(k))
        self.root = np.array([self._eidx[release.root_of(e)] for e in self.evidences])
        self.is_root = self.root == np.arange(m)
        self.is_antecedent = np.array([release.evidences[e].is_antecedent for e in self.evidences])
        self._vocab = self._build_vocab()
        self.membership: dict[str, Any] | None = None
        self.fit_info: dict[str, Any] = {}

    # -- construction -------------------------------------------------------------------------------------

    @classmethod
    def from_release(cls, kb_dir: str | Path) -> DDXPlusReasoner:
        """The reasoner built from ``release_conditions.json`` and ``release_evidences.json`` in ``kb_dir``."""
        return cls(DDXPlusRelease.from_dir(kb_dir))

    def _build_vocab(self) -> dict[str, int]:
        vocab: dict[str, int] = {}
        for name, ev in self.release.evidences.items():
            vocab[name] = len(vocab)
            if ev.ordinal:
                vocab[f"{name}#scale"] = len(vocab)
            elif ev.data_type != "B":
                for v in ev.possible_values:
                    if ev.is_default(v):
                        continue
                    key = f"{name}~{ev.site(v)}" if ev.lateral else f"{name}={v}"
                    vocab.setdefault(key, len(vocab))
        for lo in AGE_BANDS:
            vocab[f"age>={lo}"] = len(vocab)
        vocab["sex=male"] = len(vocab)
        return vocab

    # -- encoding -----------------------------------------------------------------------------------------

    def _encode(self, items: list[DDXPlusItem]) -> tuple[np.ndarray, np.ndarray]:
        """Presence matrix and asked mask (patients x evidences)."""
        x = np.zeros((len(items), len(self.evidences)))
        for n, item in enumerate(items):
            for name in self.release.present(item.evidences):
                x[n, self._eidx[name]] = 1.0
        asked = self.is_root[None, :] | (x[:, self.root] > 0)
        return x, asked.astype(float)

    def _features(self, items: list[DDXPlusItem]) -> Any:
        """Sparse patient feature matrix of the fitted differential model."""
        from scipy import sparse

        rows, cols, vals = [], [], []
        for n, item in enumerate(items):
            feats: dict[int, float] = {}
            for code in item.evidences:
                p = self.release.parse_code(code)
                ev = self.release.evidences[p.evidence]
                if p.value is not None and ev.is_default(p.value):
                    continue
                feats[self._vocab[p.evidence]] = 1.0
                if p.value is None:
                    continue
                if ev.ordinal:
                    feats[self._vocab[f"{p.evidence}#scale"]] = float(p.value) / max(ev.scale_max, 1.0)
                else:
                    key = f"{p.evidence}~{ev.site(p.value)}" if ev.lateral else f"{p.evidence}={p.value}"
                    feats[self._vocab[key]] = 1.0
            if item.age is not None:
                band = max(lo for lo in AGE_BANDS if item.age >= lo) if item.age >= 0 else 0
                feats[self._vocab[f"age>={band}"]] = 1.0
            if item.sex == "male":
                feats[self._vocab["sex=male"]] = 1.0
            for j, v in feats.items():
                rows.append(n)
                cols.append(j)
                vals.append(v)
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(items), len(self._vocab)))

    def _structural(self, x: np.ndarray, asked: np.ndarray) -> np.ndarray:
        """Structural log-likelihood (patients x pathologies), uniform prior."""
        return engine.log_scores(0.0, self._struct_l1, self._struct_l0, x, (1 - x) * asked)

    def _pair_features(self, x: np.ndarray, struct: np.ndarray) -> np.ndarray:
        """Knowledge-base features of each (patient, pathology) pair, shared by all pathologies."""
        n_present = np.maximum(x.sum(1, keepdims=True), 1.0)
        explained = x @ self.listed.T.astype(float)
        unexplained = x.sum(1, keepdims=True) - explained
        rel = struct - struct.max(1, keepdims=True)
        rank = np.argsort(np.argsort(-struct, axis=1, kind="stable"), axis=1).astype(float)
        # share of the pathology's own list (all evidences, then symptoms only) that the patient shows
        list_recall = explained / np.maximum(self.listed.sum(1), 1)[None, :]
        symptoms = self.symptom_listed.astype(float)
        symptom_recall = (x @ symptoms.T) / np.maximum(symptoms.sum(1), 1)[None, :]
        return np.stack([explained / n_present, unexplained / n_present, np.log1p(unexplained),
                         (unexplained == 0).astype(float), rel / 10.0, (rank == 0).astype(float), np.log1p(rank),
                         list_recall, symptom_recall], axis=2)

    # -- fitting ------------------------------------------------------------------------------------------

    def fit(self, train: str | Path | list[DDXPlusItem]) -> DDXPlusReasoner:
        """Fit the likelihood table and the differential model on training patients (never the scored rows).

        Args:
            train: a patients CSV/zip (read with this reasoner's release files) or a list of items.
        """
        t0 = time.perf_counter()
        items = load_ddxplus(train, release=self.release) if isinstance(train, str | Path) else list(train)
        labelled = [it for it in items if it.pathology is not None]
        if not labelled:
            raise InputError("fit", "no training patient has a PATHOLOGY", "fit on a labelled DDXPlus patients file")
        k = len(self.pathologies)
        x, asked = self._encode(labelled)
        gold = np.array([self._pidx[it.pathology] for it in labelled])
        onehot = np.zeros((len(labelled), k))
        onehot[np.arange(len(labelled)), gold] = 1.0
        present_counts = onehot.T @ x
        asked_counts = onehot.T @ asked
        self.alpha = (present_counts + PSEUDO_COUNT * self.structural_alpha) / (asked_counts + PSEUDO_COUNT)
        counts = onehot.sum(0)
        self.log_prior = np.log((counts + 1.0) / (counts.sum() + k))
        with_ddx = [it for it in items if it.differential]
        self.membership = self._fit_membership(with_ddx) if with_ddx else None
        self.fit_info = {"n_train": len(items), "n_labelled": len(labelled), "n_with_differential": len(with_ddx),
                         "seconds": round(time.perf_counter() - t0, 3)}
        log.info("DDXPlus reasoner fitted on %d patients in %.1f s", len(items), self.fit_info["seconds"])
        return self

    def _fit_membership(self, items: list[DDXPlusItem]) -> dict[str, Any]:
        """Two-stage differential model: stage 1 on the patient and pair features, stage 2 on those plus the
        out-of-fold stage-1 probabilities (skipped when there are too few patients to split)."""
        k = len(self.pathologies)
        feats = self._features(items)
        x, asked = self._encode(items)
        pair = self._pair_features(x, self._structural(x, asked))
        y = np.zeros((len(items), k))
        for n, it in enumerate(items):
            for name in it.differential_names:
                y[n, self._pidx[name]] = 1.0
        stage1 = _fit_logistic(feats, pair, y)
        if len(items) < 4 * STACK_FOLDS:
            return {"stage1": stage1, "stage2": None}
        oof = np.zeros_like(y)
        parts = np.array_split(np.random.default_rng(STACK_SEED).permutation(len(items)), STACK_FOLDS)
        for i, part in enumerate(parts):
            rest = np.concatenate([p for j, p in enumerate(parts) if j != i])
            inner = _fit_logistic(feats[rest], pair[rest], y[rest], init=stage1)
            oof[part] = _probability(feats[part], pair[part], inner)
        feats2, pair2 = _stack_inputs(feats, pair, oof)
        return {"stage1": stage1, "stage2": _fit_logistic(feats2, pair2, y, init=stage1)}

    # -- prediction ---------------------------------------------------------------------------------------

    @property
    def fitted(self) -> bool:
        """Whether ``fit`` has been called."""
        return bool(self.fit_info)

    def predict(self, item: DDXPlusItem | dict[str, Any]) -> DDXPlusPrediction:
        """Rank every pathology for one patient and keep a differential, with explanations."""
        return self.predict_many([item])[0]

    def predict_many(self, items: list[DDXPlusItem | dict[str, Any]]) -> list[DDXPlusPrediction]:
        """``predict`` for many patients at once (vectorised)."""
        its = [it if isinstance(it, DDXPlusItem) else DDXPlusItem.model_validate(it) for it in items]
        if not its:
            return []
        x, asked = self._encode(its)
        l1, l0 = np.log(self.alpha), np.log1p(-self.alpha)
        score = engine.log_scores(self.log_prior, l1, l0, x, (1 - x) * asked)
        post = engine.normalise_rows(score)
        struct = self._structural(x, asked)
        keep = self._keep_scores(its, x, struct)
        out = []
        for n, item in enumerate(its):
            order = np.argsort(-score[n], kind="stable")
            ranked = [(self.pathologies[j], float(post[n, j])) for j in order]
            top = int(order[0])
            kept_idx = set(np.flatnonzero(keep[n] >= self._threshold).tolist()) | {top}
            differential = sorted(((self.pathologies[j], float(keep[n, j])) for j in kept_idx),
                                  key=lambda t: (t[0] != self.pathologies[top], -t[1]))
            explanations = {self.pathologies[j]: self._explain_row(x[n], asked[n], int(j), l1, l0, item)
                            for j in order[:N_EXPLAIN]}
            out.append(DDXPlusPrediction(id=item.id, pathology=self.pathologies[top], ranked=ranked,
                                         differential=differential, rule="fitted" if self.membership else "structural",
                                         explanations=explanations))
        return out

    @property
    def _threshold(self) -> float:
        return KEEP_THRESHOLD if self.membership is not None else COVERAGE

    def _keep_scores(self, items: list[DDXPlusItem], x: np.ndarray, struct: np.ndarray) -> np.ndarray:
        """Per (patient, pathology) keep score: P(in differential) when fitted, else the coverage rule's score."""
        if self.membership is not None:
            feats, pair = self._features(items), self._pair_features(x, struct)
            prob = _probability(feats, pair, self.membership["stage1"])
            if self.membership["stage2"] is None:
                return prob
            return _probability(*_stack_inputs(feats, pair, prob), self.membership["stage2"])
        symptoms = x * ~self.is_antecedent[None, :]
        n_sym = symptoms.sum(1, keepdims=True)
        coverage = np.where(n_sym > 0, (symptoms @ self.listed.T.astype(float)) / np.maximum(n_sym, 1), 0.0)
        for n, item in enumerate(items):
            if item.initial_evidence:
                first = self._eidx[self.release.evidence_of(item.initial_evidence)]
                coverage[n, ~self.listed[:, first]] = 0.0
        return coverage

    def _explain_row(self, x: np.ndarray, asked: np.ndarray, q: int, l1: np.ndarray, l0: np.ndarray,
                     item: DDXPlusItem, n: int = 5) -> list[EvidenceContribution]:
        others = np.arange(len(self.pathologies)) != q
        lik = np.where(x > 0, l1, l0)  # pathologies x evidences
        other = np.log(np.exp(lik[others]).mean(0))
        weight = (lik[q] - other) * asked
        idx = [j for j in np.argsort(-np.abs(weight), kind="stable")[:n] if weight[j] != 0]
        codes_by_ev: dict[str, list[str]] = {}
        for code in item.evidences:
            codes_by_ev.setdefault(self.release.parse_code(code).evidence, []).append(code)
        out = []
        for j in idx:
            name = self.evidences[j]
            ev = self.release.evidences[name]
            present = bool(x[j] > 0)
            if present:
                shown = [c for c in codes_by_ev.get(name, [name])
                         if self.release.parse_code(c).value is None or
                         not ev.is_default(self.release.parse_code(c).value or "")]
                text = " ".join(self.release.describe(c) for c in shown[:3])
            else:
                text = f"{ev.question_en or name} No."
            out.append(EvidenceContribution(evidence=name, present=present, text=text, weight=round(float(weight[j]), 4)))
        return out

    def explain(self, item: DDXPlusItem, pathology: str, n: int = 5) -> list[EvidenceContribution]:
        """The ``n`` evidences that moved ``pathology`` most against the others, for this patient."""
        q = self._pidx.get(self.release.pathology(pathology, "pathology"))
        assert q is not None
        x, asked = self._encode([item])
        return self._explain_row(x[0], asked[0], q, np.log(self.alpha), np.log1p(-self.alpha), item, n)


def _stack_inputs(feats: Any, pair: np.ndarray, prob: np.ndarray) -> tuple[Any, np.ndarray]:
    """Stage-2 inputs: stage-1 probabilities of all pathologies appended to the patient features, and the
    pathology's own stage-1 log-odds (/5), log rank and the expected differential size (/10) to the pair features."""
    from scipy import sparse

    p = np.clip(prob, 1e-4, 1.0 - 1e-4)
    rank = np.argsort(np.argsort(-p, axis=1, kind="stable"), axis=1).astype(float)
    size = np.broadcast_to(p.sum(1, keepdims=True) / 10.0, p.shape)
    extra = np.stack([np.log(p / (1.0 - p)) / 5.0, np.log1p(rank), size], axis=2)
    return sparse.hstack([feats, sparse.csr_matrix(prob)]).tocsr(), np.concatenate([pair, extra], axis=2)


def _probability(feats: Any, pair: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """P(in differential) of each (patient, pathology) under one fitted logistic model."""
    z = feats @ params["weights"] + params["bias"] + (pair * params["shared"]).sum(2)
    return 1.0 / (1.0 + np.exp(-z))


def _fit_logistic(feats: Any, pair: np.ndarray, y: np.ndarray,
                  init: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Per-pathology L2 logistic regression for 'q is in the differential' (patients x pathologies labels ``y``):
    per-pathology weights on the sparse patient features, shared weights on the pair features, truncated Newton.

    ``init`` warm-starts from another fit's weights (features it lacks start at 0); the optimum is unchanged.
    """
    n, k = y.shape
    feats_t = feats.T.tocsr()
    d, s = feats.shape[1], pair.shape[2]
    pair_planes = [np.ascontiguousarray(pair[:, :, j]) for j in range(s)]
    rate = (y.sum(0) + 0.5) / (n + 1.0)
    w0 = np.concatenate([np.zeros(d * k), np.log(rate / (1 - rate)), np.zeros(s)])
    if init is not None:
        start = np.zeros((d, k))
        start[: init["weights"].shape[0]] = init["weights"]
        shared0 = np.zeros(s)
        shared0[: init["shared"].shape[0]] = init["shared"]
        w0 = np.concatenate([start.ravel(), init["bias"], shared0])

    def unpack(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return w[: d * k].reshape(d, k), w[d * k: d * k + k], w[d * k + k:]

    cache: dict[str, Any] = {}

    def margins(w: np.ndarray) -> np.ndarray:
        weights, bias, shared = unpack(w)
        return feats @ weights + bias + _combine(pair_planes, shared)

    def loss_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
        weights, _, shared = unpack(w)
        z = margins(w)
        prob = 1.0 / (1.0 + np.exp(-z))
        cache["curvature"] = prob * (1.0 - prob)
        resid = prob - y
        loss = float((np.logaddexp(0.0, z) - y * z).sum() + 0.5 * L2_PATHOLOGY * (weights ** 2).sum()
                     + 0.5 * L2_SHARED * (shared ** 2).sum())
        g_w = feats_t @ resid + L2_PATHOLOGY * weights
        g_s = _project(resid, pair_planes) + L2_SHARED * shared
        return loss, np.concatenate([g_w.ravel(), resid.sum(0), g_s])

    def hessp(w: np.ndarray, v: np.ndarray) -> np.ndarray:
        if "curvature" not in cache:
            loss_grad(w)
        dw, _, ds = unpack(v)
        u = cache["curvature"] * margins(v)
        h_w = feats_t @ u + L2_PATHOLOGY * dw
        h_s = _project(u, pair_planes) + L2_SHARED * ds
        return np.concatenate([h_w.ravel(), u.sum(0), h_s])

    w, n_iter = _newton_cg(loss_grad, hessp, w0)
    log.debug("differential model: %d Newton iterations", n_iter)
    weights, bias, shared = unpack(w)
    return {"weights": weights, "bias": bias, "shared": shared}


def _combine(planes: list[np.ndarray], coef: np.ndarray) -> np.ndarray:
    """sum_j coef[j] * planes[j] (the shared pair-feature term of the margins)."""
    out = planes[0] * coef[0]
    for plane, c in zip(planes[1:], coef[1:], strict=True):
        out += plane * c
    return out


def _project(resid: np.ndarray, planes: list[np.ndarray]) -> np.ndarray:
    """(sum_nq resid * plane_j)_j: gradient of the shared pair-feature weights."""
    return np.array([_dot(resid, plane) for plane in planes])


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product without BLAS (threaded BLAS level-1 calls are slow on busy small machines)."""
    return float(np.multiply(a, b).sum())


def _newton_cg(loss_grad: Any, hessp: Any, w0: np.ndarray, tol: float = 1e-4,
               max_iter: int = 100) -> tuple[np.ndarray, int]:
    """Minimise a smooth convex function by truncated Newton: conjugate gradients on Hessian-vector products,
    then a backtracking (Armijo) line search (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.1)."""
    w = w0.copy()
    loss, grad = loss_grad(w)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        gnorm = math.sqrt(_dot(grad, grad))
        if float(np.abs(grad).max()) < tol:
            break
        # inexact Newton step: CG until the residual is below eta * ||g|| (superlinear forcing sequence)
        eta = min(0.5, math.sqrt(gnorm))
        step = np.zeros_like(w)
        resid = -grad.copy()
        direction = resid.copy()
        rr = _dot(resid, resid)
        for _ in range(250):
            hd = hessp(w, direction)
            curvature = _dot(direction, hd)
            if curvature <= 0:
                if not step.any():
                    step = -grad
                break
            a = rr / curvature
            step += a * direction
            resid -= a * hd
            rr_new = _dot(resid, resid)
            if math.sqrt(rr_new) <= eta * gnorm:
                break
            direction = resid + (rr_new / rr) * direction
            rr = rr_new
        slope = _dot(grad, step)
        t = 1.0
        while True:
            new_loss, new_grad = loss_grad(w + t * step)
            if new_loss <= loss + 1e-4 * t * slope or t < 1e-8:
                break
            t *= 0.5
        w = w + t * step
        if abs(loss - new_loss) <= 1e-10 * max(1.0, abs(loss)):
            loss, grad = new_loss, new_grad
            break
        loss, grad = new_loss, new_grad
    return w, n_iter
