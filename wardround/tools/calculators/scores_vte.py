"""Venous thromboembolism scores: Wells' criteria for PE and DVT, the PERC rule and the Caprini (2005) score.

Each item is written from the primary publication cited next to it (not from another implementation).
"""

from __future__ import annotations

from wardround.errors import InputError
from wardround.tools.calculators.base import (
    Age,
    BodyMassIndex,
    CalculatorInput,
    Computed,
    Finding,
    HeartRate,
    Sex,
    SpO2,
    calculator,
    choice,
    param,
)
from wardround.tools.calculators.scores_common import Tally, fmt

# ---------------------------------------------------------------------------------------------------------
# Wells' criteria for pulmonary embolism -- Wells PS, Anderson DR, Rodger M, et al. Derivation of a simple
# clinical model to categorize patients probability of pulmonary embolism: increasing the models utility with
# the SimpliRED D-dimer. Thromb Haemost 2000;83:416-20 (PMID 10744147).

WELLS_PE_REF = ("Wells PS, Anderson DR, Rodger M, et al. Derivation of a simple clinical model to categorize "
                "patients probability of pulmonary embolism: increasing the models utility with the SimpliRED "
                "D-dimer. Thromb Haemost 2000;83:416-20. PMID:10744147")


class WellsPeInput(CalculatorInput):
    """Inputs of Wells' criteria for pulmonary embolism (Wells 2000)."""

    clinical_signs_dvt: Finding = param(
        "clinical signs and symptoms of DVT (minimum leg swelling and pain on palpation of the deep veins)",
        aliases=("clinical signs and symptoms of deep vein thrombosis", "signs of dvt"))
    pe_most_likely_diagnosis: Finding = param(
        "PE is the most likely diagnosis, or equally likely as an alternative",
        aliases=("pulmonary embolism is #1 diagnosis or equally likely", "alternative diagnosis less likely than pe"))
    heart_rate: HeartRate = param("heart rate (> 100 /min counts)")
    immobilization: Finding = param("immobilisation for at least 3 days",
                                    aliases=("immobilization for at least 3 days",))
    recent_surgery: Finding = param("surgery in the previous 4 weeks", aliases=("surgery in the previous 4 weeks",))
    previous_pe: Finding = param("previous, objectively diagnosed pulmonary embolism",
                                 aliases=("previously documented pulmonary embolism", "prior pe", "history of pe"))
    previous_dvt: Finding = param("previous, objectively diagnosed deep vein thrombosis",
                                  aliases=("previously documented deep vein thrombosis", "prior dvt", "history of dvt"))
    hemoptysis: Finding = param("haemoptysis", aliases=("haemoptysis",))
    malignancy: Finding = param("malignancy on treatment within 6 months or palliative",
                                aliases=("malignancy with treatment within 6 months or palliative", "active cancer",
                                         "cancer"))


@calculator(
    id="wells_pe", name="Wells' Criteria for Pulmonary Embolism", category="risk", unit="points",
    output="decimal", reference=WELLS_PE_REF,
    synonyms=("wells score for pe", "wells pe", "wells pulmonary embolism score", "wells criteria pe"),
    keywords=("pulmonary embolism", "pe", "pretest probability", "d-dimer", "ctpa", "dyspnea"),
)
def wells_pe(x: WellsPeInput) -> Computed:
    """Wells' clinical probability score for pulmonary embolism (0-12.5 points)."""
    t = Tally("Wells PE")
    # Wells 2000 Table 3: DVT signs 3.0, PE most likely 3.0, HR > 100 1.5, immobilisation/surgery 1.5,
    # previous DVT/PE 1.5, haemoptysis 1.0, malignancy 1.0.
    t.add("clinical signs of DVT", x.clinical_signs_dvt, 3.0 if x.clinical_signs_dvt else 0)
    t.add("PE most likely diagnosis", x.pe_most_likely_diagnosis, 3.0 if x.pe_most_likely_diagnosis else 0)
    t.add("heart rate > 100", f"{fmt(x.heart_rate)} /min", 1.5 if x.heart_rate > 100 else 0)
    imm = [n for n, v in (("immobilisation >= 3 days", x.immobilization), ("surgery < 4 weeks", x.recent_surgery))
           if v]
    t.add("immobilisation or recent surgery", ", ".join(imm) or "neither", 1.5 if imm else 0)
    prev = [n for n, v in (("PE", x.previous_pe), ("DVT", x.previous_dvt)) if v]
    t.add("previous DVT/PE", ", ".join(prev) or "neither", 1.5 if prev else 0)
    t.add("haemoptysis", x.hemoptysis, 1.0 if x.hemoptysis else 0)
    t.add("malignancy", x.malignancy, 1.0 if x.malignancy else 0)
    score = t.value
    # Wells 2000: three-tier < 2 low, 2-6 moderate, > 6 high; two-tier <= 4 PE unlikely, > 4 PE likely.
    tier = "low probability" if score < 2 else "moderate probability" if score <= 6 else "high probability"
    two = "PE unlikely (<= 4)" if score <= 4 else "PE likely (> 4)"
    return Computed(score, "points", f"{tier}; {two}", t.finish())


# ---------------------------------------------------------------------------------------------------------
# Wells' criteria for DVT (with 'previously documented DVT') -- Wells PS, Anderson DR, Rodger M, et al.
# Evaluation of D-dimer in the diagnosis of suspected deep-vein thrombosis. N Engl J Med 2003;349:1227-35.
# doi:10.1056/NEJMoa023153 (PMID 14507948).

WELLS_DVT_REF = ("Wells PS, Anderson DR, Rodger M, et al. Evaluation of D-dimer in the diagnosis of suspected "
                 "deep-vein thrombosis. N Engl J Med 2003;349:1227-35. doi:10.1056/NEJMoa023153 PMID:14507948")


class WellsDvtInput(CalculatorInput):
    """Inputs of Wells' criteria for deep vein thrombosis (Wells 2003)."""

    active_cancer: Finding = param("active cancer (treatment within 6 months or palliative)")
    paralysis_or_cast: Finding = param(
        "paralysis, paresis or recent plaster immobilisation of the lower extremity",
        aliases=("paralysis, paresis, or recent plaster immobilization of the lower extremity",))
    bedridden_recently: Finding = param(
        "recently bedridden > 3 days", aliases=("bedridden recently >3 days",
                                                "bedridden recently >3 days or major surgery within 12 weeks"))
    major_surgery_recent: Finding = param("major surgery within 12 weeks requiring general or regional anaesthesia",
                                          aliases=("major surgery within 12 weeks",))
    localized_tenderness: Finding = param("localised tenderness along the distribution of the deep venous system",
                                          aliases=("localized tenderness along the deep venous system",))
    entire_leg_swollen: Finding = param("entire leg swollen")
    calf_swelling: Finding = param("calf swelling > 3 cm compared with the asymptomatic leg",
                                   aliases=("calf swelling >3 centimeters compared to the other leg",))
    pitting_edema: Finding = param("pitting oedema confined to the symptomatic leg",
                                   aliases=("pitting edema, confined to symptomatic leg",))
    collateral_veins: Finding = param("collateral superficial veins (non-varicose)",
                                      aliases=("collateral (nonvaricose) superficial veins present",))
    previous_dvt: Finding = param("previously documented DVT",
                                  aliases=("previously documented deep vein thrombosis", "prior dvt"))
    alternative_diagnosis_likely: Finding = param(
        "alternative diagnosis at least as likely as DVT",
        aliases=("alternative diagnosis to deep vein thrombosis as likely or more likely",))


@calculator(
    id="wells_dvt", name="Wells' Criteria for DVT", category="risk", unit="points", output="integer",
    reference=WELLS_DVT_REF,
    synonyms=("wells score for dvt", "wells dvt", "wells deep vein thrombosis score", "wells criteria dvt"),
    keywords=("deep vein thrombosis", "dvt", "leg swelling", "d-dimer", "pretest probability"),
)
def wells_dvt(x: WellsDvtInput) -> Computed:
    """Wells' clinical probability score for deep vein thrombosis (-2 to 9 points)."""
    t = Tally("Wells DVT")
    # Wells 2003 Table 1: each item 1 point; alternative diagnosis at least as likely: -2.
    t.add("active cancer", x.active_cancer, int(x.active_cancer))
    t.add("paralysis, paresis or recent cast", x.paralysis_or_cast, int(x.paralysis_or_cast))
    bed = [n for n, v in (("bedridden > 3 days", x.bedridden_recently),
                          ("major surgery < 12 weeks", x.major_surgery_recent)) if v]
    t.add("bedridden > 3 days or major surgery < 12 weeks", ", ".join(bed) or "neither", 1 if bed else 0)
    t.add("localised deep-vein tenderness", x.localized_tenderness, int(x.localized_tenderness))
    t.add("entire leg swollen", x.entire_leg_swollen, int(x.entire_leg_swollen))
    t.add("calf swelling > 3 cm", x.calf_swelling, int(x.calf_swelling))
    t.add("pitting oedema (symptomatic leg)", x.pitting_edema, int(x.pitting_edema))
    t.add("collateral superficial veins", x.collateral_veins, int(x.collateral_veins))
    t.add("previously documented DVT", x.previous_dvt, int(x.previous_dvt))
    t.add("alternative diagnosis as likely", x.alternative_diagnosis_likely,
          -2 if x.alternative_diagnosis_likely else 0)
    score = t.value
    # Wells 2003: >= 2 DVT likely, < 2 DVT unlikely.
    interp = "DVT likely (>= 2)" if score >= 2 else "DVT unlikely (< 2)"
    return Computed(score, "points", interp, t.finish())


# ---------------------------------------------------------------------------------------------------------
# PERC rule -- Kline JA, Mitchell AM, Kabrhel C, Richman PB, Courtney DM. Clinical criteria to prevent
# unnecessary diagnostic testing in emergency department patients with suspected pulmonary embolism.
# J Thromb Haemost 2004;2:1247-55. doi:10.1111/j.1538-7836.2004.00790.x (PMID 15304025).

PERC_REF = ("Kline JA, Mitchell AM, Kabrhel C, et al. Clinical criteria to prevent unnecessary diagnostic testing "
            "in emergency department patients with suspected pulmonary embolism. J Thromb Haemost "
            "2004;2:1247-55. doi:10.1111/j.1538-7836.2004.00790.x PMID:15304025")


class PercInput(CalculatorInput):
    """Inputs of the pulmonary embolism rule-out criteria (Kline 2004)."""

    age: Age = param("age in years (>= 50 counts)")
    heart_rate: HeartRate = param("heart rate (>= 100 /min counts)")
    spo2: SpO2 = param("oxygen saturation on room air (< 95% counts)")
    unilateral_leg_swelling: Finding = param("unilateral leg swelling")
    hemoptysis: Finding = param("haemoptysis", aliases=("haemoptysis",))
    recent_surgery_or_trauma: Finding = param("surgery or trauma within 4 weeks requiring general anaesthesia",
                                              aliases=("recent surgery or trauma",))
    previous_pe: Finding = param("prior pulmonary embolism", aliases=("previously documented pulmonary embolism",))
    previous_dvt: Finding = param("prior deep vein thrombosis", aliases=("previously documented deep vein thrombosis",))
    hormone_use: Finding = param("oral contraceptives, hormone replacement or oestrogen use",
                                 aliases=("hormone use", "estrogen use", "oral contraceptive use"))


@calculator(
    id="perc_rule", name="PERC Rule for Pulmonary Embolism", category="diagnosis", unit="criteria",
    output="integer", reference=PERC_REF,
    synonyms=("perc", "pulmonary embolism rule-out criteria", "perc rule", "kline rule"),
    keywords=("pulmonary embolism", "rule out", "low pretest probability", "d-dimer"),
)
def perc_rule(x: PercInput) -> Computed:
    """PERC: number of the eight criteria met; 0 rules out PE when the pretest probability is low."""
    t = Tally("PERC criteria met")
    t.add("age >= 50", f"{fmt(x.age)} years", 1 if x.age >= 50 else 0)
    t.add("heart rate >= 100", f"{fmt(x.heart_rate)} /min", 1 if x.heart_rate >= 100 else 0)
    t.add("SaO2 < 95%", f"{fmt(x.spo2)}%", 1 if x.spo2 < 95 else 0)
    t.add("unilateral leg swelling", x.unilateral_leg_swelling, int(x.unilateral_leg_swelling))
    t.add("haemoptysis", x.hemoptysis, int(x.hemoptysis))
    t.add("recent surgery or trauma", x.recent_surgery_or_trauma, int(x.recent_surgery_or_trauma))
    prev = [n for n, v in (("PE", x.previous_pe), ("DVT", x.previous_dvt)) if v]
    t.add("prior PE or DVT", ", ".join(prev) or "neither", 1 if prev else 0)
    t.add("hormone use", x.hormone_use, int(x.hormone_use))
    n = t.value
    interp = ("PERC negative: PE can be ruled out without testing if pretest probability is low (< 15%)"
              if n == 0 else f"PERC positive ({n} criteria): PE cannot be ruled out by PERC")
    return Computed(n, "criteria", interp, t.finish("criteria"))


# ---------------------------------------------------------------------------------------------------------
# Caprini risk assessment model, 2005 version -- Caprini JA. Thrombosis risk assessment as a guide to quality
# patient care. Dis Mon 2005;51:70-8. doi:10.1016/j.disamonth.2005.02.003 (PMID 15900257).

CAPRINI_REF = ("Caprini JA. Thrombosis risk assessment as a guide to quality patient care. Dis Mon "
               "2005;51:70-8. doi:10.1016/j.disamonth.2005.02.003 PMID:15900257")

_SURGERY = {"none": ("no surgery", "no", "absent"),
            "minor": ("minor surgery", "minor surgery planned"),
            "major": ("major surgery", "major open surgery", "major > 45 min", "major surgery >45 min"),
            "laparoscopic": ("laparoscopic surgery", "laparoscopic > 45 min", "laparoscopy"),
            "arthroscopic": ("arthroscopic surgery", "arthroscopy"),
            "elective major lower extremity arthroplasty": ("arthroplasty", "elective arthroplasty",
                                                            "hip replacement", "knee replacement")}
_MOBILITY = {"normal": ("ambulatory", "normal mobility", "out of bed", "normal/ambulatory"),
             "bed rest": ("on bed rest", "medical patient currently at bed rest", "medical patient at bed rest"),
             "confined to bed > 72 hours": ("confined to bed >72 hours", "confined to bed > 72 h", "bedbound",
                                            "patient confined to bed (>72 hours)")}
SurgeryType = choice(_SURGERY)
Mobility = choice(_MOBILITY)


class CapriniInput(CalculatorInput):
    """Inputs of the Caprini 2005 VTE risk assessment model."""

    age: Age = param("age in years")
    sex: Sex = param("sex (the three women-only items apply to women)")
    surgery_type: SurgeryType = param("type of surgery planned/performed", aliases=("surgery type",), normal="none")
    recent_major_surgery: Finding = param("history of prior major surgery (< 1 month)",
                                          aliases=("major surgery in the last month",))
    chf_recent: Finding = param("congestive heart failure (< 1 month)",
                                aliases=("congestive heart failure in the last month",))
    sepsis_recent: Finding = param("sepsis (< 1 month)", aliases=("sepsis in the last month",))
    pneumonia_recent: Finding = param("serious lung disease incl. pneumonia (< 1 month)",
                                      aliases=("pneumonia in the last month",))
    plaster_cast: Finding = param("immobilising plaster cast (< 1 month)",
                                  aliases=("immobilizing plaster cast in the last month",))
    leg_fracture: Finding = param("hip, pelvis or leg fracture (< 1 month)",
                                  aliases=("hip, pelvis, or leg fracture in the last month",))
    stroke_recent: Finding = param("stroke (< 1 month)", aliases=("stroke in the last month",))
    multiple_trauma: Finding = param("multiple trauma (< 1 month)", aliases=("multiple trauma in the last month",))
    spinal_cord_injury: Finding = param("acute spinal cord injury with paralysis (< 1 month)",
                                        aliases=("acute spinal cord injury causing paralysis in the last month",))
    varicose_veins: Finding = param("varicose veins")
    swollen_legs: Finding = param("swollen legs (current)", aliases=("current swollen legs",))
    central_venous_access: Finding = param("central venous access", aliases=("current central venous access",))
    previous_dvt: Finding = param("history of DVT", aliases=("previously documented deep vein thrombosis",))
    previous_pe: Finding = param("history of PE", aliases=("previously documented pulmonary embolism",))
    family_history_thrombosis: Finding = param("family history of thrombosis",
                                               aliases=("family history of thrombosis",))
    factor_v_leiden: Finding = param("positive factor V Leiden", aliases=("positive factor v leiden",))
    prothrombin_20210a: Finding = param("positive prothrombin 20210A", aliases=("positive prothrombin 20210a",))
    elevated_homocysteine: Finding = param("elevated serum homocysteine", aliases=("elevated serum homocysteine",))
    lupus_anticoagulant: Finding = param("positive lupus anticoagulant", aliases=("positive lupus anticoagulant",))
    anticardiolipin_antibody: Finding = param("elevated anticardiolipin antibodies",
                                              aliases=("elevated anticardiolipin antibody",))
    heparin_induced_thrombocytopenia: Finding = param("heparin-induced thrombocytopenia (HIT)",
                                                      aliases=("heparin-induced thrombocytopenia", "hit"))
    other_thrombophilia: Finding = param("other congenital or acquired thrombophilia",
                                         aliases=("other congenital or acquired thrombophilia",))
    mobility: Mobility = param("mobility: normal, medical patient at bed rest, confined to bed > 72 h",
                               normal="normal")
    inflammatory_bowel_disease: Finding = param("history of inflammatory bowel disease",
                                                aliases=("history of inflammatory bowel disease", "ibd"))
    bmi: BodyMassIndex = param("body mass index (> 25 kg/m² counts)")
    acute_myocardial_infarction: Finding = param("acute myocardial infarction",
                                                 aliases=("acute myocardial infarction",))
    copd: Finding = param("abnormal pulmonary function (COPD)",
                          aliases=("chronic obstructive pulmonary disease", "abnormal pulmonary function"))
    malignancy: Finding = param("malignancy (present or previous)", aliases=("present or previous malignancy",))
    oral_contraceptives_or_hrt: Finding = param("oral contraceptives or hormone replacement therapy (women)")
    pregnancy_or_postpartum: Finding = param("pregnancy or postpartum < 1 month (women)")
    adverse_pregnancy_history: Finding = param(
        "history of unexplained stillborn infant, recurrent spontaneous abortion (>= 3), premature birth with "
        "toxaemia or growth-restricted infant (women)")


@calculator(
    id="caprini_vte_2005", name="Caprini Score for Venous Thromboembolism (2005)", category="risk",
    unit="points", output="integer", reference=CAPRINI_REF,
    synonyms=("caprini score", "caprini risk assessment model", "caprini vte score", "caprini 2005"),
    keywords=("venous thromboembolism", "vte prophylaxis", "surgery", "dvt prophylaxis", "thrombosis risk"),
)
def caprini_vte_2005(x: CapriniInput) -> Computed:
    """Caprini 2005 VTE risk assessment: sum of weighted risk factors."""
    women_only = [n for n, v in (("oral contraceptives/HRT", x.oral_contraceptives_or_hrt),
                                 ("pregnancy/postpartum", x.pregnancy_or_postpartum),
                                 ("adverse pregnancy history", x.adverse_pregnancy_history)) if v]
    if women_only and x.sex == "male":
        raise InputError("sex", f"the women-only items ({', '.join(women_only)}) were given for a male patient",
                         "check sex or these items")
    t = Tally("Caprini")
    # Caprini 2005 risk factor assessment form: 1, 2, 3 and 5-point items.
    t.add("age", f"{fmt(x.age)} years", 3 if x.age >= 75 else 2 if x.age >= 61 else 1 if x.age >= 41 else 0,
          "41-60: 1, 61-74: 2, >=75: 3")
    surgery_pts = {"none": 0, "minor": 1, "major": 2, "laparoscopic": 2, "arthroscopic": 2,
                   "elective major lower extremity arthroplasty": 5}[x.surgery_type]
    t.add("surgery", x.surgery_type, surgery_pts, "minor 1; major/laparoscopic > 45 min, arthroscopic 2; "
                                                  "elective major lower-extremity arthroplasty 5")
    one_point = (("prior major surgery < 1 month", x.recent_major_surgery), ("CHF < 1 month", x.chf_recent),
                 ("sepsis < 1 month", x.sepsis_recent), ("serious lung disease/pneumonia < 1 month",
                                                         x.pneumonia_recent),
                 ("varicose veins", x.varicose_veins), ("swollen legs", x.swollen_legs),
                 ("inflammatory bowel disease", x.inflammatory_bowel_disease),
                 ("acute myocardial infarction", x.acute_myocardial_infarction), ("COPD", x.copd),
                 ("oral contraceptives/HRT", x.oral_contraceptives_or_hrt),
                 ("pregnancy/postpartum", x.pregnancy_or_postpartum),
                 ("adverse pregnancy history", x.adverse_pregnancy_history))
    for name, present in one_point:
        if present:
            t.add(name, True, 1)
    t.add("obesity (BMI > 25)", f"{x.bmi:.1f} kg/m²", 1 if x.bmi > 25 else 0)
    t.add("mobility", x.mobility, {"normal": 0, "bed rest": 1, "confined to bed > 72 hours": 2}[x.mobility])
    two_point = (("malignancy (present or previous)", x.malignancy), ("plaster cast < 1 month", x.plaster_cast),
                 ("central venous access", x.central_venous_access))
    for name, present in two_point:
        if present:
            t.add(name, True, 2)
    # "History of DVT/PE" is ONE 3-point item of the 2005 form.
    prev = [n for n, v in (("DVT", x.previous_dvt), ("PE", x.previous_pe)) if v]
    if prev:
        t.add("history of DVT/PE", ", ".join(prev), 3)
    three_point = (("family history of thrombosis", x.family_history_thrombosis),
                   ("factor V Leiden", x.factor_v_leiden), ("prothrombin 20210A", x.prothrombin_20210a),
                   ("elevated homocysteine", x.elevated_homocysteine),
                   ("lupus anticoagulant", x.lupus_anticoagulant),
                   ("anticardiolipin antibodies", x.anticardiolipin_antibody),
                   ("heparin-induced thrombocytopenia", x.heparin_induced_thrombocytopenia),
                   ("other thrombophilia", x.other_thrombophilia))
    for name, present in three_point:
        if present:
            t.add(name, True, 3)
    five_point = (("hip, pelvis or leg fracture < 1 month", x.leg_fracture), ("stroke < 1 month", x.stroke_recent),
                  ("multiple trauma < 1 month", x.multiple_trauma),
                  ("acute spinal cord injury < 1 month", x.spinal_cord_injury))
    for name, present in five_point:
        if present:
            t.add(name, True, 5)
    score = t.value
    # Caprini 2005: 0-1 low, 2 moderate, 3-4 high, >= 5 highest risk.
    interp = ("low risk (0-1)" if score <= 1 else "moderate risk (2)" if score == 2 else
              "high risk (3-4)" if score <= 4 else "highest risk (>= 5)")
    return Computed(score, "points", interp, t.finish())
