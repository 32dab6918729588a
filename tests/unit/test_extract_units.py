"""Units, measurements, dates and medications read from invented note sentences (no dataset rows)."""

from __future__ import annotations

import datetime as dt

import pytest

from wardround.extract.anthropometrics import extract_bmi, extract_height, extract_target_bmi, extract_weight
from wardround.extract.dates import (
    extract_dates,
    extract_durations,
    find_current_date,
    find_cycle_length,
    find_last_menstrual_period,
)
from wardround.extract.facts import extract_labs, extract_measurements, extract_vitals
from wardround.extract.medications import extract_medications


def _labs(text):
    return {f.name: round(f.canonical_value, 3) for f in extract_labs(text)}


def test_lab_si_units_convert_to_canonical():
    labs = _labs("Creatinine of 106 µmol/L, bilirubin 34.2 umol/L, albumin 30 g/L and Hb 98 g/L.")
    assert labs["creatinine"] == pytest.approx(1.2, abs=0.01)
    assert labs["total_bilirubin"] == pytest.approx(2.0, abs=0.01)
    assert labs["albumin"] == pytest.approx(3.0, abs=0.01)
    assert labs["hemoglobin"] == pytest.approx(9.8, abs=0.01)


def test_lab_unit_inferred_from_magnitude_when_missing():
    assert _labs("Cr 1.4.")["creatinine"] == 1.4
    facts = [f for f in extract_labs("Creatinine 124.") if f.name == "creatinine"]
    assert facts[0].unit == "µmol/L" and facts[0].canonical_value == pytest.approx(1.40, abs=0.01)
    assert _labs("Glucose 7.2.")["glucose"] == pytest.approx(129.7, abs=0.2)
    assert _labs("Albumin 28.")["albumin"] == pytest.approx(2.8)


def test_cell_counts_in_every_notation():
    assert _labs("WBC 12,500/mm3")["wbc"] == 12.5
    assert _labs("white blood cell count of 9.1 x 10^9/L")["wbc"] == 9.1
    assert _labs("platelets 85 x10^3/uL")["platelets"] == 85
    assert _labs("platelet count 240,000 cells/µL")["platelets"] == 240


def test_trend_takes_first_value_with_the_unit_written_last():
    f = extract_labs("Her creatinine rose from 0.9 to 2.7 mg/dL over two days.")[0]
    assert (f.name, f.value, f.unit) == ("creatinine", 0.9, "mg/dL")


def test_list_of_labs_with_shared_verb():
    labs = _labs("Serum sodium, potassium and chloride were 131, 5.2 and 97 mmol/L respectively.")
    assert labs == {"sodium": 131, "potassium": 5.2, "chloride": 97}


def test_lab_table_rows():
    labs = _labs("Sodium | 139 | mmol/L\nBicarbonate | 18 | mmol/L\nUrea | 9.8 | mmol/L")
    assert labs["sodium"] == 139 and labs["bicarbonate"] == 18
    assert labs["bun"] == pytest.approx(27.45, abs=0.1)


def test_treatments_and_related_tests_are_not_lab_values():
    labs = _labs("Given potassium chloride 40 mEq, sodium bicarbonate 50 mEq, insulin 8 units; creatinine "
                 "clearance 35 mL/min; HbA1c 8.1%.")
    assert labs == {}


def test_vitals_bare_units_and_labels():
    v = {f.name: f.canonical_value for f in extract_vitals(
        "He was febrile at 39.1 °C with a pulse of 118 beats per minute, 24 breaths per minute, "
        "blood pressure 96/58 mm Hg and 89% on room air.")}
    assert v == {"temperature_c": 39.1, "heart_rate": 118, "respiratory_rate": 24, "systolic_bp": 96,
                 "diastolic_bp": 58, "spo2": 89}


def test_measurements_gcs_fio2_qt():
    m = {f.name: f.canonical_value for f in extract_measurements(
        "GCS 9/15, FiO2 0.6, QT interval 410 ms, QTc 460 msec, urine output 20 mL/h.")}
    assert m["gcs"] == 9 and m["fio2"] == 60 and m["qt_interval"] == 410 and m["qtc_interval"] == 460
    assert m["urine_output"] == 480


@pytest.mark.parametrize(("text", "kg"), [("He weighed 180 lbs.", 81.65), ("weight: 72.5 kg", 72.5),
                                         ("a 64-kg woman", 64.0), ("Body weight of 3200 g at birth", 3.2)])
def test_weights(text, kg):
    assert extract_weight(text)[0].canonical_value == pytest.approx(kg, abs=0.01)


def test_weight_change_is_not_a_weight():
    assert extract_weight("She lost 8 kg over a month.") == []


@pytest.mark.parametrize(("text", "cm"), [("5'9\"", 175.26), ("5 ft 2 in tall", 157.48), ("height 1.82 m", 182.0),
                                         ("She is 160 cm tall.", 160.0), ("height of 66 inches", 167.64)])
def test_heights(text, cm):
    assert extract_height(text)[0].canonical_value == pytest.approx(cm, abs=0.01)


def test_bmi_and_target_bmi_are_told_apart():
    text = "BMI 31.4 kg/m2; the target BMI is 25 kg/m^2."
    assert [f.value for f in extract_bmi(text)] == [31.4]
    assert [f.value for f in extract_target_bmi(text)] == [25.0]


def test_dates_lmp_cycle_today():
    text = "Her last menstrual period was on 03/07/2023. Her cycle length is 31 days. Today's date is 2023-05-02."
    assert find_last_menstrual_period(text).date == dt.date(2023, 3, 7)
    assert find_cycle_length(text).days == 31
    assert find_current_date(text).date == dt.date(2023, 5, 2)
    assert [d.date for d in extract_dates("seen on July 4, 2021 and 5 March 2020")] == [dt.date(2021, 7, 4),
                                                                                       dt.date(2020, 3, 5)]


def test_durations():
    d = extract_durations("Sore throat for two days; surgery 3 weeks ago.")
    assert (d[0].days, d[0].ago) == (2.0, False)
    assert (d[1].days, d[1].ago) == (21.0, True)


def test_medications_dose_route_frequency():
    meds = {m.drug: m for m in extract_medications(
        "Takes oxycodone 5 mg PO q4h, 25 mg of tramadol twice a day and a fentanyl patch 50 mcg/hr; "
        "prednisone 40 mg daily.")}
    assert (meds["oxycodone"].dose, meds["oxycodone"].route, meds["oxycodone"].per_day) == (5.0, "PO", 6.0)
    assert (meds["tramadol"].dose, meds["tramadol"].per_day) == (25.0, 2.0)
    assert meds["fentanyl_patch"].dose == 50.0 and "/h" in meds["fentanyl_patch"].dose_unit
    assert meds["prednisone"].drug_class == "glucocorticoid" and meds["prednisone"].per_day == 1.0


def test_negated_medication():
    m = extract_medications("She takes no NSAIDs.")[0]
    assert m.drug_class == "nsaid" and m.context.negated


def test_body_fluid_chemistry_is_not_read_as_blood_chemistry():
    facts = extract_labs("Aspirate: pleural fluid glucose 1.1 mmol/L, pleural fluid pH 7.0; ascitic fluid protein "
                         "9 g/L. Serum glucose 6.2 mmol/L.")
    assert [f.name for f in facts] == ["glucose"]
    assert facts[0].value == 6.2 and facts[0].canonical_value == pytest.approx(111.7, abs=0.1)


def test_laboratory_spellings_of_tsh_and_fibrinogen_equivalent_d_dimer():
    from wardround.units import UnitError, to_canonical

    assert to_canonical("tsh", 0.05, "mU/L") == pytest.approx(0.05)  # UK reports: mU/L = mIU/L
    assert to_canonical("d_dimer", 1.8, "mg/L FEU") == pytest.approx(1800.0)
    assert to_canonical("d_dimer", 0.6, "µg/mL FEU") == pytest.approx(600.0)
    assert to_canonical("d_dimer", 650, "ng/mL FEU") == pytest.approx(650.0)
    with pytest.raises(UnitError, match="d_dimer"):
        to_canonical("d_dimer", 300, "ng/mL DDU")  # D-dimer units are not converted to fibrinogen equivalents
