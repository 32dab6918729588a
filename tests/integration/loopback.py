"""A loopback OpenAI-compatible chat server for tests and benchmarks (127.0.0.1, free port, no network).

``LoopbackServer(responder)`` serves ``POST /v1/chat/completions`` (plain JSON and SSE streaming) from a
thread; ``responder(request) -> Reply`` decides each answer. ``ScriptedWard`` is a scripted responder that plays
triage, specialists and attending by reading the prompts wardround sends (evidence ids, specialties,
conditions, tool results) and answering in the expected JSON, with optional injected faults.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One server answer: an HTTP error, a raw body, or an assistant message (content and/or tool calls)."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # {"name": ..., "arguments": dict | str}
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    delay: float = 0.0


def _words(text: str) -> int:
    return max(1, len(text.split()))


class LoopbackServer:
    """OpenAI-compatible chat completions on 127.0.0.1 in a background thread.

    Args:
        responder: request dict -> ``Reply``.
        latency: seconds added to every call (simulates a remote model).
    """

    def __init__(self, responder: Callable[[dict[str, Any]], Reply], latency: float = 0.0) -> None:
        self.responder = responder
        self.latency = latency
        self.requests: list[dict[str, Any]] = []
        self.times: list[tuple[float, float]] = []  # (arrival, reply sent)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes

            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                arrived = time.perf_counter()
                length = int(self.headers.get("content-length") or 0)
                try:
                    request = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    request = {}
                with server._lock:
                    server.requests.append(request)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                    return
                try:
                    reply = server.responder(request)
                except Exception as exc:  # a bug in the script shows up as a 500 the client can see
                    reply = Reply(status=500, body=json.dumps({"error": {"message": f"script error: {exc!r}",
                                                                         "type": "server_error"}}).encode())
                time.sleep(server.latency + reply.delay)
                try:
                    self._reply(request, reply)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    return
                with server._lock:
                    server.times.append((arrived, time.perf_counter()))

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None,
                      raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _reply(self, request: dict[str, Any], reply: Reply) -> None:
                if reply.status != 200:
                    body = reply.body or json.dumps({"error": {"message": f"injected {reply.status}",
                                                               "type": "server_error" if reply.status >= 500
                                                               else "rate_limit_error"}}).encode()
                    self._send(reply.status, None, reply.headers, raw=body)
                    return
                if reply.body is not None:
                    self._send(200, None, reply.headers, raw=reply.body)
                    return
                model = request.get("model", "loopback")
                prompt_tokens = sum(_words(str(m.get("content") or "")) for m in request.get("messages", []))
                calls = [{"id": f"call_{i}_{int(time.time() * 1e6) % 10**9}", "type": "function",
                          "function": {"name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str)
                                       else json.dumps(c["arguments"])}} for i, c in enumerate(reply.tool_calls)]
                content = reply.content
                completion_tokens = _words(content or "") + sum(_words(c["function"]["arguments"]) for c in calls)
                usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                         "total_tokens": prompt_tokens + completion_tokens}
                finish = "tool_calls" if calls else "stop"
                if not request.get("stream"):
                    message: dict[str, Any] = {"role": "assistant", "content": content}
                    if calls:
                        message["tool_calls"] = calls
                    self._send(200, {"id": "chatcmpl-loopback", "object": "chat.completion", "created": int(time.time()),
                                     "model": model, "choices": [{"index": 0, "message": message,
                                                                  "finish_reason": finish}], "usage": usage})
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                self.close_connection = True

                def chunk(delta: dict[str, Any], finish_reason: str | None = None, extra: dict | None = None) -> None:
                    obj = {"id": "chatcmpl-loopback", "object": "chat.completion.chunk", "created": int(time.time()),
                           "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
                    if extra:
                        obj.update(extra)
                    self.wfile.write(f"data: {json.dumps(obj)}\n\n".encode())
                    self.wfile.flush()

                chunk({"role": "assistant", "content": ""})
                for piece in re.findall(r"\S+\s*", content or ""):
                    chunk({"content": piece})
                for i, c in enumerate(calls):
                    chunk({"tool_calls": [{"index": i, "id": c["id"], "type": "function",
                                           "function": {"name": c["function"]["name"], "arguments": ""}}]})
                    chunk({"tool_calls": [{"index": i, "function": {"arguments": c["function"]["arguments"]}}]})
                chunk({}, finish)
                if (request.get("stream_options") or {}).get("include_usage"):
                    self.wfile.write(("data: " + json.dumps({"id": "chatcmpl-loopback", "object": "chat.completion.chunk",
                                                             "created": int(time.time()), "model": model, "choices": [],
                                                             "usage": usage}) + "\n\n").encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="loopback-llm", daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------------------
# A scripted ward: reads wardround's prompts and answers like a careful model


EVIDENCE_LINE = re.compile(r"^\[([A-Z]{1,3}\d{1,4})\] \((\w+)\) (.*)$", re.M)


@dataclass
class Fault:
    """An injected fault for the next ``times`` requests of ``role`` (None: any role).

    kinds: ``429`` (with Retry-After), ``500``, ``timeout`` (reply after ``seconds``), ``malformed_body`` (HTTP 200
    with a broken JSON body), ``bad_json`` (the model answers prose instead of JSON), ``unknown_tool``,
    ``wrong_args``. Citations of evidence that does not exist are set on ``ScriptedWard(bad_citations=...)``.
    """

    kind: str
    role: str | None = None
    times: int = 1
    seconds: float = 1.0


def role_of(request: dict[str, Any]) -> str:
    """``triage``, ``specialist:<id>`` or ``attending`` from the system prompt."""
    system = next((m.get("content") or "" for m in request.get("messages", []) if m.get("role") == "system"), "")
    m = re.match(r"Role: (triage|attending|specialist (\w+))", system)
    if not m:
        return "unknown"
    return f"specialist:{m.group(2)}" if m.group(2) else m.group(1)


def _first_user(request: dict[str, Any]) -> str:
    return next((m.get("content") or "" for m in request.get("messages", []) if m.get("role") == "user"), "")


def _section(text: str, header: str) -> list[str]:
    """Lines ``- id: ...`` of the block that follows ``header``."""
    if header not in text:
        return []
    block = text.split(header, 1)[1]
    out = []
    for line in block.splitlines()[1:]:
        if not line.startswith("- "):
            if out:
                break
            continue
        out.append(line[2:].split(":", 1)[0].strip())
    return out


class ScriptedWard:
    """Plays every role of the ward round from wardround's own prompts, with optional faults."""

    def __init__(self, faults: list[Fault] | None = None, *, bad_citations: dict[str, str] | None = None) -> None:
        """``bad_citations``: role -> ``"fix"`` (cite [E99], fix it when asked) or ``"persist"`` (keep citing it)."""
        self.faults = list(faults or [])
        self.bad_citations = dict(bad_citations or {})
        self.log: list[tuple[str, str]] = []  # (role, what was done)
        self._lock = threading.Lock()

    def _fault(self, role: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.times > 0 and (f.role is None or role == f.role or role.startswith(f"{f.role}:")):
                    f.times -= 1
                    return f
        return None

    def __call__(self, request: dict[str, Any]) -> Reply:
        role = role_of(request)
        messages = request.get("messages", [])
        last = messages[-1] if messages else {}
        repairing = last.get("role") == "user" and str(last.get("content", "")).startswith("REPAIR:")
        fault = self._fault(role)
        if fault is not None:
            transport = self._transport_fault(fault)
            if transport is not None:
                self.log.append((role, f"fault:{fault.kind}"))
                return transport
        if role == "triage":
            return self._triage(request, fault, repairing)
        if role.startswith("specialist:"):
            return self._specialist(request, role.split(":", 1)[1], fault, repairing)
        if role == "attending":
            return self._attending(request, fault, repairing)
        return Reply(content="I am not sure what you are asking.")

    def _transport_fault(self, fault: Fault) -> Reply | None:
        if fault.kind == "429":
            return Reply(status=429, headers={"Retry-After": "1"})
        if fault.kind == "500":
            return Reply(status=500)
        if fault.kind == "timeout":
            return Reply(content="too late", delay=fault.seconds)
        if fault.kind == "malformed_body":
            return Reply(body=b'{"id": "chatcmpl-x", "choices": [{"index": 0, "message": {"content": "unterminated')
        return None

    # -- roles ------------------------------------------------------------------------------------------------

    def _evidence(self, request: dict[str, Any]) -> list[tuple[str, str, str]]:
        return EVIDENCE_LINE.findall(_first_user(request))

    def _triage(self, request: dict[str, Any], fault: Fault | None, repairing: bool) -> Reply:
        if fault is not None and fault.kind == "bad_json":
            self.log.append(("triage", "prose"))
            return Reply(content="I would consult cardiology and pulmonology.")
        user = _first_user(request)
        specialties = _section(user, "Specialties you may consult")
        m = re.search(r"at most (\d+)", user)
        limit = int(m.group(1)) if m else 3
        ids = [e[0] for e in self._evidence(request)][:2]
        cites = "".join(f"[{i}]" for i in ids)
        self.log.append(("triage", "answer"))
        return Reply(content=json.dumps({"specialties": specialties[:limit],
                                         "rationale": f"The presenting findings {cites} need these specialists."}))

    def _specialist(self, request: dict[str, Any], specialty: str, fault: Fault | None, repairing: bool) -> Reply:
        messages = request.get("messages", [])
        tool_results = [m for m in messages if m.get("role") == "tool"]
        evidence = self._evidence(request)
        if fault is not None and fault.kind == "bad_json":
            self.log.append((f"specialist:{specialty}", "prose"))
            return Reply(content=f"As {specialty} I think it is probably the heart.")
        if fault is not None and fault.kind == "unknown_tool" and not tool_results:
            self.log.append((f"specialist:{specialty}", "unknown_tool"))
            return Reply(tool_calls=[{"name": "magic_score", "arguments": {"x": 1}}])
        if fault is not None and fault.kind == "wrong_args" and not tool_results:
            self.log.append((f"specialist:{specialty}", "wrong_args"))
            return Reply(tool_calls=[{"name": "calculate", "arguments": {"calculator_id": "mean_arterial_pressure",
                                                                          "inputs": "systolic 150 over 90"}}])
        successes = [t for t in tool_results if not str(t.get("content", "")).startswith("error")]
        if not successes and self._wants_tool(request):
            sbp = self._number(evidence, "Systolic blood pressure")
            dbp = self._number(evidence, "Diastolic blood pressure")
            if sbp is not None and dbp is not None:
                self.log.append((f"specialist:{specialty}", "calculate"))
                return Reply(tool_calls=[
                    {"name": "calculate", "arguments": {"calculator_id": "mean_arterial_pressure",
                                                        "inputs": {"systolic_bp": f"{sbp:g} mmHg",
                                                                   "diastolic_bp": f"{dbp:g} mmHg"}}},
                    {"name": "quote_note", "arguments": {"quote": self._phrase(request)}}])
        new_ids = []
        for t in successes:
            try:
                new_ids.append(json.loads(t["content"])["evidence_id"])
            except (ValueError, KeyError, TypeError):
                continue
        conditions = _section(_first_user(request), "Conditions ")
        intake = [e[0] for e in evidence][:2]
        bad = self._cites_missing(f"specialist:{specialty}", repairing)
        support = [*new_ids, *intake] + (["E99"] if bad else [])
        diff = [{"condition": c, "probability": round(max(0.05, 0.7 - 0.3 * i), 2),
                 "supporting": support if i == 0 else intake[:1], "opposing": []}
                for i, c in enumerate(conditions[:3])] or [{"condition": f"{specialty} problem", "probability": 0.3,
                                                            "supporting": intake[:1], "opposing": []}]
        cites = "".join(f"[{i}]" for i in support)
        self.log.append((f"specialist:{specialty}", "answer"))
        return Reply(content=json.dumps({"summary": f"{specialty}: {diff[0]['condition']} is most likely {cites}.",
                                         "differential": diff, "confidence": diff[0]["probability"]}))

    def _attending(self, request: dict[str, Any], fault: Fault | None, repairing: bool) -> Reply:
        if fault is not None and fault.kind == "bad_json":
            self.log.append(("attending", "prose"))
            return Reply(content="The diagnosis is clear to me, no JSON needed.")
        user = _first_user(request)
        rows = re.findall(r"^\s+\d+\. (\w+): .*? p=([\d.]+) for ((?:\[[A-Z]{1,3}\d+\])+|-)", user, re.M)
        specialties = re.findall(r"^Opinion of (\w+)", user, re.M)
        best: dict[str, tuple[float, list[str]]] = {}
        for cond, p, cites in rows:
            ids = re.findall(r"\[([A-Z]{1,3}\d+)\]", cites)
            if cond not in best or float(p) > best[cond][0]:
                best[cond] = (float(p), ids)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
        primary = ranked[0][0]
        support = ranked[0][1][1]
        bad = self._cites_missing("attending", repairing)
        cited = support + (["E99"] if bad else [])
        answer = {
            "primary": primary,
            "differential": [{"condition": c, "probability": p, "supporting": ids, "opposing": []}
                             for c, (p, ids) in ranked],
            "rationale": [f"{primary} is the leading diagnosis {''.join(f'[{i}]' for i in cited)}."],
            "dissent": [{"specialty": s, "resolution": f"{s}'s view was weighed; {primary} fits the evidence better."}
                        for s in specialties],
            "next_steps": ["Repeat the key test in six hours."],
        }
        self.log.append(("attending", "answer"))
        return Reply(content=json.dumps(answer))

    def _cites_missing(self, role: str, repairing: bool) -> bool:
        mode = self.bad_citations.get(role)
        return mode == "persist" or (mode == "fix" and not repairing)

    # -- reading the prompt -----------------------------------------------------------------------------------

    @staticmethod
    def _wants_tool(request: dict[str, Any]) -> bool:
        return any(t.get("function", {}).get("name") == "calculate" for t in request.get("tools") or [])

    @staticmethod
    def _number(evidence: list[tuple[str, str, str]], label: str) -> float | None:
        for _id, _kind, statement in evidence:
            m = re.match(rf"{label} ([\d.]+)", statement)
            if m:
                return float(m.group(1))
        return None

    @staticmethod
    def _phrase(request: dict[str, Any]) -> str:
        m = re.search(r'Note:\n"""\n(.*?)\n"""', _first_user(request), re.S)
        note = m.group(1) if m else ""
        return " ".join(note.split()[:4]) or "note"


def serve_in_subprocess(latency: float = 0.0) -> tuple[Any, str]:
    """Start a ``ScriptedWard`` server in a child process (its own GIL, like a real remote model server).

    Returns ``(process, base_url)``; stop it with ``process.terminate()``.
    """
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, __file__, "--latency", str(latency)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    url = (proc.stdout.readline() if proc.stdout else "").strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.terminate()
        raise RuntimeError(f"the loopback server did not start (said {url!r})")
    return proc, url


if __name__ == "__main__":
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Serve the scripted ward on 127.0.0.1 until stdin closes.")
    parser.add_argument("--latency", type=float, default=0.0)
    ns = parser.parse_args()
    server = LoopbackServer(ScriptedWard(), latency=ns.latency).start()
    print(server.base_url, flush=True)
    try:
        sys.stdin.read()  # returns when the parent closes the pipe or exits
    except KeyboardInterrupt:
        pass
    server.stop()
