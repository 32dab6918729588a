"""Dosage calculators (MedCalc-Bench category "dosage"): morphine milligram equivalents, steroid conversion."""

from __future__ import annotations

import re
from typing import Any

from pydantic import create_model, model_validator

from wardround.errors import InputError
from wardround.tools.calculators.base import (
    CalculatorInput,
    Computed,
    calculator,
    choice,
    measure,
    number,
    param,
)

# ---------------------------------------------------------------------------------------------------------
# Morphine milligram equivalents

_CDC_2022 = ("Dowell D, Ragan KR, Jones CM, Baldwin GT, Chou R. CDC Clinical Practice Guideline for Prescribing "
             "Opioids for Pain - United States, 2022. MMWR Recomm Rep 2022;71(3):1-95, Table 1. PMID:36327391. "
             "doi:10.15585/mmwr.rr7103a1")

# drug -> (MME conversion factor, dose unit, display name). CDC 2022 Table 1 (factors per mg unless stated).
MME_FACTORS: dict[str, tuple[float, str, str]] = {
    "codeine": (0.15, "mg", "Codeine"),
    "fentanyl_buccal": (0.13, "µg", "Fentanyl buccal/sublingual (per µg)"),
    "fentanyl_patch": (2.4, "µg/h", "Fentanyl transdermal patch (per µg/h)"),
    "hydrocodone": (1.0, "mg", "Hydrocodone"),
    "hydromorphone": (5.0, "mg", "Hydromorphone"),
    "methadone": (4.7, "mg", "Methadone"),
    "morphine": (1.0, "mg", "Morphine"),
    "oxycodone": (1.5, "mg", "Oxycodone"),
    "oxymorphone": (3.0, "mg", "Oxymorphone"),
    "tapentadol": (0.4, "mg", "Tapentadol"),
    "tramadol": (0.2, "mg", "Tramadol"),
}

_DOSE_TYPES = {
    "mg": measure("dose", 0.0, 20000.0),
    "µg": number(0.0, 20000.0, unit="µg", label="dose", also=("mcg", "ug")),
    "µg/h": number(0.0, 2000.0, unit="µg/h", label="patch rate", also=("mcg/hr", "mcg/h", "µg/hr", "ug/hr")),
}
DosesPerDay = number(0.0, 48.0, unit="/day", label="doses per day", also=("per day", "doses/day", "times/day"))

_mme_fields: dict[str, Any] = {}
for _drug, (_factor, _unit, _label) in MME_FACTORS.items():
    _words = _drug.replace("_", " ")
    _mme_fields[f"{_drug}_dose"] = (
        _DOSE_TYPES[_unit] | None,
        param(f"{_label} dose per administration ({_unit})", default=None,
              aliases=(f"{_words} dose", f"{_words} dose per administration")))
    _mme_fields[f"{_drug}_doses_per_day"] = (
        DosesPerDay | None,
        param(f"{_label}: administrations per day", default=None,
              aliases=(f"{_words} dose per day", f"{_words} doses per day", f"{_words} frequency")))

MmeInput = create_model("MmeInput", __base__=CalculatorInput, **_mme_fields)
MmeInput.__doc__ = "Opioid doses (per administration) and administrations per day; give only the drugs taken."


@calculator(id="morphine_milligram_equivalents", name="Morphine Milligram Equivalents (MME) Calculator",
            category="dosage", unit="MME/day",
            synonyms=("morphine milligram equivalents", "mme", "morphine equivalent daily dose", "opioid conversion"),
            keywords=("opioids", "pain", "overdose risk"), reference=_CDC_2022)
def morphine_milligram_equivalents(x: MmeInput) -> Computed:  # type: ignore[valid-type]
    """Total MME/day = Σ dose × doses per day × CDC 2022 conversion factor."""
    total = 0.0
    steps = []
    used = 0
    for drug, (factor, unit, label) in MME_FACTORS.items():
        dose = getattr(x, f"{drug}_dose")
        per_day = getattr(x, f"{drug}_doses_per_day")
        if dose is None and per_day is None:
            continue
        if dose is None or per_day is None:
            missing = f"{drug}_dose" if dose is None else f"{drug}_doses_per_day"
            raise InputError(missing, f"missing for {label}", "give both the dose and the doses per day")
        mme = dose * per_day * factor
        total += mme
        used += 1
        steps.append(f"{label}: {dose:g} {unit} × {per_day:g}/day × {factor} = {mme:.2f} MME/day")
    if not used:
        raise InputError("inputs", "no opioid dose given",
                         f"give <drug>_dose and <drug>_doses_per_day for one of: {', '.join(MME_FACTORS)}")
    steps.append(f"total = {total:.2f} MME/day")
    band = ("≥ 90 MME/day: avoid or carefully justify" if total >= 90 else
            "≥ 50 MME/day: reassess benefits and risks" if total >= 50 else "< 50 MME/day")
    return Computed(total, "MME/day", band, steps)


# ---------------------------------------------------------------------------------------------------------
# Steroid conversion

# Equivalent glucocorticoid (anti-inflammatory) doses in mg: Meikle AW, Tyler FH. Potency and duration of
# action of glucocorticoids. Am J Med 1977;63:200-7 [reference unverified: PMID not checked]; the same table
# appears in the FDA prednisolone label (15 mg prednisolone = 75 cortisone = 60 hydrocortisone = 12
# methylprednisolone = 12 triamcinolone = 2.25 dexamethasone = 2.25 betamethasone).
STEROID_EQUIVALENT_MG: dict[str, float] = {
    "betamethasone": 0.75,
    "cortisone": 25.0,
    "dexamethasone": 0.75,
    "hydrocortisone": 20.0,
    "methylprednisolone": 4.0,
    "prednisolone": 5.0,
    "prednisone": 5.0,
    "triamcinolone": 4.0,
}
_STEROID_OPTIONS = {name: [f"{name} {route}" for route in ("po", "iv", "im", "oral", "intravenous")]
                    for name in STEROID_EQUIVALENT_MG}
Steroid = choice(_STEROID_OPTIONS)
SteroidDose = measure("dose", 0.0, 50000.0)


class SteroidInput(CalculatorInput):
    """Inputs of the steroid conversion. ``input_steroid`` also accepts ``[name, dose, unit]``."""

    input_steroid: Steroid = param("glucocorticoid given (route ignored: equivalence is by anti-inflammatory "
                                   "potency)", aliases=("input steroid", "from steroid", "current steroid"))
    dose: SteroidDose | None = param("dose of the input steroid", default=None,
                                     aliases=("input dose", "steroid dose"))
    target_steroid: Steroid = param("glucocorticoid to convert to", aliases=("target steroid", "to steroid"))

    @model_validator(mode="before")
    @classmethod
    def _split_triple(cls, data: Any) -> Any:
        """Accept MedCalc-Bench's ``input_steroid = [name, dose, unit]``."""
        if isinstance(data, dict):
            raw = data.get("input_steroid")
            if isinstance(raw, list | tuple) and len(raw) in (2, 3) and isinstance(raw[0], str):
                data = dict(data)
                data["input_steroid"] = raw[0]
                data.setdefault("dose", list(raw[1:]) if len(raw) == 3 else raw[1])
            elif isinstance(raw, str) and data.get("dose") is None:
                m = re.match(r"^\s*([A-Za-z ]+?)\s+(\d+\.?\d*)\s*(\w+)?\s*$", raw)
                if m:
                    data = dict(data)
                    data["input_steroid"] = m.group(1)
                    data["dose"] = f"{m.group(2)} {m.group(3) or 'mg'}"
        return data


@calculator(id="steroid_conversion", name="Steroid Conversion Calculator", category="dosage", unit="mg",
            synonyms=("steroid conversion", "corticosteroid conversion", "glucocorticoid equivalent dose",
                      "prednisone equivalent"),
            keywords=("corticosteroids", "prednisone", "dexamethasone", "hydrocortisone"),
            reference="Meikle AW, Tyler FH. Potency and duration of action of glucocorticoids. Am J Med "
                      "1977;63:200-7 [reference unverified: PMID not checked]; equivalences as in the FDA "
                      "prednisolone prescribing information")
def steroid_conversion(x: SteroidInput) -> Computed:
    """Target dose = input dose × (target equivalent dose / input equivalent dose)."""
    if x.dose is None:
        raise InputError("dose", "missing", "give the dose of the input steroid, e.g. '40 mg'")
    src = STEROID_EQUIVALENT_MG[x.input_steroid]
    dst = STEROID_EQUIVALENT_MG[x.target_steroid]
    v = x.dose * dst / src
    return Computed(v, "mg", "", [
        f"equivalent doses: {x.input_steroid} {src:g} mg ≙ {x.target_steroid} {dst:g} mg",
        f"{x.dose:g} mg {x.input_steroid} × {dst:g}/{src:g} = {v:.3f} mg {x.target_steroid}"])
