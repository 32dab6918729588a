"""Gastroenterology and hepatology scores: Child-Pugh and the Glasgow-Blatchford bleeding score.

Each item is written from the primary publication cited next to it (not from another implementation).
"""

from __future__ import annotations

from wardround.tools.calculators.base import (
    CalculatorInput,
    Computed,
    Finding,
    HeartRate,
    Sex,
    SystolicBP,
    calculator,
    choice,
    lab,
    param,
)
from wardround.tools.calculators.scores_common import Tally, fmt
from wardround.tools.calculators.scores_infection import bun_to_urea_mmol

Bilirubin = lab("total_bilirubin")
Albumin = lab("albumin")
INR = lab("inr")
BUN = lab("bun")
Hemoglobin = lab("hemoglobin")

# ---------------------------------------------------------------------------------------------------------
# Child-Pugh -- Pugh RN, Murray-Lyon IM, Dawson JL, Pietroni MC, Williams R. Transection of the oesophagus for
# bleeding oesophageal varices. Br J Surg 1973;60:646-9. doi:10.1002/bjs.1800600817 (PMID 4541913).
# Pugh 1973 graded prothrombin time prolongation (1-4 s, 4-6 s, > 6 s); the INR cut-offs < 1.7 / 1.7-2.3 /
# > 2.3 are the later INR adaptation in clinical use [INR cut-offs: reference unverified].

CHILD_PUGH_REF = ("Pugh RN, Murray-Lyon IM, Dawson JL, et al. Transection of the oesophagus for bleeding "
                  "oesophageal varices. Br J Surg 1973;60:646-9. doi:10.1002/bjs.1800600817 PMID:4541913")

_ASCITES = {"absent": ("none", "no ascites", "no", "absent"),
            "slight": ("mild", "minimal", "small", "slight", "controlled", "mild/controlled with diuretics"),
            "moderate": ("moderate", "moderate to severe", "severe", "large", "tense", "refractory",
                         "moderate-severe", "moderate or severe")}
_ENCEPHALOPATHY = {"none": ("no encephalopathy", "grade 0", "absent", "no", "none"),
                   "grade 1-2": ("grade 1", "grade 2", "grade 1-2", "mild", "minimal", "controlled", "mild to moderate",
                                 "grade 1–2"),
                   "grade 3-4": ("grade 3", "grade 4", "grade 3-4", "severe", "refractory", "coma", "grade 3–4")}
Ascites = choice(_ASCITES)
Encephalopathy = choice(_ENCEPHALOPATHY)


class ChildPughInput(CalculatorInput):
    """Inputs of the Child-Pugh score (Pugh 1973)."""

    total_bilirubin: Bilirubin = param("total bilirubin")
    albumin: Albumin = param("serum albumin")
    inr: INR = param("international normalised ratio")
    ascites: Ascites = param("ascites: absent, slight, moderate", normal="absent")
    encephalopathy: Encephalopathy = param("hepatic encephalopathy: none, grade 1-2, grade 3-4", normal="none",
                                           aliases=("hepatic encephalopathy",))


@calculator(
    id="child_pugh", name="Child-Pugh Score for Cirrhosis Mortality", category="severity", unit="points",
    output="integer", reference=CHILD_PUGH_REF,
    synonyms=("child-pugh", "child pugh score", "child-turcotte-pugh", "ctp score", "pugh score"),
    keywords=("cirrhosis", "liver disease", "hepatic function", "prognosis", "portal hypertension"),
)
def child_pugh(x: ChildPughInput) -> Computed:
    """Child-Pugh score (5-15) and class A/B/C of chronic liver disease."""
    t = Tally("Child-Pugh")
    b = x.total_bilirubin
    t.add("bilirubin", f"{b:.2f} mg/dL", 1 if b < 2 else 2 if b <= 3 else 3, "<2: 1, 2-3: 2, >3: 3")
    a = x.albumin
    t.add("albumin", f"{a:.2f} g/dL", 1 if a > 3.5 else 2 if a >= 2.8 else 3, ">3.5: 1, 2.8-3.5: 2, <2.8: 3")
    t.add("INR", f"{x.inr:.2f}", 1 if x.inr < 1.7 else 2 if x.inr <= 2.3 else 3, "<1.7: 1, 1.7-2.3: 2, >2.3: 3")
    t.add("ascites", x.ascites, {"absent": 1, "slight": 2, "moderate": 3}[x.ascites])
    t.add("encephalopathy", x.encephalopathy, {"none": 1, "grade 1-2": 2, "grade 3-4": 3}[x.encephalopathy])
    score = t.value
    # Pugh 1973 grades: A 5-6, B 7-9, C 10-15.
    interp = "Child-Pugh class A (5-6)" if score <= 6 else "Child-Pugh class B (7-9)" if score <= 9 else \
        "Child-Pugh class C (10-15)"
    return Computed(score, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# Glasgow-Blatchford -- Blatchford O, Murray WR, Blatchford M. A risk score to predict need for treatment for
# upper-gastrointestinal haemorrhage. Lancet 2000;356:1318-21. doi:10.1016/S0140-6736(00)02816-6
# (PMID 11073021). Urea in mmol/L (BUN mg/dL / 2.8014).

GBS_REF = ("Blatchford O, Murray WR, Blatchford M. A risk score to predict need for treatment for upper-"
           "gastrointestinal haemorrhage. Lancet 2000;356:1318-21. doi:10.1016/S0140-6736(00)02816-6 PMID:11073021")


class BlatchfordInput(CalculatorInput):
    """Inputs of the Glasgow-Blatchford bleeding score (Blatchford 2000)."""

    bun: BUN = param("blood urea nitrogen (or urea in mmol/L)")
    hemoglobin: Hemoglobin = param("haemoglobin")
    sex: Sex = param("sex (haemoglobin bands differ)")
    systolic_bp: SystolicBP = param("systolic blood pressure")
    heart_rate: HeartRate = param("pulse (>= 100 /min counts)")
    melena: Finding = param("presentation with melaena", aliases=("melena present", "melaena"))
    syncope: Finding = param("presentation with syncope", aliases=("recent syncope",))
    hepatic_disease: Finding = param("hepatic disease (history or clinical/laboratory evidence)",
                                     aliases=("hepatic disease history", "liver disease"))
    cardiac_failure: Finding = param("cardiac failure (history or clinical/echo evidence)",
                                     aliases=("cardiac failure present", "heart failure", "congestive heart failure"))


@calculator(
    id="glasgow_blatchford", name="Glasgow-Blatchford Bleeding Score (GBS)", category="risk", unit="points",
    output="integer", reference=GBS_REF,
    synonyms=("glasgow-blatchford score", "blatchford score", "gbs", "glasgow blatchford bleeding score"),
    keywords=("upper gi bleeding", "gastrointestinal hemorrhage", "melena", "hematemesis", "endoscopy"),
)
def glasgow_blatchford(x: BlatchfordInput) -> Computed:
    """Glasgow-Blatchford score for need of intervention in upper GI bleeding (0-23 points)."""
    t = Tally("Glasgow-Blatchford")
    urea = bun_to_urea_mmol(x.bun)
    u_pts = 6 if urea >= 25 else 4 if urea >= 10 else 3 if urea >= 8 else 2 if urea >= 6.5 else 0
    t.add("blood urea", f"{urea:.2f} mmol/L (BUN {x.bun:.1f} mg/dL)", u_pts,
          "6.5-<8: 2, 8-<10: 3, 10-<25: 4, >=25: 6")
    hb = x.hemoglobin
    if x.sex == "male":
        h_pts = 0 if hb >= 13 else 1 if hb >= 12 else 3 if hb >= 10 else 6
        rule = "men: 12-<13: 1, 10-<12: 3, <10: 6"
    else:
        h_pts = 0 if hb >= 12 else 1 if hb >= 10 else 6
        rule = "women: 10-<12: 1, <10: 6"
    t.add("haemoglobin", f"{hb:.1f} g/dL", h_pts, rule)
    sbp = x.systolic_bp
    t.add("systolic BP", f"{fmt(sbp)} mmHg", 0 if sbp >= 110 else 1 if sbp >= 100 else 2 if sbp >= 90 else 3,
          "100-109: 1, 90-99: 2, <90: 3")
    t.add("pulse >= 100", f"{fmt(x.heart_rate)} /min", 1 if x.heart_rate >= 100 else 0)
    t.add("melaena", x.melena, 1 if x.melena else 0)
    t.add("syncope", x.syncope, 2 if x.syncope else 0)
    t.add("hepatic disease", x.hepatic_disease, 2 if x.hepatic_disease else 0)
    t.add("cardiac failure", x.cardiac_failure, 2 if x.cardiac_failure else 0)
    score = t.value
    # Blatchford 2000: a score of 0 identified patients who did not need intervention.
    interp = ("low risk (0): unlikely to need intervention, consider outpatient management" if score == 0 else
              "needs assessment for intervention (transfusion, endoscopic therapy or surgery); risk rises with score")
    return Computed(score, "points", interp, t.finish())
