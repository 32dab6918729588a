"""How ``wardround.run`` latency grows with the note: example cases, then the same case with a 10 KB and a 100 KB note.

Targets (issue: the note is read once per case, so latency grows linearly with it): in-process median
<= 10 ms per example case, <= 25 ms with a 10 KB note, <= 250 ms with a 100 KB note (rules mode, offline).

The long notes are realistic, not random: the case's own note comes first, then an "Earlier history" section of
dated previous-admission summaries and progress notes made from the other example cases' notes, vitals and labs,
repeated with different dates until the note reaches the wanted size. Every timed run starts with the caches of
note text emptied (a new case), after one warm-up run (imports, compiled patterns, knowledge base). Figures are
printed; nothing is asserted.

Usage: .venv/bin/python examples/benchmarks/bench_note_scaling.py [--runs N] [--case NAME] [--sizes 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "examples" / "cases"
_SAME_PATIENT = re.compile(r"\b\d+-year-old (?:man|woman)\b")


def _progress_note(day: int, data: dict) -> str:
    """A short daily progress note in ward style from one example case's vitals and labs."""
    v = data.get("vitals") or {}
    parts = [f"Day {day} progress note: patient seen on the ward round."]
    if v:
        parts.append(f"HR {v.get('heart_rate', 80)} bpm, BP {v.get('systolic_bp', 120)}/{v.get('diastolic_bp', 75)} "
                     f"mmHg, RR {v.get('respiratory_rate', 16)}, T {v.get('temperature_c', 36.9)} °C, "
                     f"SpO2 {v.get('spo2', 97)}% on room air.")
    labs = [f"{lab['name']} {lab['value']} {lab.get('unit', '')}".strip() for lab in data.get("labs") or []]
    if labs:
        parts.append("Labs: " + ", ".join(labs) + ".")
    parts.append("Plan discussed with the team; continue current management and review tomorrow.")
    return " ".join(parts)


def long_note(base: dict, others: list[dict], size: int) -> str:
    """``base``'s note followed by an earlier-history section built from ``others`` until ``size`` characters."""
    note = base["note"]
    sections = ["", "Earlier history (previous admissions, from the records):"]
    year, day = 2008, 1
    while len(note) + sum(len(s) + 1 for s in sections) < size:
        for other in others:
            earlier = _SAME_PATIENT.sub("the patient", other["note"])  # one patient's record, not someone else's
            sections.append(f"Admission {year} ({other['id'].replace('_', ' ')}): {earlier}")
            sections.append(_progress_note(day, other))
            day += 1
        year += 1
    return (note + "\n".join(sections))[:size].rsplit(" ", 1)[0] + "."


def cold_caches() -> None:
    """Forget everything read from notes so far, so that each timed run reads its note as a new case would."""
    from wardround import injection, patterns
    from wardround.extract import context, history, reader
    from wardround.reasoning import hypotheses

    reader.clear_note_facts()
    hypotheses._RANKINGS.clear()
    history._CACHE.clear()
    for fn in (context.sections, context.sentence_bounds, context._sentence_starts, injection.normalise,
               injection.find_injections, injection.reading_text, patterns.lowered, patterns._word_starts):
        fn.cache_clear()


def time_runs(case, runs: int) -> list[float]:
    """Wall time of ``wardround.run(case)`` over ``runs`` runs after one warm-up run, each reading the note anew."""
    import wardround as wr

    wr.run(case)
    times = []
    for _ in range(runs):
        cold_caches()
        t0 = time.perf_counter()
        result = wr.run(case)
        times.append(time.perf_counter() - t0)
        assert result.verified
    return times


def _p90(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=10)[-1] if len(xs) >= 2 else xs[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--case", default="chest_pain", help="example case the long notes start from")
    parser.add_argument("--sizes", default="10000,100000", help="note sizes in characters, comma separated")
    args = parser.parse_args()

    import wardround as wr

    paths = sorted(CASES.glob("*.json"))
    data = {p.stem: json.loads(p.read_text()) for p in paths}
    text = [p for p in paths if not data[p.stem].get("imaging")]
    examples: list[float] = []
    for p in text:
        examples.extend(time_runs(wr.Case.from_file(p), args.runs))
    rows = [("examples", statistics.median(len(data[p.stem]["note"]) for p in text), examples, 10.0)]

    base = data[args.case]
    others = [d for k, d in data.items() if k != args.case]
    targets = {10000: 25.0, 100000: 250.0}
    for size in (int(s) for s in args.sizes.split(",")):
        note = long_note(base, others, size)
        case = wr.Case.from_file(CASES / f"{args.case}.json").model_copy(update={"note": note})
        rows.append((f"{size // 1000} KB note", len(note), time_runs(case, args.runs), targets.get(size)))

    first = statistics.median(rows[0][2])
    print(f"wardround.run, rules mode, {args.runs} runs after warm-up (example cases: all text cases pooled)")
    for label, chars, times, target in rows:
        med = statistics.median(times)
        goal = f"target <= {target:g} ms" if target else ""
        print(f"  {label:<12} {chars:>7.0f} chars  median {1000 * med:7.1f} ms  p90 {1000 * _p90(times):7.1f} ms  "
              f"x{med / first:5.1f} of examples  {goal}")
    if len(rows) >= 3:
        (_, c1, t1, _), (_, c2, t2, _) = rows[-2], rows[-1]
        ratio = statistics.median(t2) / statistics.median(t1)
        print(f"  {rows[-1][0]} / {rows[-2][0]}: time x{ratio:.1f} for note x{c2 / c1:.1f} (linear: equal factors)")


if __name__ == "__main__":
    main()
