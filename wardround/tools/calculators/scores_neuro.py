"""Neurological scores: the Glasgow Coma Scale and the ICH score (intracerebral haemorrhage).

Each item is written from the primary publication cited next to it (not from another implementation).
"""

from __future__ import annotations

from wardround.tools.calculators.base import (
    Age,
    CalculatorInput,
    Computed,
    Finding,
    GCSTotal,
    calculator,
    choice,
    number,
    param,
)
from wardround.tools.calculators.scores_common import Tally, fmt

# ---------------------------------------------------------------------------------------------------------
# Glasgow Coma Scale -- Teasdale G, Jennett B. Assessment of coma and impaired consciousness. A practical scale.
# Lancet 1974;2:81-4. doi:10.1016/s0140-6736(74)91639-0 (PMID 4136544). The 15-point sum (motor 6 levels) and
# the "not testable" (NT) convention: Teasdale G, Maas A, Lecky F, et al. The Glasgow Coma Scale at 40 years:
# standing the test of time. Lancet Neurol 2014;13:844-54. doi:10.1016/S1474-4422(14)70120-6 (PMID 25030516).

GCS_REF = ("Teasdale G, Jennett B. Assessment of coma and impaired consciousness. A practical scale. Lancet "
           "1974;2:81-4. doi:10.1016/s0140-6736(74)91639-0 PMID:4136544; Teasdale G, et al. The Glasgow Coma Scale "
           "at 40 years. Lancet Neurol 2014;13:844-54. doi:10.1016/S1474-4422(14)70120-6 PMID:25030516")

NOT_TESTABLE = "not testable"
_NT = ("nt", "not testable", "untestable", "not assessable", "cannot be assessed", "intubated", "sedated")

_EYE = {"spontaneous": ("eyes open spontaneously", "spontaneously", "eyes open", "open spontaneously"),
        "to sound": ("eye opening to verbal command", "to verbal command", "to speech", "to voice",
                     "eye opening to sound", "to sound"),
        "to pressure": ("eye opening to pain", "to pain", "eye opening to pressure", "to pressure"),
        "none": ("no eye opening", "no response", "no eye response", "eyes closed"),
        NOT_TESTABLE: _NT}
_VERBAL = {"oriented": ("orientated", "oriented", "normal"),
           "confused": ("confused", "disoriented", "confused conversation"),
           "words": ("inappropriate words", "inappropriate", "words"),
           "sounds": ("incomprehensible sounds", "incomprehensible", "moaning", "sounds"),
           "none": ("no verbal response", "no response", "no sounds", "aphonic"),
           NOT_TESTABLE: _NT}
_MOTOR = {"obeys commands": ("obeys", "obeys commands", "follows commands"),
          "localising": ("localizes pain", "localises pain", "localizing", "localising", "localizes"),
          "normal flexion": ("withdrawal from pain", "withdraws from pain", "withdrawal", "withdraws",
                             "normal flexion"),
          "abnormal flexion": ("flexion to pain", "decorticate", "abnormal flexion", "decorticate posturing"),
          "extension": ("extension to pain", "decerebrate", "extension", "decerebrate posturing"),
          "none": ("no motor response", "no response", "flaccid"),
          NOT_TESTABLE: _NT}
_EYE_PTS = {"spontaneous": 4, "to sound": 3, "to pressure": 2, "none": 1}
_VERBAL_PTS = {"oriented": 5, "confused": 4, "words": 3, "sounds": 2, "none": 1}
_MOTOR_PTS = {"obeys commands": 6, "localising": 5, "normal flexion": 4, "abnormal flexion": 3, "extension": 2,
              "none": 1}
EyeResponse = choice(_EYE)
VerbalResponse = choice(_VERBAL)
MotorResponse = choice(_MOTOR)


class GcsInput(CalculatorInput):
    """Inputs of the Glasgow Coma Scale: the best response in each of the three components."""

    eye_response: EyeResponse = param("best eye response", aliases=("best eye response", "eye opening"),
                                      normal="spontaneous")
    verbal_response: VerbalResponse = param("best verbal response", aliases=("best verbal response", "verbal response"),
                                            normal="oriented")
    motor_response: MotorResponse = param("best motor response", aliases=("best motor response", "motor response"),
                                          normal="obeys commands")


@calculator(
    id="glasgow_coma_scale", name="Glasgow Coma Score (GCS)", category="severity", unit="points",
    output="integer", reference=GCS_REF,
    synonyms=("glasgow coma scale", "gcs", "glasgow coma score", "coma scale"),
    keywords=("consciousness", "coma", "head injury", "traumatic brain injury", "neurological status"),
)
def glasgow_coma_scale(x: GcsInput) -> Computed:
    """Glasgow Coma Scale total E + V + M (3-15)."""
    t = Tally("GCS")
    warnings: list[str] = []
    nt: list[str] = []
    for label, value, table in (("E (eye opening)", x.eye_response, _EYE_PTS),
                                ("V (verbal)", x.verbal_response, _VERBAL_PTS),
                                ("M (motor)", x.motor_response, _MOTOR_PTS)):
        if value == NOT_TESTABLE:
            # Teasdale 2014 records a non-testable component as NT; for a numeric total it is counted as 1
            # (the lowest level, as in "3T" for intubated patients) and flagged.
            nt.append(label[0])
            t.add(label, "not testable (NT), counted as 1", 1)
        else:
            t.add(label, value, table[value])
    if nt:
        warnings.append(f"component(s) {', '.join(nt)} not testable: the total counts them as 1 and understates "
                        "a possibly better response (report e.g. 'GCS " + "".join(
                            f"{c}NT" for c in nt) + "')")
    score = t.value
    # Conventional severity bands of head injury (13-15 mild, 9-12 moderate, <= 8 severe)
    # [band thresholds: reference unverified -- not in Teasdale 1974].
    interp = "mild (13-15)" if score >= 13 else "moderate (9-12)" if score >= 9 else "severe (<= 8)"
    return Computed(score, "points", interp, t.finish(), warnings=warnings)


# ---------------------------------------------------------------------------------------------------------
# ICH score -- Hemphill JC 3rd, Bonovich DC, Besmertis L, Manley GT, Johnston SC. The ICH score: a simple,
# reliable grading scale for intracerebral hemorrhage. Stroke 2001;32:891-7. doi:10.1161/01.str.32.4.891
# (PMID 11283388). Volume by ABC/2 or by segmentation (mL = cm³).

ICH_REF = ("Hemphill JC 3rd, Bonovich DC, Besmertis L, et al. The ICH score: a simple, reliable grading scale for "
           "intracerebral hemorrhage. Stroke 2001;32:891-7. doi:10.1161/01.str.32.4.891 PMID:11283388")

HematomaVolume = number(0, 1000, unit="mL", label="haematoma volume", also=("ml", "cm3", "cm³", "cm^3", "cc"))
# Hemphill 2001: observed 30-day mortality by ICH score.
ICH_MORTALITY = {0: 0, 1: 13, 2: 26, 3: 72, 4: 97, 5: 100, 6: 100}


class IchInput(CalculatorInput):
    """Inputs of the ICH score (Hemphill 2001)."""

    gcs: GCSTotal = param("Glasgow Coma Scale total on presentation")
    age: Age = param("age in years (>= 80 counts)")
    hematoma_volume: HematomaVolume = param(
        "intracerebral haematoma volume in mL (cm³), from ABC/2 or a segmentation",
        aliases=("ich volume", "hemorrhage volume", "haemorrhage volume", "haematoma volume", "bleed volume",
                 "volume_ml", "hematoma volume ml"))
    intraventricular_hemorrhage: Finding = param("intraventricular extension of haemorrhage",
                                                 aliases=("ivh", "intraventricular haemorrhage"))
    infratentorial_origin: Finding = param("infratentorial (cerebellar or brainstem) origin",
                                           aliases=("infratentorial", "posterior fossa"))


@calculator(
    id="ich_score", name="ICH Score for Intracerebral Hemorrhage", category="severity", unit="points",
    output="integer", reference=ICH_REF,
    synonyms=("ich score", "hemphill score", "intracerebral hemorrhage score", "intracerebral haemorrhage score"),
    keywords=("intracerebral hemorrhage", "hemorrhagic stroke", "haematoma volume", "30-day mortality", "ct"),
)
def ich_score(x: IchInput) -> Computed:
    """ICH score: GCS, age >= 80, volume >= 30 mL, IVH, infratentorial origin (0-6 points)."""
    t = Tally("ICH score")
    gcs = round(x.gcs)
    t.add("GCS", gcs, 2 if gcs <= 4 else 1 if gcs <= 12 else 0, "3-4: 2, 5-12: 1, 13-15: 0")
    t.add("haematoma volume >= 30 mL", f"{x.hematoma_volume:.1f} mL", 1 if x.hematoma_volume >= 30 else 0)
    t.add("intraventricular haemorrhage", x.intraventricular_hemorrhage, int(x.intraventricular_hemorrhage))
    t.add("infratentorial origin", x.infratentorial_origin, int(x.infratentorial_origin))
    t.add("age >= 80", f"{fmt(x.age)} years", 1 if x.age >= 80 else 0)
    score = t.value
    interp = f"30-day mortality {ICH_MORTALITY[int(score)]}% in the derivation cohort (Hemphill 2001)"
    return Computed(score, "points", interp, t.finish())
