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
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from wardround.agents import prompts
from wardround.agents.base import AgentOutput, artifact_dir
from wardround.case import Case
from wardround.config import WardConfig
from wardround.errors import CaseError, ConfigError, WardroundError
from wardround.evidence import (
    CITATION_RE,
    Evidence,
    EvidenceWriter,
    Ledger,
    cited_ids,
    register_verifier,
    values_match,
)
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
                  agent: str, tool_names: set[str], mcp: McpTools | None = None) -> Any:
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
            if mcp is not None and name in mcp.tools:
                payload = mcp.call(name, args, writer)
            else:
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
        mcp = McpTools.for_specialist(config, specialty, {t["function"]["name"] for t in tools}, run.issues) \
            if tools and config.mcp_servers else None
        if mcp is not None:
            tools = [*tools, *mcp.schemas]
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
                    run.messages.append(self._run_tool(c, writer, case, config, run.agent, names, mcp))
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
# Tools of configured MCP servers (langchain-mcp-adapters)

MCP_FAMILY = "mcp"
_MCP_TEXT_LIMIT = 16000
_MCP_GRACE = 10.0  # seconds past a server's own timeout before the waiting specialist gives up on the loop
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class _McpHub:
    """Open sessions to the configured MCP servers, one per server and process, on a private event loop thread.

    The ward graph calls specialists synchronously (in parallel threads), while MCP sessions are asynchronous and
    must be opened and closed by the same task: each session is held by one task on this loop, and tool calls are
    submitted to the loop from the specialists' threads. A stdio server is started once, not once per call.
    """

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._loop: Any = None
        self._atexit = False
        self._sessions: dict[str, _McpSession] = {}

    def submit(self, coro: Any, timeout: float) -> Any:
        """Run ``coro`` on the hub's loop and wait at most ``timeout`` seconds for its result."""
        import asyncio
        import concurrent.futures

        future = asyncio.run_coroutine_threadsafe(coro, self._running_loop())
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer within {timeout:g} s") from None

    def _running_loop(self) -> Any:
        with self._lock:
            if self._loop is None:
                import asyncio
                import atexit
                import threading

                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="wardround-mcp", daemon=True).start()
                if not self._atexit:
                    atexit.register(self.close)  # stdio servers exit with this process
                    self._atexit = True
            return self._loop

    def session(self, server: Any) -> _McpSession:
        """The open session to ``server`` (opened now if there is none, or if the last one broke)."""
        key = server.model_dump_json()
        stale = None
        with self._lock:
            held = self._sessions.get(key)
            if held is None or (held.broken and held.opened):
                stale, held = held, _McpSession(server, self)
                self._sessions[key] = held
        if stale is not None:
            stale.close()
        held.open()  # parallel specialists wait here for the one opener
        return held

    def close(self) -> None:
        """Close every session (stdio servers exit) and stop the loop; later calls open new sessions."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
            loop, self._loop = self._loop, None
        for held in sessions:
            held.close()
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)


class _McpSession:
    """One MCP client session held open by a task of the hub's loop, with the server's tools as LangChain tools."""

    def __init__(self, server: Any, hub: _McpHub) -> None:
        import threading

        self.server, self.hub = server, hub
        self.tools: dict[str, Any] = {}  # prefixed name -> langchain-mcp-adapters StructuredTool
        self.broken = False
        self.error: str | None = None
        self._opening = threading.Lock()
        self._opened = False
        self._closing: Any = None
        self._task: Any = None

    @property
    def opened(self) -> bool:
        """Whether connecting has been tried (it may have failed: see ``error``)."""
        return self._opened

    def open(self) -> None:
        """Connect and list the tools once (other threads wait for it); a failure is kept in ``error``."""
        with self._opening:
            if self._opened:
                return
            try:
                self.tools = self.hub.submit(self._start(), self.server.timeout + _MCP_GRACE)
            except Exception as exc:
                self.broken, self.error = True, _leaf_message(exc)
            finally:
                self._opened = True

    async def _start(self) -> dict[str, Any]:
        import asyncio

        loop = asyncio.get_running_loop()
        ready: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._closing = asyncio.Event()
        self._task = loop.create_task(self._hold(ready))
        try:
            return await asyncio.shield(ready)
        except asyncio.CancelledError:  # the opener gave up waiting (timeout): stop connecting
            self._task.cancel()
            raise

    async def _hold(self, ready: Any) -> None:
        try:
            from langchain_mcp_adapters.client import MultiServerMCPClient
            from langchain_mcp_adapters.tools import load_mcp_tools
        except ImportError:
            self.broken = True
            ready.set_exception(ConfigError("mcp_servers: langchain-mcp-adapters is not installed; "
                                            "pip install 'wardround[mcp]'"))
            return

        name = self.server.name
        # Each request times out inside the session (an error, not a cancellation), so the session closes
        # normally and a stdio server is stopped, never orphaned.
        connection = {**self.server.connection(),
                      "session_kwargs": {"read_timeout_seconds": timedelta(seconds=self.server.timeout)}}
        try:
            client = MultiServerMCPClient({name: connection})
            async with client.session(name) as session:
                tools = await load_mcp_tools(session, server_name=name, tool_name_prefix=True)
                ready.set_result({t.name: t for t in tools})
                await self._closing.wait()
        except BaseException as exc:  # noqa: BLE001 - a dead server must not take the loop down
            import asyncio

            self.broken = True
            if isinstance(exc, asyncio.CancelledError):  # the opener timed out; nobody waits for the result
                ready.cancel()
            elif not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            else:
                log.warning("MCP server %s: the session ended: %s", name, _leaf_message(exc))
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise

    def call(self, tool: Any, args: dict[str, Any]) -> Any:
        """Call one tool; returns the adapters' ``ToolMessage`` (``status="error"`` for an MCP error result)."""
        return self.hub.submit(tool.ainvoke({"type": "tool_call", "id": "mcp", "name": tool.name, "args": args}),
                               self.server.timeout + _MCP_GRACE)

    def close(self) -> None:
        """Let the holding task leave the session (a stdio server exits)."""
        task, closing = self._task, self._closing
        if task is None or closing is None or task.done():
            return
        import contextlib

        async def stop() -> None:
            closing.set()
            with contextlib.suppress(BaseException):
                await task

        with contextlib.suppress(Exception):
            self.hub.submit(stop(), 10.0)


_HUB = _McpHub()


def close_mcp_sessions() -> None:
    """Close the sessions to every MCP server this process opened (they reopen when next needed)."""
    _HUB.close()


def _leaf_message(exc: BaseException) -> str:
    """The innermost message of an exception (task groups wrap the real cause in exception groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return " ".join(str(exc).split()) or type(exc).__name__


def _content_text(content: Any) -> str:
    """The text of a tool message's content (a string, or LangChain content blocks)."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:
        if isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif isinstance(block, str):
            parts.append(block)
        else:
            kind = block.get("type", "content") if isinstance(block, dict) else type(block).__name__
            parts.append(f"[{kind} omitted]")
    return "\n".join(parts)


def _mcp_digest(tool: str, inputs: dict[str, Any] | None, value: Any, unit: str | None, statement: str) -> str:
    """sha256 of what an MCP evidence item records: any later change to it makes verification fail."""
    import hashlib

    blob = json.dumps({"tool": tool, "inputs": inputs, "value": value, "unit": unit, "statement": statement},
                      sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _calculator_payload(structured: Any) -> dict[str, Any] | None:
    """The result when it has the shape of a wardround calculator result (``tools.result_payload``)."""
    if isinstance(structured, dict) and {"calculator_id", "value", "unit", "inputs_used"} <= set(structured) \
            and isinstance(structured["inputs_used"], dict):
        return structured
    return None


def mcp_result_to_evidence(writer: EvidenceWriter, server: str, tool: str, args: dict[str, Any], text: str,
                           structured: Any = None) -> Evidence:
    """Record one MCP tool result as ``tool`` evidence (``mcp:<server>/<tool>``), sealed by a sha256.

    ``value`` holds the result as the model saw it (its JSON, or its text). A result shaped like a wardround
    calculator result also carries its unit and reference, and verification recomputes it with the local
    calculator.
    """
    value = json.dumps(structured, ensure_ascii=False, sort_keys=True, default=str) \
        if isinstance(structured, dict) else text
    value = value[:_MCP_TEXT_LIMIT]
    name = f"{MCP_FAMILY}:{server}/{tool}"
    calc = _calculator_payload(structured)
    unit = reference = None
    if calc is not None:
        v = calc["value"]
        shown = f"{v:.4g}" if isinstance(v, float) else str(v)
        band = f" ({calc['interpretation']})" if calc.get("interpretation") else ""
        local = _calculator_names().get(str(calc["calculator_id"]), str(calc["calculator_id"]))
        statement = f"{local} = {shown} {calc['unit']}{band}".replace("  ", " ") + f" [MCP {server}/{tool}]"
        unit = str(calc["unit"])
        reference = str(calc["reference"]) if calc.get("reference") else None
    else:
        summary = " ".join(text.split())
        statement = f"{server}/{tool}: " + (summary[:237] + "..." if len(summary) > 240 else summary)
    inputs = json.loads(json.dumps(args, default=str))
    return writer.add("tool", statement, tool=name, inputs=inputs, value=value, unit=unit, reference=reference,
                      sha256=_mcp_digest(name, inputs, value, unit, statement))


def verify_mcp_evidence(ev: Evidence) -> str | None:
    """Re-check MCP evidence: the recorded result is unchanged (sha256), and a calculator result recomputes."""
    tool = ev.tool or ""
    if not tool.startswith(f"{MCP_FAMILY}:"):
        return f"not MCP evidence ({tool!r})"
    if not ev.sha256:
        return "MCP evidence without its sha256 seal"
    if _mcp_digest(tool, ev.inputs, ev.value, ev.unit, ev.statement) != ev.sha256:
        return f"the recorded result of {tool} has changed since it was recorded (sha256 mismatch)"
    try:
        structured = json.loads(ev.value) if isinstance(ev.value, str) and ev.value.startswith("{") else None
    except ValueError:
        structured = None
    calc = _calculator_payload(structured)
    if calc is None:
        return None
    from wardround.tools.calculators import all_calculators, calculate

    cid = str(calc["calculator_id"])
    if cid not in all_calculators():
        return None  # a calculator of another server: the seal is what can be checked here
    try:
        local = calculate(cid, calc["inputs_used"])
    except WardroundError as exc:
        return f"{tool}: the inputs it reports do not recompute with {cid}: {exc}"
    if not values_match(local.value, calc["value"]) or local.unit != calc["unit"]:
        return (f"{tool}: {cid} recomputes to {local.value!r} {local.unit} here, not the {calc['value']!r} "
                f"{calc['unit']} the server returned")
    return None


register_verifier(MCP_FAMILY, verify_mcp_evidence)


class McpTools:
    """The MCP tools one specialist is offered: their OpenAI-format schemas, and the call that records evidence."""

    def __init__(self) -> None:
        self.schemas: list[dict[str, Any]] = []
        self.tools: dict[str, tuple[_McpSession, Any]] = {}

    @classmethod
    def for_specialist(cls, config: WardConfig, specialty: str, taken: set[str], issues: list[str]) -> McpTools:
        """Connect to the configured servers (once per process) and pick the tools this specialist may use.

        A server that cannot be reached, or a tool whose name is taken or unusable, is left out and said so in
        ``issues``; the specialist goes on with the other tools.
        """
        from langchain_core.utils.function_calling import convert_to_openai_tool

        out = cls()
        calculators = _calculator_ids() if config.use_calculators else set()
        for server in config.mcp_servers:
            if server.specialties is not None and specialty not in server.specialties:
                continue
            held = _HUB.session(server)
            if held.broken or held.error:
                issues.append(f"specialist:{specialty}: MCP server {server.name!r} is unavailable "
                              f"({held.error or 'its session ended'}); its tools were not offered")
                continue
            wanted = None if server.tools is None else {f"{server.name}_{t}" for t in server.tools}
            if wanted is not None and (missing := sorted(wanted - set(held.tools))):
                issues.append(f"specialist:{specialty}: MCP server {server.name!r} has no tool "
                              f"{', '.join(m[len(server.name) + 1:] for m in missing)}")
            for name, tool in held.tools.items():
                if wanted is not None and name not in wanted:
                    continue
                if name in taken or name in calculators or name in out.tools or not _TOOL_NAME.match(name):
                    issues.append(f"specialist:{specialty}: MCP tool {name!r} left out (its name is taken or is "
                                  "not a valid tool name)")
                    continue
                try:
                    schema = convert_to_openai_tool(tool)
                except Exception as exc:  # an unusable schema leaves that one tool out
                    issues.append(f"specialist:{specialty}: MCP tool {name!r} left out ({_leaf_message(exc)})")
                    continue
                schema["function"]["description"] = (f"[MCP server {server.name}] "
                                                      f"{schema['function'].get('description') or ''}").strip()
                out.schemas.append(schema)
                out.tools[name] = (held, tool)
        return out

    def call(self, name: str, args: dict[str, Any], writer: EvidenceWriter) -> dict[str, Any]:
        """Call an MCP tool; its result becomes evidence under the specialist's prefix (errors raise ValueError)."""
        held, tool = self.tools[name]
        try:
            message = held.call(tool, args)
        except TimeoutError as exc:
            raise ValueError(f"MCP tool {name} gave {exc}") from None
        except Exception as exc:  # the session broke: the next consult reconnects
            held.broken = True
            raise ValueError(f"MCP tool {name} failed: {_leaf_message(exc)}") from None
        text = _content_text(getattr(message, "content", message))
        if getattr(message, "status", "success") == "error":
            reason = " ".join(text.split())
            raise ValueError(reason if reason.startswith("error:") else f"error: {name}: {reason}")
        artifact = getattr(message, "artifact", None)
        structured = artifact.get("structured_content") if isinstance(artifact, dict) else None
        server = held.server.name
        ev = mcp_result_to_evidence(writer, server, name[len(server) + 1:], args, text, structured)
        result: Any = structured if isinstance(structured, dict) else text[:_MCP_TEXT_LIMIT]
        return {"evidence_id": ev.id, "tool": name, "result": result}


def _calculator_ids() -> set[str]:
    return set(_calculator_names())


def _calculator_names() -> dict[str, str]:
    """Calculator id -> display name of the local calculators."""
    from wardround.tools.calculators import all_calculators

    return {cid: c.name for cid, c in all_calculators().items()}


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
