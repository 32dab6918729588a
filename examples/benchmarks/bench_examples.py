"""Outcomes of the shipped example cases with the shipped knowledge base, overall and per specialty.

For each case with an ``expected`` block: is the primary the expected condition and verified, is the expected
condition in the top 3 of the differential, and is any supported primary wrong (the worst defect). Cases that
expect "outside the knowledge base" count as correct when the ward supports no primary.

Usage: python examples/benchmarks/bench_examples.py [--cases DIR] [--new-only]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=Path, default=REPO / "examples" / "cases")
    ap.add_argument("--new-only", action="store_true", help="only <specialty>__<slug>.json cases")
    args = ap.parse_args()

    import wardround as wr
    from wardround.case import load_case_file
    from wardround.knowledge import load_knowledge

    kb = load_knowledge()
    paths = sorted(p for p in args.cases.glob("*.json") if not json.loads(p.read_text()).get("imaging"))
    if args.new_only:
        paths = [p for p in paths if "__" in p.stem]
    rows: dict[str, list[tuple[bool, bool, bool]]] = {}
    wrong: list[str] = []
    t0 = time.perf_counter()
    for p in paths:
        loaded = load_case_file(p)
        exp = loaded.expected
        if exp is None:
            continue
        result = wr.run(loaded.case)
        d = result.diagnosis
        gold = kb.find_condition(exp.diagnosis) if exp.diagnosis and exp.supported is not False else None
        if gold is None:  # expected outside the knowledge base
            ok = d is not None and not d.supported and result.verified
            top3 = ok
            spec = "outside the knowledge base"
        else:
            ok = bool(d and d.supported and d.primary.condition == gold.id and result.verified)
            top3 = bool(d and gold.id in [x.condition for x in d.differential[:3]])
            spec = kb.specialties[gold.specialty].name
        bad = bool(d and d.supported and (gold is None or d.primary.condition != gold.id))
        if bad:
            wrong.append(f"{p.stem}: {d.primary.name}")
        rows.setdefault(spec, []).append((ok, top3, bad))
    wall = time.perf_counter() - t0

    def line(label: str, items: list[tuple[bool, bool, bool]]) -> str:
        n = len(items)
        return (f"  {label:<40} {n:>3} cases  primary correct+verified {sum(x[0] for x in items) / n:6.1%}  "
                f"top-3 {sum(x[1] for x in items) / n:6.1%}  supported wrong {sum(x[2] for x in items)}")

    everything = [x for items in rows.values() for x in items]
    print(f"example cases: {args.cases} ({len(everything)} cases, {wall:.1f} s)")
    for spec in sorted(rows):
        print(line(spec, rows[spec]))
    print(line("ALL", everything))
    for w in wrong:
        print(f"  SUPPORTED WRONG PRIMARY: {w}")


if __name__ == "__main__":
    main()
