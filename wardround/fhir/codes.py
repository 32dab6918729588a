"""Code tables of the FHIR reader: LOINC vital signs and laboratory tests, UCUM unit spellings, smoking status.

LOINC codes of vital signs are those of the FHIR R4 vital-signs value set
(http://hl7.org/fhir/R4/valueset-observation-vitalsignresult.html: 8867-4, 9279-1, 8480-6, 8462-4, 85354-9,
8310-5, 2708-6, 59408-5, 29463-7, 8302-2). Laboratory codes were checked against the LOINC long names carried
by the Synthea sample bundles (blood codes) and published FHIR value sets (serum/plasma codes); the few marked
``unverified`` were not found in a checked source here. Codes wardround does not know are listed as case
issues by the reader, never dropped in silence.
"""

from __future__ import annotations

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"

#: LOINC code -> Vitals field of the case.
VITAL_CODES: dict[str, str] = {
    "8867-4": "heart_rate",
    "9279-1": "respiratory_rate",
    "8480-6": "systolic_bp",
    "8462-4": "diastolic_bp",
    "8310-5": "temperature_c",   # body temperature
    "8331-1": "temperature_c",   # oral temperature (Synthea)
    "59408-5": "spo2",           # oxygen saturation by pulse oximetry
    "2708-6": "spo2",            # oxygen saturation in arterial blood (the FHIR vital-signs code)
    "29463-7": "weight_kg",
    "8302-2": "height_cm",
    "9269-2": "gcs",             # Glasgow coma score total [unverified]
}

#: Panels whose components carry vital signs (blood pressure).
PANEL_CODES: frozenset[str] = frozenset({"85354-9", "55284-4", "85353-1"})

#: The dimension of ``wardround.units.DIMENSIONS`` each vital is converted in, and its canonical unit.
VITAL_DIMENSIONS: dict[str, tuple[str | None, str]] = {
    "heart_rate": ("rate", "/min"), "respiratory_rate": ("rate", "/min"), "systolic_bp": ("pressure", "mmHg"),
    "diastolic_bp": ("pressure", "mmHg"), "temperature_c": ("temperature", "C"), "spo2": ("fraction", "%"),
    "weight_kg": ("mass", "kg"), "height_cm": ("length", "cm"), "gcs": (None, ""),
}

#: LOINC code -> analyte of ``wardround.units.ANALYTES``.
LAB_CODES: dict[str, str] = {
    # blood codes (Synthea) with their LOINC long names in the data
    "2339-0": "glucose", "6299-2": "bun", "38483-4": "creatinine", "49765-1": "calcium", "2947-0": "sodium",
    "6298-4": "potassium", "2069-3": "chloride", "20565-8": "bicarbonate", "2093-3": "total_cholesterol",
    "2085-9": "hdl_cholesterol", "18262-6": "ldl_cholesterol", "2571-8": "triglycerides", "718-7": "hemoglobin",
    "4544-3": "hematocrit", "6690-2": "wbc", "777-3": "platelets",
    # serum or plasma codes (published laboratory value sets)
    "2345-7": "glucose", "3094-0": "bun", "2160-0": "creatinine", "17861-6": "calcium", "2951-2": "sodium",
    "2823-3": "potassium", "19123-9": "magnesium", "1751-7": "albumin", "1975-2": "total_bilirubin",
    "1920-8": "ast", "1742-6": "alt", "3040-3": "lipase", "3016-3": "tsh",
    # [unverified] common codes not found in a checked source here
    "2075-0": "chloride", "2028-9": "bicarbonate", "1988-5": "crp", "2524-7": "lactate", "6301-6": "inr",
    "10839-9": "troponin", "1798-8": "amylase", "2157-6": "ck", "33959-8": "procalcitonin",
    "48065-7": "d_dimer", "30934-4": "bnp", "2777-1": "phosphate",
}

#: The name a lab of each analyte gets in the case (the name ``wardround.units.find_analyte`` resolves).
LAB_NAMES: dict[str, str] = {"crp": "CRP", "bun": "BUN", "wbc": "WBC", "ast": "AST", "alt": "ALT", "inr": "INR",
                             "tsh": "TSH", "bnp": "BNP", "ck": "CK", "d_dimer": "D-dimer"}

#: UCUM codes -> the unit spelling of ``wardround.units`` (codes that read the same are not listed).
UCUM_UNITS: dict[str, str] = {
    "Cel": "C", "[degF]": "F", "K": "K", "mm[Hg]": "mmHg", "kPa": "kPa", "/min": "/min", "{beats}/min": "/min",
    "{breaths}/min": "/min", "%": "%", "kg": "kg", "g": "g", "[lb_av]": "lb", "[oz_av]": "oz", "cm": "cm",
    "m": "m", "mm": "mm", "[in_i]": "in", "[ft_i]": "ft", "10*3/uL": "10^3/µL", "10*9/L": "10^9/L",
    "10*3/mm3": "10^3/µL", "/uL": "/µL", "/mm3": "/µL", "mg/dL": "mg/dL", "g/dL": "g/dL", "g/L": "g/L",
    "mg/L": "mg/L", "ug/L": "µg/L", "ng/mL": "ng/mL", "ng/L": "ng/L", "pg/mL": "pg/mL", "ug/mL": "µg/mL",
    "ug/dL": "µg/dL", "mmol/L": "mmol/L", "umol/L": "µmol/L", "nmol/L": "nmol/L", "pmol/L": "pmol/L",
    "meq/L": "mEq/L", "mEq/L": "mEq/L", "U/L": "U/L", "[IU]/L": "U/L", "m[IU]/L": "mIU/L", "u[IU]/mL": "µIU/mL",
    "mU/L": "mU/L", "{score}": "", "1": "", "{ratio}": "", "{INR}": "", "mg/L{FEU}": "mg/L FEU",
    "ug/mL{FEU}": "µg/mL FEU", "ng/mL{FEU}": "ng/mL FEU",
}

#: SNOMED smoking-status codes (LOINC 72166-2) -> a history item; the IPS smoking-status value set.
SMOKING_LOINC = "72166-2"
SMOKING_HISTORY: dict[str, str] = {
    "8517006": "former smoker", "77176002": "current smoker", "449868002": "current smoker (daily)",
    "428041000124106": "current smoker (occasional)", "230063004": "current smoker (heavy)",
    "230060001": "current smoker (light)",
}
#: Smoking-status codes that say the patient does not smoke: read, and no history item is made of them.
NON_SMOKING: dict[str, str] = {"266919005": "never smoker", "266927001": "smoking status unknown"}
