"""Parallelism of the LLM ward round against a loopback OpenAI-compatible server that adds latency per call.

Targets (issue 6): with 300 ms per model call, a case that consults 3 specialists completes within
1.3 x (triage + slowest specialist + attending), and 20 cases at concurrency 10 within 1.3 x the ideal wall time
(ceil(20 / 10) x the single-case ideal). The server is the scripted one of the test suite (no network, no key);
the server runs in its own process (as a remote
model server would); the client is langchain-openai's real ChatOpenAI over HTTP.

Usage: python examples/benchmarks/bench_llm_parallel.py [--latency 0.3] [--cases 20] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from loopback import serve_in_subprocess  # noqa: E402

import wardround as wr  # noqa: E402
from wardround.api import result_from_state  # noqa: E402
from wardround.config import WardConfig  # noqa: E402
from wardround.graphs.ward import build_graph  # noqa: E402
from wardround.llm import ModelSpec, usage_by_agent  # noqa: E402

NEUROLOGY = """\
specialty: neurology
conditions:
  - id: brain_bleed
    name: Brain bleed
    icd10: I61.9
    prior: 0.02
    prior_context: invented benchmark population
    prior_reference: "unverified: invented benchmark fixture"
    references: ["unverified: invented benchmark fixture"]
    findings:
      headache: {lr_pos: 4.0, lr_neg: 0.5, reference: "unverified: invented benchmark fixture"}
"""


def three_specialty_kb(folder: Path) -> str:
    """The test knowledge base plus an invented neurology specialty (so that triage consults three)."""
    kb = folder / "kb"
    shutil.copytree(REPO / "tests" / "fixtures" / "kb", kb)
    with open(kb / "specialties.yaml", "a") as fh:
        fh.write("  - id: neurology\n    name: Neurology\n    prefix: NE\n"
                 "    description: Brain disease for benchmarks.\n")
    with open(kb / "findings.yaml", "a") as fh:
        fh.write("  - id: headache\n    name: headache\n    patterns: [headache]\n"
                 "    specialties: {neurology: 1.0, cardiology: 0.1}\n")
    (kb / "conditions" / "neurology.yaml").write_text(NEUROLOGY)
    return str(kb)


def case(i: int) -> dict:
    """An invented case mentioning findings of all three specialties."""
    return {"id": f"bench-{i}", "age": 60 + i % 20, "sex": "female" if i % 2 else "male",
            "note": "Crushing chest pain and a new headache since this morning, with cough. No fever.",
            "vitals": {"heart_rate": 100 + i % 15, "systolic_bp": 140 + i % 30, "diastolic_bp": 85},
            "labs": [{"name": "troponin", "value": 0.5 + i / 100, "unit": "ng/mL"}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.3, help="seconds the server adds to every call")
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()

    proc, base_url = serve_in_subprocess(args.latency)  # a separate process, like a real model server
    try:
        run(args, base_url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run(args: argparse.Namespace, base_url: str) -> None:
    """Time one case, then a batch of cases, against the server at ``base_url``."""
    with tempfile.TemporaryDirectory() as tmp:
        kb = three_specialty_kb(Path(tmp))
        spec = ModelSpec(spec="openai:loopback-model", base_url=base_url, api_key="bench")
        cfg = {"configurable": {"ward": WardConfig(model=spec, knowledge=kb, max_specialists=3)}}
        graph = build_graph()
        graph.invoke({"case": wr.Case.from_dict(case(999))}, cfg)  # warm-up: imports, connections

        t0 = time.perf_counter()
        state = graph.invoke({"case": wr.Case.from_dict(case(0))}, cfg)
        one = time.perf_counter() - t0
        result = result_from_state(state)
        by_agent = usage_by_agent(result.usage)
        specialists = {a: int(u["calls"]) for a, u in by_agent.items() if a.startswith("specialist:")}
        ideal_one = args.latency * (by_agent["triage"]["calls"] + max(specialists.values())
                                    + by_agent["attending"]["calls"])
        print(f"one case: {len(specialists)} specialists consulted ({', '.join(sorted(specialists))}), "
              f"calls triage {int(by_agent['triage']['calls'])}, specialists {specialists}, "
              f"attending {int(by_agent['attending']['calls'])}; verified {result.verified}, issues {len(result.issues)}")
        print(f"one case: wall {one:.3f} s; ideal (triage + slowest specialist + attending) {ideal_one:.3f} s; "
              f"ratio {one / ideal_one:.3f} (target <= 1.3): {'PASS' if one <= 1.3 * ideal_one else 'FAIL'}")

        inputs = [{"case": wr.Case.from_dict(case(i))} for i in range(args.cases)]
        t0 = time.perf_counter()
        states = graph.batch(inputs, {**cfg, "max_concurrency": args.concurrency})
        wall = time.perf_counter() - t0
        results = [result_from_state(s) for s in states]
        ideal = math.ceil(args.cases / args.concurrency) * ideal_one
        print(f"{args.cases} cases at concurrency {args.concurrency}: wall {wall:.3f} s; ideal {ideal:.3f} s; "
              f"ratio {wall / ideal:.3f} (target <= 1.3): {'PASS' if wall <= 1.3 * ideal else 'FAIL'}; "
              f"all verified {all(r.verified for r in results)}; model calls {sum(r.usage.calls for r in results)}")


if __name__ == "__main__":
    main()
