"""General comorbidity score: the Charlson Comorbidity Index (age-combined).

Each item is written from the primary publication cited next to it (not from another implementation).
"""

from __future__ import annotations

import math

from wardround.tools.calculators.base import (
    Age,
    CalculatorInput,
    Computed,
    Finding,
    calculator,
    param,
)
from wardround.tools.calculators.scores_common import Tally, flag_choice, fmt

# ---------------------------------------------------------------------------------------------------------
# Charlson ME, Pompei P, Ales KL, MacKenzie CR. A new method of classifying prognostic comorbidity in
# longitudinal studies: development and validation. J Chronic Dis 1987;40:373-83.
# doi:10.1016/0021-9681(87)90171-8 (PMID 3558716): condition weights 1/2/3/6 and the 10-year survival
# 0.983^exp(0.9 x index). Age points: Charlson M, Szatrowski TP, Peterson J, Gold J. Validation of a combined
# comorbidity index. J Clin Epidemiol 1994;47:1245-51. doi:10.1016/0895-4356(94)90129-5 (PMID 7722560): one point
# per decade from 50 (50-59: 1, 60-69: 2, 70-79: 3, >= 80: 4 [cap at 4 for >= 80: reference unverified]).

CHARLSON_REF = ("Charlson ME, Pompei P, Ales KL, MacKenzie CR. A new method of classifying prognostic comorbidity in "
                "longitudinal studies: development and validation. J Chronic Dis 1987;40:373-83. "
                "doi:10.1016/0021-9681(87)90171-8 PMID:3558716; Charlson M, et al. Validation of a combined "
                "comorbidity index. J Clin Epidemiol 1994;47:1245-51. PMID:7722560")

LiverSeverity = flag_choice({"none": ("no", "absent"),
                             "mild": ("mild", "chronic hepatitis", "cirrhosis without portal hypertension"),
                             "moderate to severe": ("moderate", "severe", "moderate-severe",
                                                    "cirrhosis with portal hypertension")},
                            if_true="mild", if_false="none")
DiabetesSeverity = flag_choice({"none or diet-controlled": ("none", "no", "diet-controlled", "diet controlled",
                                                            "absent"),
                                "uncomplicated": ("uncomplicated", "mild", "without end-organ damage"),
                                "end-organ damage": ("end organ damage", "complicated", "with end-organ damage",
                                                     "with complications")},
                               if_true="uncomplicated", if_false="none or diet-controlled")
SolidTumor = flag_choice({"none": ("no", "absent"),
                          "localized": ("localised", "local", "non-metastatic", "any tumour", "present"),
                          "metastatic": ("metastatic solid tumor", "metastases", "metastatic solid tumour")},
                         if_true="localized", if_false="none")


class CharlsonInput(CalculatorInput):
    """Inputs of the Charlson Comorbidity Index."""

    age: Age = param("age in years")
    myocardial_infarction: Finding = param("history of definite or probable myocardial infarction")
    congestive_heart_failure: Finding = param("congestive heart failure",
                                              aliases=("congestive heart faliure", "chf"))
    peripheral_vascular_disease: Finding = param("peripheral vascular disease (claudication, bypass, gangrene, "
                                                 "aneurysm >= 6 cm)")
    cerebrovascular_accident: Finding = param("cerebrovascular accident (stroke) with mild or no residua",
                                              aliases=("cerebrovascular accident", "stroke", "cva"))
    transient_ischemic_attack: Finding = param("transient ischaemic attack",
                                               aliases=("transient ischemic attacks history", "tia"))
    dementia: Finding = param("dementia (chronic cognitive deficit)")
    copd: Finding = param("chronic pulmonary disease",
                          aliases=("chronic obstructive pulmonary disease", "chronic pulmonary disease"))
    connective_tissue_disease: Finding = param("connective tissue disease")
    peptic_ulcer_disease: Finding = param("peptic ulcer disease")
    liver_disease_severity: LiverSeverity = param(
        "liver disease: none, mild (chronic hepatitis, cirrhosis without portal hypertension), moderate to severe "
        "(cirrhosis with portal hypertension)", aliases=("liver disease severity", "liver disease"), normal="none")
    diabetes_severity: DiabetesSeverity = param(
        "diabetes mellitus: none or diet-controlled, uncomplicated, end-organ damage",
        aliases=("diabetes mellitus criteria for cci rule", "diabetes mellitus", "diabetes"),
        normal="none or diet-controlled")
    hemiplegia: Finding = param("hemiplegia")
    moderate_severe_ckd: Finding = param("moderate to severe renal disease (creatinine > 3 mg/dL, dialysis, "
                                         "transplant, uraemia)",
                                         aliases=("moderate to severe chronic kidney disease", "renal disease"))
    solid_tumor: SolidTumor = param("solid tumour: none, localized, metastatic", aliases=("solid tumor", "tumor"),
                                    normal="none")
    leukemia: Finding = param("leukaemia", aliases=("leukaemia",))
    lymphoma: Finding = param("malignant lymphoma", aliases=("malignant lymphoma",))
    aids: Finding = param("AIDS (not just HIV positive)")


@calculator(
    id="charlson_comorbidity_index", name="Charlson Comorbidity Index (CCI)", category="risk", unit="points",
    output="integer", reference=CHARLSON_REF,
    synonyms=("charlson comorbidity index", "cci", "charlson index", "charlson score",
              "age-adjusted charlson comorbidity index"),
    keywords=("comorbidity", "10-year survival", "mortality", "prognosis", "chronic disease"),
)
def charlson_comorbidity_index(x: CharlsonInput) -> Computed:
    """Age-combined Charlson Comorbidity Index and its estimated 10-year survival."""
    t = Tally("CCI")
    age_pts = 4 if x.age >= 80 else 3 if x.age >= 70 else 2 if x.age >= 60 else 1 if x.age >= 50 else 0
    t.add("age", f"{fmt(x.age)} years", age_pts, "<50: 0, 50-59: 1, 60-69: 2, 70-79: 3, >=80: 4")
    ones = (("myocardial infarction", x.myocardial_infarction), ("congestive heart failure",
                                                                  x.congestive_heart_failure),
            ("peripheral vascular disease", x.peripheral_vascular_disease),
            ("dementia", x.dementia), ("chronic pulmonary disease", x.copd),
            ("connective tissue disease", x.connective_tissue_disease),
            ("peptic ulcer disease", x.peptic_ulcer_disease))
    for name, present in ones:
        t.add(name, present, 1 if present else 0)
    cvd = [n for n, v in (("stroke", x.cerebrovascular_accident), ("TIA", x.transient_ischemic_attack)) if v]
    t.add("cerebrovascular disease (CVA or TIA)", ", ".join(cvd) or "absent", 1 if cvd else 0)
    t.add("liver disease", x.liver_disease_severity,
          {"none": 0, "mild": 1, "moderate to severe": 3}[x.liver_disease_severity])
    t.add("diabetes mellitus", x.diabetes_severity,
          {"none or diet-controlled": 0, "uncomplicated": 1, "end-organ damage": 2}[x.diabetes_severity])
    for name, present in (("hemiplegia", x.hemiplegia), ("moderate-severe renal disease", x.moderate_severe_ckd),
                          ("leukaemia", x.leukemia), ("lymphoma", x.lymphoma)):
        t.add(name, present, 2 if present else 0)
    t.add("solid tumour", x.solid_tumor, {"none": 0, "localized": 2, "metastatic": 6}[x.solid_tumor])
    t.add("AIDS", x.aids, 6 if x.aids else 0)
    score = t.value
    # Charlson 1987: estimated 10-year survival = 0.983^(e^(0.9 x index)).
    survival = 0.983 ** math.exp(0.9 * score) * 100.0
    steps = t.finish()
    steps.append(f"estimated 10-year survival = 0.983^exp(0.9 x {score}) = {survival:.1f}%")
    return Computed(score, "points", f"estimated 10-year survival {survival:.0f}%", steps)
