"""DDXPlus interactive (setting 1): each patient's initial evidence first, then one evidence per question.

``interactive_eval`` cross-fits: the patients are split into folds; the reasoner that interviews a fold is
fitted on the other folds only, and the stopping threshold used on a fold is tuned on the other folds' encounters
(with their own out-of-fold reasoners), so no patient is scored by anything fitted or tuned on it.

Tuning reads *trajectories*: each tuning encounter is run to the turn budget once with the same doctor and
gatekeeper, recording what the doctor would report after each turn. The questions a doctor asks do not depend on
its stopping rule, so the outcome of any threshold is read off the trajectory exactly. The reported figures are
then measured by running every scored encounter through the encounter graph with the tuned rule.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from wardround.encounters.costs import PriceTable
from wardround.encounters.doctor import RulesDDXPlusDoctor, lead_differential
from wardround.encounters.gatekeeper import DDXPlusGatekeeper
from wardround.encounters.graph import run_encounter
from wardround.encounters.metrics import InteractiveOutcome, score_interactive
from wardround.encounters.models import EncounterConfig, EncounterResult
from wardround.errors import InputError
from wardround.evals.ddxplus.items import DDXPlusItem
from wardround.evals.ddxplus.reasoner import DDXPlusReasoner
from wardround.evals.ddxplus.release import DDXPlusRelease

log = logging.getLogger(__name__)

Objective = Literal["pathology", "differential"]
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999, 0.99999, 1.01)
"""Candidate posterior thresholds (1.01 = never stop on confidence: use the whole turn budget)."""
TARGET_GTPA1 = 0.99
"""Pathology objective: the smallest threshold whose tuning-fold GTPA@1 reaches this (else the most accurate)."""


class TrajectoryStep(BaseModel):
    """What the doctor would report if it stopped after ``turn`` questions."""

    turn: int
    top: float
    ranked: list[tuple[str, float]]
    differential: list[tuple[str, float]]


def trajectory(item: DDXPlusItem, release: DDXPlusRelease, reasoner: DDXPlusReasoner,
               max_turns: int) -> list[TrajectoryStep]:
    """The doctor's report after 0, 1, ..., ``max_turns`` questions (it never stops early here)."""
    gk = DDXPlusGatekeeper(item, release)
    doctor = RulesDDXPlusDoctor(reasoner, threshold=None, min_gain=-1.0, age=item.age, sex=item.sex)
    action, answer = gk.opening()
    observed: dict[str, list[str]] = {}
    answered: list[str] = []
    steps = []
    for turn in range(max_turns + 1):
        if action.target and answer.status != "not_available":
            observed[action.target] = list(answer.codes)
            answered.append(action.target)
        post = doctor.posterior(observed, answered)
        order = np.argsort(-post, kind="stable")
        ranked = [(reasoner.pathologies[j], round(float(post[j]), 8)) for j in order[:10]]
        pred = doctor.predict_partial(observed, answered)
        steps.append(TrajectoryStep(turn=turn, top=float(post[order[0]]), ranked=ranked,
                                    differential=lead_differential(ranked, pred.differential)))
        if turn == max_turns:
            break
        action = doctor.next_action(observed, answered, turn)
        if action.kind == "diagnose":
            break
        answer = gk.answer(action)
    return steps


def stop_turn(steps: Sequence[TrajectoryStep], threshold: float) -> TrajectoryStep:
    """The step at which a doctor with this threshold stops."""
    for s in steps:
        if s.top >= threshold:
            return s
    return steps[-1]


def _outcome(item: DDXPlusItem, step_or_result: Any, cost: float = 0.0) -> InteractiveOutcome:
    questions = step_or_result.turn if isinstance(step_or_result, TrajectoryStep) else step_or_result.questions
    return InteractiveOutcome(id=item.id, pathology=item.pathology, gold_differential=item.differential,
                              questions=questions, ranked=step_or_result.ranked,
                              differential=step_or_result.differential, cost_usd=cost)


def tune_threshold(items: Sequence[DDXPlusItem], trajectories: Sequence[list[TrajectoryStep]],
                   objective: Objective) -> tuple[float, list[dict[str, Any]]]:
    """The threshold for ``objective`` on tuning encounters, and the (threshold, metrics) table it chose from.

    pathology: the smallest threshold reaching ``TARGET_GTPA1`` (else the most accurate);
    differential: the threshold with the largest DDF1@5 (ties: the shorter interaction).
    """
    table = []
    for t in THRESHOLDS:
        m = score_interactive([_outcome(it, stop_turn(tr, t)) for it, tr in zip(items, trajectories, strict=True)])
        table.append({"threshold": t, **m})
    if objective == "pathology":
        ok = [r for r in table if (r["GTPA@1"] or 0) >= TARGET_GTPA1]
        best = ok[0] if ok else max(table, key=lambda r: (r["GTPA@1"], -r["IL"]))
    else:
        best = max(table, key=lambda r: (round(r.get("DDF1@5") or 0.0, 4), -r["IL"]))
    return float(best["threshold"]), table


class InteractiveReport(BaseModel):
    """Cross-fitted interactive DDXPlus figures for one objective, with per-fold tuning and the IL curve."""

    objective: str
    max_turns: int
    folds: int
    seed: int
    metrics: dict[str, Any]
    thresholds: list[float] = Field(description="threshold used on each fold (tuned on the others)")
    curve: list[dict[str, Any]] = Field(default_factory=list, description="pooled out-of-fold metrics per threshold")
    fixed_turns: list[dict[str, Any]] = Field(default_factory=list,
                                              description="pooled metrics when stopping after exactly t questions")
    seconds: float = 0.0


def interactive_eval(items: Sequence[DDXPlusItem], release: DDXPlusRelease, *, max_turns: int = 30,
                     folds: int = 2, seed: int = 0, objectives: Sequence[Objective] = ("pathology", "differential"),
                     prices: PriceTable | None = None,
                     on_result: Callable[[str, DDXPlusItem, EncounterResult], None] | None = None,
                     fit: Sequence[DDXPlusItem] | None = None) -> dict[str, InteractiveReport]:
    """Cross-fitted interactive evaluation; one report per objective.

    Args:
        items: the patients interviewed (and, without ``fit``, the training pool of the other folds).
        release: the DDXPlus release files.
        max_turns: questions allowed after the initial evidence.
        folds: cross-fitting folds (>= 2).
        objectives: stopping rules tuned for the pathology (GTPA@1) and/or for the differential (DDF1@5).
        prices: price table (the visit fee bills each question).
        on_result: called with (objective, item, result) after each graph-run encounter.
        fit: separate training patients; then one reasoner fitted on them interviews every fold.
    """
    if folds < 2:
        raise InputError("folds", "cross-fitting needs at least 2 folds", "use folds=2 or more", folds)
    if len(items) < folds:
        raise InputError("folds", f"{len(items)} patients cannot fill {folds} folds", "use fewer folds", folds)
    t0 = time.perf_counter()
    order = np.random.default_rng(seed).permutation(len(items))
    parts = [list(p) for p in np.array_split(order, folds)]
    reasoners = []
    for i in range(folds):
        train = list(fit) if fit is not None else [items[j] for f, p in enumerate(parts) if f != i for j in p]
        reasoners.append(DDXPlusReasoner(release).fit(train))
    trajs: dict[int, list[TrajectoryStep]] = {}
    for i, part in enumerate(parts):
        for j in part:
            trajs[j] = trajectory(items[j], release, reasoners[i], max_turns)
    log.info("trajectories of %d patients in %.1f s", len(items), time.perf_counter() - t0)
    all_idx = [j for p in parts for j in p]
    curve = []
    for t in THRESHOLDS:
        m = score_interactive([_outcome(items[j], stop_turn(trajs[j], t)) for j in all_idx])
        curve.append({"threshold": t, **m})
    fixed = []
    for n in range(max_turns + 1):
        m = score_interactive([_outcome(items[j], trajs[j][min(n, len(trajs[j]) - 1)]) for j in all_idx])
        fixed.append({"turns": n, **m})
    reports: dict[str, InteractiveReport] = {}
    for objective in objectives:
        outcomes: list[InteractiveOutcome] = []
        used = []
        for i, part in enumerate(parts):
            tune_idx = [j for f, p in enumerate(parts) if f != i for j in p]
            threshold, _ = tune_threshold([items[j] for j in tune_idx], [trajs[j] for j in tune_idx], objective)
            used.append(threshold)
            for j in part:
                item = items[j]
                doctor = RulesDDXPlusDoctor(reasoners[i], threshold=threshold, min_gain=-1.0, age=item.age,
                                            sex=item.sex)
                result = run_encounter(DDXPlusGatekeeper(item, release), doctor,
                                       EncounterConfig(max_turns=max_turns), prices)
                if on_result:
                    on_result(objective, item, result)
                outcomes.append(_outcome(item, result, result.cost_usd))
        reports[objective] = InteractiveReport(objective=objective, max_turns=max_turns, folds=folds, seed=seed,
                                               metrics=score_interactive(outcomes), thresholds=used, curve=curve,
                                               fixed_turns=fixed, seconds=round(time.perf_counter() - t0, 2))
    return reports


def plot_curve(report: InteractiveReport, path: str | Path) -> Path:
    """PNG of accuracy (GTPA@1, DDF1@5) against interaction length: threshold sweep and fixed-length stops."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for key, colour in (("GTPA@1", "tab:blue"), ("DDF1@5", "tab:orange"), ("DDF1", "tab:green")):
        xs = [r["IL"] for r in report.curve if r.get(key) is not None]
        ys = [r[key] for r in report.curve if r.get(key) is not None]
        ax.plot(xs, ys, "o-", color=colour, label=f"{key}, posterior-threshold stop")
        fx = [r["IL"] for r in report.fixed_turns if r.get(key) is not None]
        fy = [r[key] for r in report.fixed_turns if r.get(key) is not None]
        ax.plot(fx, fy, ":", color=colour, alpha=0.7, label=f"{key}, stop after exactly t questions")
    ax.set_xlabel("interaction length IL (questions after the initial evidence)")
    ax.set_ylabel("score")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, report.max_turns + 0.5)
    ax.grid(alpha=0.3)
    ax.set_title(f"DDXPlus interactive, rules EIG doctor, {report.max_turns}-turn budget (out-of-fold)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
