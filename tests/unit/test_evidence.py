"""Evidence ids, the append-only ledger and citation checking."""

from __future__ import annotations

import pytest

from wardround.case import Case
from wardround.errors import CitationError
from wardround.evidence import Evidence, EvidenceWriter, Ledger, cited_ids, merge_ledger, sha256_file

NOTE = "Patient denies fever. Crushing chest pain radiating to the left arm."


@pytest.fixture()
def case():
    return Case.from_dict({"note": NOTE, "vitals": {"heart_rate": 112},
                           "history": {"conditions": ["hypertension"]}})


def test_writer_ids_are_sequential_and_continue():
    w = EvidenceWriter("CA", "cardiology", existing=["E1", "CA1", "CA2", "PU9"])
    assert w.add("derived", "x", derived_from=["E1"]).id == "CA3"
    assert w.add("derived", "y", derived_from=["E1"]).id == "CA4"
    with pytest.raises(ValueError):
        EvidenceWriter("ca", "bad")


def test_note_field_and_derived_verify(case):
    w = EvidenceWriter("E", "intake")
    start = NOTE.index("denies fever")
    a = w.note("fever absent", NOTE, start, start + len("denies fever"), finding="fever", present=False)
    b = w.field("HR", "vitals.heart_rate", 112.0)
    c = w.field("HTN", "history.conditions[0]", "hypertension")
    d = w.add("derived", "summary", derived_from=[a.id, b.id])
    ledger = Ledger()
    ledger.extend([a, b, c, d])
    report = ledger.verify(case)
    assert report.ok, report.message()
    assert report.checked == 4


def test_tampered_quote_and_value_fail_naming_the_citation(case):
    ledger = Ledger()
    ledger.add(Evidence(id="E1", kind="note", producer="intake", statement="s", quote="denies cough", span=(8, 20)))
    ledger.add(Evidence(id="E2", kind="field", producer="intake", statement="s", field="vitals.heart_rate", value=90))
    ledger.add(Evidence(id="E3", kind="derived", producer="x", statement="s", derived_from=["E9"]))
    report = ledger.verify(case, ["E1", "E2", "E3", "E4"])
    assert not report.ok
    reasons = {f.id: f.reason for f in report.failures}
    assert "does not match the note" in reasons["E1"]
    assert "holds 112.0" in reasons["E2"]
    assert "E9" in reasons["E3"]
    assert reasons["E4"] == "does not exist in the ledger"
    with pytest.raises(CitationError, match=r"\[E4\] does not exist"):
        report.raise_for_failures()


def test_ledger_is_append_only():
    ledger = Ledger()
    ev = Evidence(id="E1", kind="derived", producer="p", statement="a", derived_from=["E2"])
    ledger.add(ev)
    ledger.add(ev)  # identical: no-op
    with pytest.raises(CitationError, match="append-only"):
        ledger.add(ev.model_copy(update={"statement": "b"}))


def test_merge_reducer_rejects_conflicting_ids():
    a = Evidence(id="CA1", kind="derived", producer="cardiology", statement="a", derived_from=["E1"])
    b = Evidence(id="PU1", kind="derived", producer="pulmonology", statement="b", derived_from=["E1"])
    merged = merge_ledger({"CA1": a}, {"PU1": b})
    assert list(merged) == ["CA1", "PU1"]
    with pytest.raises(CitationError):
        merge_ledger({"CA1": a}, {"CA1": a.model_copy(update={"statement": "other"})})


def test_imaging_hash(tmp_path, case):
    f = tmp_path / "mask.bin"
    f.write_bytes(b"abc")
    ev = Evidence(id="NR1", kind="imaging", producer="neurology", statement="mask", artifact_path=str(f),
                  sha256=sha256_file(f))
    ledger = Ledger(entries={"NR1": ev})
    assert ledger.verify(case).ok
    f.write_bytes(b"abd")
    assert "sha256 mismatch" in ledger.verify(case).failures[0].reason


def test_bayes_tool_evidence_recomputes(case):
    from wardround.knowledge.bayes import post_test_probability

    p = round(post_test_probability(0.1, [2.0, 0.5, 4.0]), 4)
    ok = Evidence(id="CA1", kind="tool", producer="cardiology", statement="p", tool="bayes:acs",
                  inputs={"prior": 0.1, "lrs": [2.0, 0.5, 4.0]}, value=p)
    bad = ok.model_copy(update={"id": "CA2", "value": 0.9})
    ledger = Ledger(entries={"CA1": ok, "CA2": bad})
    report = ledger.verify(case)
    assert [f.id for f in report.failures] == ["CA2"]
    assert "does not recompute" in report.failures[0].reason


def test_cited_ids_parses_inline_citations():
    assert cited_ids("ACS [E3][CA1] and [E4, PU2]; not [x1] or [e5]") == ["E3", "CA1", "E4", "PU2"]
