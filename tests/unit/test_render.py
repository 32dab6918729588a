"""Renderers (``wardround.render``) reached from the models through ``wardround.display``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wardround import display
from wardround.case import Case
from wardround.evidence import Evidence, Ledger
from wardround.report import Diagnosis, DifferentialItem, Opinion, WardResult


def _result() -> WardResult:
    case = Case(id="r1", age=61, sex="female", note="Chest pain <2h>.")
    ledger = Ledger()
    ledger.add(Evidence(id="E1", kind="field", producer="intake", statement="Age 61 years", field="age", value=61))
    primary = DifferentialItem(condition="acs", name="Acute <coronary> syndrome", probability=0.7, supporting=["E1"])
    other = DifferentialItem(condition="pe", name="Pulmonary embolism", probability=0.2)
    diagnosis = Diagnosis(primary=primary, differential=[primary, other])
    opinion = Opinion(specialty="cardiology", summary="Likely ACS [E1].", differential=[primary, other])
    return WardResult(case=case, ledger=ledger, diagnosis=diagnosis, opinions=[opinion], issues=["one issue"])


def test_models_render_text_markdown_and_html():
    result = _result()
    text = result.to_text()
    assert text.startswith("Primary diagnosis: Acute <coronary> syndrome") and "[E1] Age 61 years" in text
    assert "one issue" in text and result.diagnosis.to_text().startswith("Primary diagnosis:")
    assert result.to_markdown().startswith("## Diagnosis: Acute <coronary> syndrome")
    html = result._repr_html_()
    assert "Acute &lt;coronary&gt; syndrome" in html and '<tr id="ev-E1">' in html
    assert '<a href="#ev-E1" class="wr-cite">[E1]</a>' in result.opinions[0]._repr_html_()
    assert "Chest pain &lt;2h&gt;." in result.case._repr_html_()
    assert "Age 61 years" in result.ledger._repr_html_()
    assert WardResult(case=result.case).to_text() == "no diagnosis"


def test_models_find_the_renderers_without_importing_them():
    """A model displayed before anything imported wardround.render loads the default renderers itself."""
    code = ("import sys; from wardround.case import Case; assert 'wardround.render' not in sys.modules; "
            "html = Case(id='x', note='n')._repr_html_(); print('wardround.render' in sys.modules, 'Case x' in html)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_an_unregistered_type_says_how_to_register_a_renderer():
    with pytest.raises(TypeError, match=r"no HTML renderer is registered for int.*to_html\.register"):
        display.to_html(3)
