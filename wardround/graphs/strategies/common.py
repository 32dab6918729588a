"""What every collaboration strategy shares: its state, member nodes, step accounting and the small extra roles.

A strategy is a LangGraph graph over the same agent protocols (triage, specialist, attending), the same
ledger and the same verifier as the ward graph; what differs is the shape. The few decisions the papers add
(a complexity check, a moderator's consensus check, an expert's vote on a report) are one structured call each
to the configured chat model, with a rules implementation that needs no model (and takes over when the model
fails). What was said in a discussion (moderator feedback, objections, team reports) enters the ledger as
``derived`` evidence under the ``DS`` prefix, resting on the ids it cites, so later members see it as
evidence and it verifies like every other item.
"""

from __future__ import annotations

import logging
import operator
import time
from typing import Annotated, Any, Literal

from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, Field

from wardround.agents import prompts
from wardround.agents.base import knowledge_for
from wardround.agents.registry import agents_for
from wardround.case import Case
from wardround.config import WardConfig, ward_config
from wardround.errors import CaseError, ConfigError, WardroundError
from wardround.evidence import EvidenceWriter, Ledger, cited_ids
from wardround.graphs.state import WardState
from wardround.reasoning import attending
from wardround.reasoning.verify import verify_and_repair
from wardround.report import Diagnosis, Dissent, Opinion, RationaleSentence, Usage

log = logging.getLogger(__name__)

DISCUSSION_PREFIX = "DS"
"""Evidence id prefix of what members said to one another (feedback, objections, team reports)."""


def add_steps(left: list[dict] | None, right: list[dict] | None) -> list[dict]:
    """LangGraph reducer: steps of parallel members are appended in arrival order."""
    return [*(left or []), *(right or [])]


class StrategyState(WardState, total=False):
    """``WardState`` plus what a multi-round strategy needs; everything stays JSON-serialisable."""

    strategy: str
    complexity: str
    round: int
    consensus: bool
    #: the discussion is over (consensus, round limit, or nothing new to say)
    done: bool
    #: opinions of every round: ``{"round": r, "opinion": Opinion}`` (``opinions`` holds the final round's)
    round_opinions: Annotated[list[dict], operator.add]
    votes: Annotated[list[dict], operator.add]
    teams: list[list[str]]
    team: int
    #: one entry per model-using node run: step label, agent, calls, seconds (the critical path is read from it)
    steps: Annotated[list[dict], add_steps]
    #: who said what, in order: ``{"step", "agent", "said"}``
    transcript: Annotated[list[dict], operator.add]


def options_of(config: RunnableConfig | None) -> dict[str, Any]:
    """The strategy's own options (``configurable.strategy_options``: rounds, experts, teams)."""
    return dict(((config or {}).get("configurable") or {}).get("strategy_options") or {})


def member_send(node: str, state: dict, specialty: str, label: str, **extra: Any) -> Any:
    """A ``Send`` of one member's task: the case, the ledger so far, its specialty and the step label."""
    from langgraph.types import Send

    return Send(node, {"case": state["case"], "ledger": state.get("ledger") or {}, "specialty": specialty,
                       "step": label, "round": state.get("round", 1), **extra})


def ledger_of(state: dict) -> Ledger:
    """The state's ledger as a ``Ledger``."""
    return Ledger(entries=dict(state.get("ledger") or {}))


def step(label: str, agent: str, usage: Usage, seconds: float) -> dict:
    """One step record: the critical path sums, step by step, the most calls of any member of that step."""
    return {"step": label, "agent": agent, "calls": int(usage.calls), "seconds": round(seconds, 6)}


def with_seconds(usage: Usage, node: str, seconds: float) -> Usage:
    """``usage`` with the node's wall time added under ``seconds[node]``."""
    merged = dict(usage.seconds)
    merged[node] = round(merged.get(node, 0.0) + seconds, 6)
    return usage.model_copy(update={"seconds": merged})


def critical_path(steps: list[dict]) -> dict[str, Any]:
    """Calls per case and the critical path of model calls (members of one step run at the same time)."""
    by_step: dict[str, int] = {}
    secs: dict[str, float] = {}
    for s in steps:
        by_step[s["step"]] = max(by_step.get(s["step"], 0), int(s["calls"]))
        secs[s["step"]] = max(secs.get(s["step"], 0.0), float(s["seconds"]))
    return {"calls": sum(int(s["calls"]) for s in steps), "critical_path_calls": sum(by_step.values()),
            "critical_path_seconds": round(sum(secs.values()), 6), "steps": list(by_step)}


# ---------------------------------------------------------------------------------------------------------
# Members: one specialist's analysis in one step (run concurrently through ``Send``)


def consult_member(state: dict, config: RunnableConfig) -> dict:
    """One specialist's opinion in step ``state["step"]``; a failure becomes an issue, never a lost round."""
    t0 = time.perf_counter()
    cfg = ward_config(config)
    specialty, label = state["specialty"], state["step"]
    agent = f"specialist:{specialty}"
    try:
        opinion, out = agents_for(cfg).specialist.consult(specialty, state["case"], ledger_of(state), cfg)
    except WardroundError as exc:
        log.warning("%s failed in %s: %s", agent, label, exc)
        dt = time.perf_counter() - t0
        return {"issues": [f"{label} {specialty}: {exc}"], "usage": with_seconds(Usage(), f"{label}:{agent}", dt),
                "steps": [step(label, agent, Usage(), dt)]}
    dt = time.perf_counter() - t0
    return {"round_opinions": [{"round": state.get("round", 1), "opinion": opinion}],
            "ledger": {e.id: e for e in out.evidence}, "issues": out.issues,
            "usage": with_seconds(out.usage, f"{label}:{agent}", dt), "steps": [step(label, agent, out.usage, dt)],
            "transcript": [{"step": label, "agent": agent, "said": opinion.summary}]}


def latest_opinions(state: dict) -> list[Opinion]:
    """The opinions of the latest round, one per specialty, sorted by specialty."""
    rows = state.get("round_opinions") or []
    if not rows:
        return sorted(state.get("opinions") or [], key=lambda o: o.specialty)
    last = max(int(r["round"]) for r in rows)
    mine = {}
    for r in rows:
        if int(r["round"]) == last:
            op = r["opinion"] if isinstance(r["opinion"], Opinion) else Opinion.model_validate(r["opinion"])
            mine[op.specialty] = op
    return [mine[k] for k in sorted(mine)]


def decide(state: dict, config: RunnableConfig, label: str, opinions: list[Opinion]) -> dict:
    """The attending protocol over ``opinions`` (final decision, a report, or a team lead's summary)."""
    t0 = time.perf_counter()
    cfg = ward_config(config)
    diagnosis, out = agents_for(cfg).attending.decide(state["case"], ledger_of(state), opinions, cfg)
    dt = time.perf_counter() - t0
    said = " ".join(s.text for s in diagnosis.rationale[:2])
    return {"diagnosis": diagnosis, "ledger": {e.id: e for e in out.evidence}, "issues": out.issues,
            "usage": with_seconds(out.usage, f"{label}:attending", dt), "steps": [step(label, "attending", out.usage, dt)],
            "transcript": [{"step": label, "agent": "attending", "said": said}]}


def diagnosis_from_opinion(case: Case, ledger: Ledger, opinion: Opinion, config: WardConfig) -> tuple[Diagnosis, list[str]]:
    """A single agent's opinion as the report: no second model call, the same checks as the attending's.

    The reasoning core annotates what each condition explains and judges coverage; citations are verified and
    failures removed, as for every other strategy's report.
    """
    kb = knowledge_for(config)
    if not opinion.differential:
        raise CaseError("differential", f"{opinion.specialty} gave no differential", "check the model's answer")
    differential, ranking = attending.annotate(kb, ledger, config, list(opinion.differential))
    primary = differential[0]
    verdict = attending.coverage_verdict(ranking, kb, [primary.condition]) if ranking.get(primary.condition) else None
    if verdict is not None and verdict.primary is not None and verdict.primary.condition.id == primary.condition:
        supported, coverage, unexplained, refer = verdict.supported, verdict.coverage, verdict.unexplained, verdict.refer_to
    else:
        supported, coverage, unexplained, refer = False, "outside", [], []
    text = opinion.summary or f"{primary.name} is the leading diagnosis."
    rationale = [RationaleSentence(text=text, citations=list(dict.fromkeys(cited_ids(text))), kind="leading")]
    cond = kb.conditions.get(primary.condition)
    diagnosis = Diagnosis(primary=primary, differential=differential[: config.differential_size], rationale=rationale,
                          consulted=attending.consulted_names(kb, [opinion.specialty]),
                          next_steps=list(cond.next_steps) if cond else [], supported=supported, coverage=coverage,
                          unexplained=unexplained, none_probability=round(ranking.none_share, 4), refer_to=refer)
    issues = [] if supported else [f"{opinion.specialty}'s primary {primary.name} does not cover the case"]
    diagnosis, repair = verify_and_repair(diagnosis, ledger, case)
    return diagnosis, issues + repair


def add_dissent(diagnosis: Diagnosis, opinions: list[Opinion], votes: list[dict]) -> Diagnosis:
    """Record every member who still disagrees (by opinion or by vote) as dissent, once each."""
    have = {d.specialty for d in diagnosis.dissent}
    extra: list[Dissent] = []
    for op in opinions:
        if op.primary is not None and op.primary.condition != diagnosis.primary.condition and op.specialty not in have:
            extra.append(Dissent(specialty=op.specialty, their_primary=op.primary.name,
                                 their_probability=op.primary.probability,
                                 resolution=f"Not adopted: the team's decision was {diagnosis.primary.name}."))
            have.add(op.specialty)
    for v in votes:
        if not v["agree"] and v["specialty"] not in have:
            extra.append(Dissent(specialty=v["specialty"], their_primary=v.get("their_primary") or "-",
                                 their_probability=float(v.get("their_probability") or 0.0),
                                 resolution=f"Voted against the final report: {v['reason']}"))
            have.add(v["specialty"])
    return diagnosis.model_copy(update={"dissent": [*diagnosis.dissent, *extra]}) if extra else diagnosis


def discussion_evidence(ledger: Ledger, producer: str, statement: str, cites: list[str]) -> Any:
    """Record what a member said to the others as ``derived`` evidence resting on the (known) ids it cites."""
    sources = [i for i in dict.fromkeys(cites) if i in ledger]
    if not sources:
        return None
    writer = EvidenceWriter(DISCUSSION_PREFIX, producer, ledger.entries)
    return writer.add("derived", " ".join(statement.split())[:600], derived_from=sources)


# ---------------------------------------------------------------------------------------------------------
# The extra roles: complexity check, moderator, vote (one structured call each; rules without a model)


class ComplexityAnswer(BaseModel):
    """How complex the case is (MDAgents' routing question)."""

    complexity: Literal["basic", "intermediate", "advanced"]
    rationale: str = Field(description="one sentence citing evidence ids inline, e.g. [E3]")


class ModeratorAnswer(BaseModel):
    """The moderator's review of one discussion round."""

    consensus: bool = Field(description="true when the team agrees on the leading diagnosis")
    feedback: str = Field(description="what the team should reconsider next round, citing evidence ids inline")


class VoteAnswer(BaseModel):
    """An expert's vote on the summary report."""

    agree: bool
    reason: str = Field(description="one sentence citing evidence ids inline, e.g. [E3]")


COMPLEXITY_SYSTEM = (
    "Role: complexity.\nYou decide how much collaboration a case needs: basic (one clinician can answer), "
    "intermediate (a multidisciplinary team should discuss it), advanced (several teams should work it up in "
    "turn).\n" + prompts.CITATION_RULES + "\nReply with only one JSON object matching this schema, no prose and "
    "no code fence:\n{schema}"
)

MODERATOR_SYSTEM = (
    "Role: moderator.\nYou moderate a multidisciplinary team discussing a case. Read the members' opinions of this "
    "round: say whether they agree on the leading diagnosis and, if not, what each should reconsider.\n"
    + prompts.CITATION_RULES + "\nReply with only one JSON object matching this schema, no prose and no code "
    "fence:\n{schema}"
)

VOTE_SYSTEM = (
    "Role: vote {specialty}.\nYou are the {specialty_name} expert of a consultation. Read the summary report and "
    "vote: agree if you accept its leading diagnosis, otherwise say what is wrong with it.\n"
    + prompts.CITATION_RULES + "\nReply with only one JSON object matching this schema, no prose and no code "
    "fence:\n{schema}"
)


def _client(config: WardConfig, role: str) -> Any:
    spec = config.model_for(role)
    if spec in (None, "rules"):
        return None
    from wardround.llm import get_client

    return get_client(spec)


def structured_call(config: WardConfig, role: str, agent: str, system: str, user: str,
                    schema: type[BaseModel]) -> tuple[BaseModel | None, Usage, list[str]]:
    """One structured model call for ``agent`` (model of ``role``); ``None`` when rules mode or the model failed."""
    client = _client(config, role)
    if client is None:
        return None, Usage(), []
    from langchain_core.messages import HumanMessage, SystemMessage

    from wardround.llm import Meter, ask_structured

    meter = Meter()
    messages: list[Any] = [SystemMessage(content=system), HumanMessage(content=user)]
    try:
        answer = ask_structured(client, messages, meter, agent=agent, schema=schema,
                                repair_request=prompts.REPAIR_FORMAT)
    except ConfigError:
        raise
    except Exception as exc:  # the model failed beyond repair: the rules decision stands in, and says so
        meter.fallbacks += 1
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return None, meter.usage(agent), [f"{agent}: model {client.label} failed ({reason}); the rules decision "
                                          "took over"]
    return answer, meter.usage(agent), []


def case_text(case: Case, ledger: Ledger) -> str:
    """The case and its evidence as every member's prompt shows them."""
    return f"{prompts.format_case(case)}\n\nEvidence:\n{prompts.format_ledger(ledger)}"


def known_citations(text: str, ledger: Ledger) -> list[str]:
    """The ids cited in ``text`` that exist in the ledger."""
    return [i for i in cited_ids(text) if i in ledger]
