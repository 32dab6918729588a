"""LLM implementations of the three roles, behind the same protocols as the embedded reasoner.

- Every answer is one JSON object validated by a pydantic schema (``agents/prompts.py``); an unusable answer is
  sent back for repair a bounded number of times (``ModelSpec.max_repairs``; ``wardround.llm.structured``).
- Specialists run a bounded tool-calling loop over the calculators (``find_calculator``, ``calculate`` or a
  calculator id), ``quote_note`` and, when the case has imaging, ``segment``. wardround executes every call
  itself: calculator results become ``tool`` evidence under the specialist's prefix and recompute on
  verification, note quotes are located in the note (a quote that is not there is refused), segmentation
  hashes its artifacts. Tool errors go back to the model as tool messages it can act on.
- Citations are verified against the ledger; failures are sent back once for repair, then removed and
  flagged in ``issues``. A model that fails beyond repair hands the role to the rules implementation, and the
  fallback is recorded in ``issues`` and counted in usage.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from wardround.agents import prompts
from wardround.agents.base import AgentOutput, artifact_dir
from wardround.case import Case
from wardround.config import WardConfig
from wardround.errors import CaseError, ConfigError, WardroundError
from wardround.evidence import CITATION_RE, Evidence, EvidenceWriter, Ledger, cited_ids
from wardround.knowledge import KnowledgeBase, normalize_name
from wardround.llm import (
    ChatClient,
    Meter,
    ModelOutputError,
    ask_back,
    ask_structured,
    emit,
    message_text,
    parse_answer,
    sum_usage,
    validation_problems,
)
from wardround.reasoning import attending
from wardround.reasoning.verify import verify_and_repair
from wardround.report import (
    Diagnosis,
    DifferentialItem,
    Dissent,
    Opinion,
    RationaleSentence,
    TriageDecision,
    Verification,
)

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)


# ---------------------------------------------------------------------------------------------------------
# Parsing and citation helpers


def strip_citations(text: str, bad: set[str]) -> str:
    """Remove the ids in ``bad`` from inline citations (``[E1, E99]`` -> ``[E1]``, ``[E99]`` -> nothing)."""
    def repl(m: re.Match[str]) -> str:
        keep = [x.strip() for x in m.group(1).split(",") if x.strip() not in bad]
        return f"[{', '.join(keep)}]" if keep else ""

    return " ".join(CITATION_RE.sub(repl, text).split()).replace(" .", ".").replace(" ,", ",")


def _clean_ids(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(str(i).strip().strip("[]") for i in ids if str(i).strip()))


class _Run:
    """One agent call: the client, its meter, the agent name, and the conversation so far."""

    def __init__(self, client: ChatClient, agent: str, system: str, user: str) -> None:
        from langchain_core.messages import HumanMessage, SystemMessage

        self.client = client
        self.agent = agent
        self.meter = Meter()
        self.messages: list[Any] = [SystemMessage(content=system), HumanMessage(content=user)]
        self.issues: list[str] = []

    @property
    def max_repairs(self) -> int:
        return self.client.spec.max_repairs

    def invoke(self, tools: Sequence[Any] | None = None) -> Any:
        return self.client.invoke(self.messages, self.meter, agent=self.agent, tools=tools)

    def ask_back(self, answer_text: str, request: str) -> None:
        """Append the model's answer (as plain text) and a repair request (``wardround.llm.ask_back``)."""
        ask_back(self.messages, self.meter, self.agent, answer_text, request)

    def ask_structured(self, schema: type[T], check: Callable[[T], list[str]] | None = None) -> T:
        """Call the model until it returns a valid ``schema`` answer, with at most ``max_repairs`` repairs."""
        return ask_structured(self.client, self.messages, self.meter, agent=self.agent, schema=schema,
                              repair_request=prompts.REPAIR_FORMAT, check=check)

    def check_citations(self, ledger: Ledger, case: Case, ids: list[str]) -> list[Any]:
        """Citation failures among ``ids`` (unknown ids and evidence that does not re-check)."""
        return ledger.verify(case, ids).failures if ids else []

    def output(self, evidence: list[Evidence] | None = None) -> AgentOutput:
        return AgentOutput(evidence=list(evidence or []), issues=list(self.issues), usage=self.meter.usage(self.agent))


def _with_citation_repair(run: _Run, answer: T, schema: type[T], ids_of: Callable[[T], list[str]],
                          ledger: Ledger, case: Case, check: Callable[[T], list[str]] | None = None) -> tuple[T, set[str]]:
    """Send failing citations back once; return the (possibly repaired) answer and the ids still failing."""
    failures = run.check_citations(ledger, case, ids_of(answer))
    if not failures:
        return answer, set()
    text = json.dumps(answer.model_dump(mode="json"))
    run.ask_back(text, prompts.REPAIR_CITATIONS.format(
        failures="; ".join(f"[{f.id}] {f.reason}" for f in failures)))
    try:
        repaired = run.ask_structured(schema, check)
    except ModelOutputError as exc:  # keep the first answer; its bad citations are removed below
        run.issues.append(f"{run.agent}: the citation repair was unusable ({exc}); kept the first answer")
        repaired = answer
    still = run.check_citations(ledger, case, ids_of(repaired))
    for f in still:
        run.issues.append(f"{run.agent}: citation [{f.id}] removed: {f.reason}")
    return repaired, {f.id for f in still}


def _items(entries: list[prompts.DifferentialEntry], kb: KnowledgeBase, bad: set[str],
           specialty_of: Callable[[str], str | None], limit: int) -> list[DifferentialItem]:
    """Differential entries -> ranked ``DifferentialItem``s mapped onto the knowledge base where possible."""
    items: dict[str, DifferentialItem] = {}
    for e in entries:
        cond = kb.find_condition(e.condition)
        cid = cond.id if cond else normalize_name(e.condition).replace(" ", "_") or "unnamed"
        if cid in items:
            continue
        items[cid] = DifferentialItem(
            condition=cid, name=cond.name if cond else e.condition.strip(), icd10=cond.icd10 if cond else None,
            probability=e.probability, specialty=specialty_of(cid),
            supporting=[i for i in _clean_ids(e.supporting) if i not in bad],
            opposing=[i for i in _clean_ids(e.opposing) if i not in bad])
    ranked = sorted(items.values(), key=lambda x: -x.probability)
    return ranked[:limit]


def _fallback(agent: str, client: ChatClient, exc: BaseException, meter: Meter, issues: list[str],
              run_rules: Callable[[], tuple[Any, AgentOutput]]) -> tuple[Any, AgentOutput]:
    """Hand the role to the rules implementation and record why."""
    meter.fallbacks += 1
    reason = " ".join(str(exc).split()) or type(exc).__name__
    issue = f"{agent}: model {client.label} failed ({reason}); the embedded reasoner (rules) took over"
    log.warning(issue)
    emit({"event": "fallback", "agent": agent, "reason": reason})
    result, out = run_rules()
    if hasattr(result, "agent"):
        result = result.model_copy(update={"agent": f"rules (fallback from {client.label})"})
    usage = sum_usage(meter.usage(agent), out.usage)
    return result, AgentOutput(evidence=out.evidence, issues=[*issues, issue, *out.issues], usage=usage)


# ---------------------------------------------------------------------------------------------------------
# Triage


class LLMTriage:
    """Triage by a chat model: picks specialties from the knowledge base, cites the evidence that drove it."""

    def __init__(self, client: ChatClient, kb: KnowledgeBase, fallback: Any) -> None:
        self.client, self.kb, self.rules = client, kb, fallback
        self.name = client.label

    def triage(self, case: Case, ledger: Ledger, config: WardConfig) -> tuple[TriageDecision, AgentOutput]:
        """Ask the model which specialists to consult (rules take over when it fails)."""
        kb = self.kb
        allowed = config.specialties or list(kb.specialties)
        unknown = [s for s in allowed if s not in kb.specialties]
        if unknown:
            raise CaseError("specialties", f"unknown specialty {unknown[0]!r}", f"use one of: {', '.join(kb.specialties)}")
        system, user = prompts.triage_messages(case, ledger, kb, allowed, config.max_specialists)
        run = _Run(self.client, "triage", system, user)
        try:
            return self._triage(run, case, ledger, config, allowed)
        except (ConfigError, CaseError):
            raise
        except Exception as exc:  # the model failed beyond repair: rules take over
            return _fallback("triage", self.client, exc, run.meter, run.issues,
                             lambda: self.rules.triage(case, ledger, config))

    def _resolve(self, name: str, allowed: list[str]) -> str | None:
        key = normalize_name(name)
        for s in allowed:
            spec = self.kb.specialties[s]
            if key in (normalize_name(s), normalize_name(spec.name), normalize_name(spec.prefix)):
                return s
        return None

    def _triage(self, run: _Run, case: Case, ledger: Ledger, config: WardConfig,
                allowed: list[str]) -> tuple[TriageDecision, AgentOutput]:
        def check(a: prompts.TriageAnswer) -> list[str]:
            bad = [s for s in a.specialties if self._resolve(s, allowed) is None]
            return [f"unknown specialty {s!r}; choose from {', '.join(allowed)}" for s in bad]

        answer = run.ask_structured(prompts.TriageAnswer, check)
        answer, bad = _with_citation_repair(run, answer, prompts.TriageAnswer, lambda a: cited_ids(a.rationale),
                                            ledger, case, check)
        chosen = list(dict.fromkeys(s for x in answer.specialties if (s := self._resolve(x, allowed))))
        if len(chosen) > config.max_specialists:
            run.issues.append(f"triage: the model chose {len(chosen)} specialties; kept the first "
                              f"{config.max_specialists} (max_specialists)")
            chosen = chosen[: config.max_specialists]
        rationale = strip_citations(answer.rationale, bad)
        n = len(chosen)
        decision = TriageDecision(specialties=chosen, scores={s: round((n - i) / n, 3) for i, s in enumerate(chosen)},
                                  rationale=rationale, cited=list(dict.fromkeys(cited_ids(rationale))),
                                  agent=self.client.label)
        return decision, run.output()


# ---------------------------------------------------------------------------------------------------------
# Specialist


class QuoteNoteArgs(BaseModel):
    """Arguments of the quote_note tool."""

    quote: str = Field(min_length=2, description="an exact phrase of the note, copied character for character")


class SegmentToolArgs(BaseModel):
    """Arguments of the segment tool."""

    study: int = Field(ge=0, description="index of the case's imaging study")
    method: str = Field(description="segmentation method, e.g. lungs, hemorrhage, brain, body")
    prompt: list[float] | None = Field(None, description="seed point [x, y, z] in world mm (method region)")


def _dict_tool(name: str, description: str, args: type[BaseModel]) -> dict[str, Any]:
    schema = args.model_json_schema()
    schema.pop("title", None)
    return {"type": "function", "function": {"name": name, "description": description, "parameters": schema}}


class LLMSpecialist:
    """A specialist played by a chat model with calculator, note-quote and segmentation tools."""

    def __init__(self, client: ChatClient, kb: KnowledgeBase, fallback: Any) -> None:
        self.client, self.kb, self.rules = client, kb, fallback
        self.name = client.label

    def consult(self, specialty: str, case: Case, ledger: Ledger,
                config: WardConfig) -> tuple[Opinion, AgentOutput]:
        """Ask the model for the specialty's opinion (rules take over when it fails)."""
        kb = self.kb
        if specialty not in kb.specialties:
            raise CaseError("specialty", f"unknown specialty {specialty!r}", f"use one of: {', '.join(kb.specialties)}")
        spec = kb.specialties[specialty]
        agent = f"specialist:{specialty}"
        imaging = bool(case.imaging and config.use_imaging and _segmentation_available())
        system, user = prompts.specialist_messages(specialty, case, ledger, kb, imaging)
        run = _Run(self.client, agent, system, user)
        writer = EvidenceWriter(spec.prefix, specialty, ledger.entries)
        try:
            return self._consult(run, writer, specialty, case, ledger, config, imaging)
        except (ConfigError, CaseError):
            raise
        except Exception as exc:
            # keep the verified evidence the model's tools produced; rules continue the numbering after it
            kept = list(writer.items.values())
            extended = Ledger(entries={**ledger.entries, **writer.items})

            def rules() -> tuple[Opinion, AgentOutput]:
                op, out = self.rules.consult(specialty, case, extended, config)
                return op, AgentOutput(evidence=[*kept, *out.evidence], issues=out.issues, usage=out.usage)

            return _fallback(agent, self.client, exc, run.meter, run.issues, rules)

    # -- tools ------------------------------------------------------------------------------------------------

    def _tools(self, config: WardConfig, imaging: bool) -> list[dict[str, Any]]:
        return _tool_schemas(config.use_calculators, imaging)

    def _run_tool(self, call: dict[str, Any], writer: EvidenceWriter, case: Case, config: WardConfig,
                  agent: str, tool_names: set[str]) -> Any:
        from langchain_core.messages import ToolMessage

        name = str(call.get("name") or "")
        call_id = str(call.get("id") or f"call_{name}")
        args = call.get("args")
        emit({"event": "tool_call", "agent": agent, "tool": name, "args": args})
        before = set(writer.items)
        try:
            if call.get("error") is not None or not isinstance(args, dict):
                raise ValueError(f"the arguments of {name!r} are not a JSON object "
                                 f"({call.get('error') or type(args).__name__}); send them as a JSON object")
            payload = self._dispatch(name, args, writer, case, config, tool_names)
            ok = True
        except ValidationError as exc:
            payload, ok = f"error: invalid arguments for {name}: {validation_problems(exc)}", False
        except (WardroundError, ValueError, TypeError, KeyError) as exc:
            text = str(exc)
            payload, ok = (text if text.startswith("error:") else f"error: {text}"), False
        except Exception as exc:  # a tool must never take the ward round down
            log.warning("%s: tool %s raised %s", agent, name, exc, exc_info=True)
            payload, ok = f"error: {name} failed: {type(exc).__name__}: {exc}", False
        for eid in writer.items:
            if eid not in before:
                ev = writer.items[eid]
                emit({"event": "evidence", "agent": agent, "id": ev.id, "kind": ev.kind, "statement": ev.statement})
        content = payload if isinstance(payload, str) else json.dumps(payload, default=str)
        emit({"event": "tool_result", "agent": agent, "tool": name, "ok": ok, "content": content[:300]})
        return ToolMessage(content=content, tool_call_id=call_id, name=name or "unknown",
                           status="success" if ok else "error")

    def _dispatch(self, name: str, args: dict[str, Any], writer: EvidenceWriter, case: Case, config: WardConfig,
                  tool_names: set[str]) -> Any:
        if name in ("calculate", "find_calculator") or (config.use_calculators and _is_calculator(name)):
            if not config.use_calculators:
                raise ValueError("calculators are switched off for this ward round")
            from wardround.tools.calculators import calculate, result_to_evidence
            from wardround.tools.calculators.tools import (
                CalculateArgs,
                FindCalculatorArgs,
                describe_calculator,
                result_payload,
            )

            if name == "find_calculator":
                from wardround.tools.calculators import find_calculator

                q = FindCalculatorArgs.model_validate(args)
                return [describe_calculator(c) for c in find_calculator(q.query, limit=5)]
            if name == "calculate":
                a = CalculateArgs.model_validate(args)
                result = calculate(a.calculator_id, a.inputs, assume_normal=a.assume_normal)
            else:
                result = calculate(name, args)
            ev = result_to_evidence(writer, result)
            return {"evidence_id": ev.id, **result_payload(result)}
        if name == "quote_note":
            q = QuoteNoteArgs.model_validate(args)
            start = case.note.find(q.quote)
            if start < 0:
                low = case.note.lower().find(q.quote.lower())
                if low < 0:
                    raise ValueError(f"the phrase {q.quote!r} is not in the note; copy an exact phrase")
                start = low
            end = start + len(q.quote)
            from wardround.injection import overlaps_injection

            if overlaps_injection(case.note, start, end):
                raise ValueError("that passage of the note looks like instructions, tool output or citations, "
                                 "not clinical text; it cannot be cited: quote a clinical finding instead")
            ev = writer.note(f'Note: "{case.note[start:end]}"', case.note, start, end)
            return {"evidence_id": ev.id, "quote": ev.quote, "span": list(ev.span or ())}
        if name == "segment" and "segment" in tool_names:
            a = SegmentToolArgs.model_validate(args)
            if a.study >= len(case.imaging):
                raise ValueError(f"study {a.study} does not exist; the case has {len(case.imaging)} imaging studies")

            from wardround.tools.segmentation import segment_study

            out_dir = artifact_dir(config, case.id, writer.producer)
            study = case.imaging[a.study]  # its label is checked against its content, as for the rules specialist
            result = segment_study(study.path, a.method, prompt=a.prompt, out_dir=out_dir, writer=writer,
                                   body_region=study.body_region, modality=study.modality)
            return {"evidence_id": result.evidence_id, "summary": result.summary(), "volume_ml": result.volume_ml}
        raise ValueError(f"there is no tool named {name!r}; available tools: {', '.join(sorted(tool_names))} "
                         "(or a calculator id)")

    # -- the loop ---------------------------------------------------------------------------------------------

    def _consult(self, run: _Run, writer: EvidenceWriter, specialty: str, case: Case, ledger: Ledger,
                 config: WardConfig, imaging: bool) -> tuple[Opinion, AgentOutput]:
        from langchain_core.messages import HumanMessage

        tools = self._tools(config, imaging) if run.client.supports_tools() else []
        names = {t["function"]["name"] for t in tools}
        spec = run.client.spec
        rounds = repairs = overruns = 0
        answer: prompts.SpecialistAnswer | None = None
        while answer is None:
            message = run.invoke(tools or None)
            calls = list(message.tool_calls or []) + [
                {**c, "error": c.get("error") or "invalid JSON"} for c in (message.invalid_tool_calls or [])]
            if calls:
                run.messages.append(message)
                if rounds >= spec.max_tool_rounds:
                    overruns += 1
                    from langchain_core.messages import ToolMessage

                    for c in calls:
                        run.messages.append(ToolMessage(content="error: tool budget spent", status="error",
                                                        tool_call_id=str(c.get("id") or "call"), name=str(c.get("name") or "unknown")))
                    if overruns > max(1, spec.max_repairs):
                        raise ModelOutputError(f"kept calling tools after the budget of {spec.max_tool_rounds} rounds")
                    run.messages.append(HumanMessage(content=prompts.TOOL_BUDGET_SPENT))
                    continue
                rounds += 1
                for c in calls:
                    run.messages.append(self._run_tool(c, writer, case, config, run.agent, names))
                continue
            text = message_text(message)
            try:
                answer = parse_answer(text, prompts.SpecialistAnswer)
            except ValueError as exc:
                if repairs >= spec.max_repairs:
                    raise ModelOutputError(f"no usable opinion after {repairs} repair(s): {exc}") from None
                repairs += 1
                run.ask_back(text, prompts.REPAIR_FORMAT.format(problems=str(exc)))
        working = Ledger(entries={**ledger.entries, **writer.items})

        def ids_of(a: prompts.SpecialistAnswer) -> list[str]:
            ids = cited_ids(a.summary)
            for e in a.differential:
                ids.extend(_clean_ids(e.supporting) + _clean_ids(e.opposing))
            return list(dict.fromkeys(ids))

        answer, bad = _with_citation_repair(run, answer, prompts.SpecialistAnswer, ids_of, working, case)
        items = _items(answer.differential, self.kb, bad, lambda _c: specialty, config.differential_size)
        opinion = Opinion(specialty=specialty, agent=run.client.label, summary=strip_citations(answer.summary, bad),
                          differential=items, evidence_ids=list(writer.items), confidence=answer.confidence)
        return opinion, run.output(list(writer.items.values()))


@functools.lru_cache(maxsize=4)
def _tool_schemas(calculators: bool, imaging: bool) -> list[dict[str, Any]]:
    """OpenAI-format schemas of the specialist's tools (built once: schema generation is not free)."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    tools: list[dict[str, Any]] = []
    if calculators:
        from wardround.tools.calculators import calculator_tools

        tools.extend(convert_to_openai_tool(t) for t in calculator_tools(ids=[], include_meta=True))
    tools.append(_dict_tool("quote_note", "Record an exact phrase of the case note as citable evidence; "
                            "returns its evidence id. The phrase must appear in the note verbatim.", QuoteNoteArgs))
    if imaging:
        tools.append(_dict_tool("segment", "Segment one imaging study of the case; returns volumes and "
                                "diameters and the evidence id of the measurement.", SegmentToolArgs))
    return tools


def _is_calculator(name: str) -> bool:
    from wardround.tools.calculators import all_calculators

    return name in all_calculators()


def _segmentation_available() -> bool:
    try:
        import wardround.tools.segmentation  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------
# Attending


def _steered_by_note(case: Case, kb: KnowledgeBase, primary: DifferentialItem, named: str) -> Any:
    """The flagged passage of the note (``injection.steered_diagnosis``) naming the attending's primary, if any."""
    from wardround.injection import steered_diagnosis

    cond = kb.conditions.get(primary.condition)
    names = [named, primary.name, primary.condition, *((cond.name, *cond.aliases) if cond else ())]
    return steered_diagnosis(case.note or "", names, fold=normalize_name)


class LLMAttending:
    """The attending played by a chat model; its citations are verified, repaired once, then removed and flagged."""

    def __init__(self, client: ChatClient, kb: KnowledgeBase, fallback: Any) -> None:
        self.client, self.kb, self.rules = client, kb, fallback
        self.name = client.label

    def decide(self, case: Case, ledger: Ledger, opinions: list[Opinion],
               config: WardConfig) -> tuple[Diagnosis, AgentOutput]:
        """Ask the model for the cited final diagnosis (rules take over when it fails)."""
        if not opinions:
            raise CaseError("opinions", "no specialist gave an opinion", "check the triage configuration")
        system, user = prompts.attending_messages(case, ledger, opinions, config.differential_size)
        run = _Run(self.client, "attending", system, user)
        try:
            return self._decide(run, case, ledger, opinions, config)
        except (ConfigError, CaseError):
            raise
        except Exception as exc:
            return _fallback("attending", self.client, exc, run.meter, run.issues,
                             lambda: self.rules.decide(case, ledger, opinions, config))

    def _decide(self, run: _Run, case: Case, ledger: Ledger, opinions: list[Opinion],
                config: WardConfig) -> tuple[Diagnosis, AgentOutput]:
        kb = self.kb

        def ids_of(a: prompts.DiagnosisAnswer) -> list[str]:
            ids: list[str] = []
            for s in a.rationale:
                ids.extend(cited_ids(s))
            for e in a.differential:
                ids.extend(_clean_ids(e.supporting) + _clean_ids(e.opposing))
            return list(dict.fromkeys(ids))

        answer = run.ask_structured(prompts.DiagnosisAnswer)
        answer, bad = _with_citation_repair(run, answer, prompts.DiagnosisAnswer, ids_of, ledger, case)

        def specialty_of(cid: str) -> str | None:
            for op in opinions:
                if any(x.condition == cid for x in op.differential):
                    return op.specialty
            return None

        items = _items(answer.differential, kb, bad, specialty_of, max(config.differential_size, 1))
        wanted = kb.find_condition(answer.primary)
        pkey = wanted.id if wanted else normalize_name(answer.primary).replace(" ", "_")
        primary = next((x for x in items if x.condition == pkey), items[0])
        differential = [primary, *[x for x in items if x is not primary]][: config.differential_size]
        rationale = [RationaleSentence(text=(t := strip_citations(s, bad)), citations=list(dict.fromkeys(cited_ids(t))))
                     for s in answer.rationale if s.strip()]
        resolutions = {normalize_name(d.specialty): d.resolution for d in answer.dissent}
        dissent = []
        for op in opinions:
            theirs = op.primary
            if theirs is None or theirs.condition == primary.condition:
                continue
            resolution = resolutions.get(normalize_name(op.specialty)) or resolutions.get(
                normalize_name(kb.specialties[op.specialty].name) if op.specialty in kb.specialties else "") or \
                f"Not adopted: the attending ranked {primary.name} first (no resolution given by the model)."
            dissent.append(Dissent(specialty=op.specialty, their_primary=theirs.name,
                                   their_probability=theirs.probability, resolution=resolution))
        cond = kb.conditions.get(primary.condition)
        next_steps = [s for s in answer.next_steps if s.strip()] or (list(cond.next_steps) if cond else [])
        # The reasoning core checks the model's differential against the case's findings: what each knowledge-base
        # item explains and leaves unexplained, and whether the model's primary covers the case. A primary outside
        # the knowledge base is judged by its citations alone (the verifier checks the citations, not the name).
        differential, ranking = attending.annotate(kb, ledger, config, differential)
        primary = differential[0]
        assessed = ranking.get(primary.condition)
        verdict = attending.coverage_verdict(ranking, kb, [primary.condition]) if assessed is not None else None
        if verdict is not None and verdict.primary is not None and verdict.primary.condition.id == primary.condition:
            supported, coverage, unexplained = verdict.supported, verdict.coverage, verdict.unexplained
            refer_to = verdict.refer_to
            if not supported:
                run.issues.append(f"the model's primary {primary.name} does not cover the case: {verdict.reason}")
        elif assessed is not None:  # a knowledge-base condition outside its presenting population or unfavoured
            supported, coverage, unexplained, refer_to = False, "outside", assessed.unexplained, []
            run.issues.append(f"the model's primary {primary.name} is not a candidate on the case's findings")
        else:
            supported, coverage, unexplained, refer_to = bool(primary.supporting), "outside", [], []
        steered = _steered_by_note(case, kb, primary, answer.primary)
        if steered is not None:  # the model may have obeyed the note: a clinician has to review the diagnosis
            supported = False
            run.issues.append(
                f"the model's primary {primary.name} is the diagnosis named by note text that looks like instructions "
                f"to the model (characters {steered.start}-{steered.end}); not supported until a clinician reviews it")
        diagnosis = Diagnosis(primary=primary, differential=differential, rationale=rationale, dissent=dissent,
                              consulted=attending.consulted_names(kb, (op.specialty for op in opinions)),
                              next_steps=next_steps, supported=supported, coverage=coverage,
                              unexplained=unexplained, none_probability=round(ranking.none_share, 4),
                              refer_to=refer_to)
        diagnosis, issues = verify_and_repair(diagnosis, ledger, case)
        run.issues.extend(issues)
        removed = sorted(bad | set(diagnosis.verification.removed))
        diagnosis.verification = Verification(verified=diagnosis.verification.verified,
                                              checked=diagnosis.verification.checked + len(bad),
                                              failures=diagnosis.verification.failures, removed=removed)
        return diagnosis, run.output()
