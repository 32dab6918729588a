"""Units: spelling normalisation, physical dimensions and analyte-specific conversions.

Why not ``pint``: the conversions wardround needs are one multiplication each (or an offset for
temperature), and the interesting part -- analyte-specific factors such as creatinine mg/dL <-> umol/L --
is our own data either way. A lookup table keeps one conversion well under a microsecond, which the
calculator tools rely on (hundreds of calls per case), and keeps ``import wardround`` light.

Molar-mass factors follow the SI conversion tables of the AMA Manual of Style (11th ed., "Units of
Measure", SI conversion table) [reference unverified: textbook table, no PMID]. Each factor below is the
molar mass arithmetic written out so it can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wardround.errors import UnitError

# ---------------------------------------------------------------------------------------------------------
# Spelling

_MICRO = ("µ", "μ", "u", "mc")


def normalize_unit(unit: str | None) -> str:
    """Return the canonical spelling of a unit ("mg/dl" -> "mg/dL", "umol/l" -> "µmol/L", "°F" -> "F")."""
    if unit is None:
        return ""
    u = unit.strip().replace(" ", "").replace("per", "/")
    if not u:
        return ""
    low = u.lower()
    low = low.replace("μ", "µ")
    for prefix in ("mcg", "mcmol", "mcl"):
        low = low.replace(prefix, "µ" + prefix[2:])
    if low.startswith("u") and not low.startswith(("u/", "units")):
        low = "µ" + low[1:]
    low = low.replace("/ul", "/µl").replace("/mcl", "/µl")
    aliases = _SPELLINGS.get(low)
    if aliases is not None:
        return aliases
    # canonical casing for litre and decilitre
    out = low.replace("dl", "dL").replace("ml", "mL").replace("µl", "µL")
    out = out.replace("/l", "/L").replace("mmhg", "mmHg").replace("kpa", "kPa")
    out = out.replace("meq", "mEq").replace("iu", "IU").replace("µiu", "µIU")
    return out


_SPELLINGS: dict[str, str] = {
    "°c": "C", "c": "C", "degc": "C", "celsius": "C", "°celsius": "C", "degreescelsius": "C",
    "°f": "F", "f": "F", "degf": "F", "fahrenheit": "F", "degreesfahrenheit": "F",
    "k": "K", "kelvin": "K",
    "kg": "kg", "kgs": "kg", "kilogram": "kg", "kilograms": "kg",
    "g": "g", "gram": "g", "grams": "g",
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb",
    "oz": "oz", "ounce": "oz", "ounces": "oz",
    "cm": "cm", "m": "m", "mm": "mm", "in": "in", "inch": "in", "inches": "in", '"': "in",
    "ft": "ft", "feet": "ft", "foot": "ft", "'": "ft",
    "bpm": "/min", "beats/min": "/min", "/min": "/min", "breaths/min": "/min", "min-1": "/min",
    "%": "%", "percent": "%",
    "mmhg": "mmHg", "kpa": "kPa",
    "ms": "ms", "msec": "ms", "s": "s", "sec": "s",
    "mg/dl": "mg/dL", "g/dl": "g/dL", "g/l": "g/L", "mg/l": "mg/L", "µg/l": "µg/L", "ng/ml": "ng/mL",
    "ng/l": "ng/L", "pg/ml": "pg/mL", "µg/ml": "µg/mL", "µg/dl": "µg/dL",
    "mmol/l": "mmol/L", "µmol/l": "µmol/L", "mol/l": "mol/L", "nmol/l": "nmol/L", "pmol/l": "pmol/L",
    "meq/l": "mEq/L", "mosm/kg": "mOsm/kg", "mosm/kgh2o": "mOsm/kg", "mosm/l": "mOsm/L",
    "u/l": "U/L", "iu/l": "U/L", "units/l": "U/L",
    "µiu/ml": "µIU/mL", "miu/l": "mIU/L", "µu/ml": "µIU/mL", "mu/l": "mU/L",
    "ng/mlfeu": "ng/mL FEU", "µg/lfeu": "µg/L FEU", "mg/lfeu": "mg/L FEU", "µg/mlfeu": "µg/mL FEU",
    "x10^9/l": "10^9/L", "×10^9/l": "10^9/L", "10^9/l": "10^9/L", "x109/l": "10^9/L", "g/l(cells)": "10^9/L",
    "x10^3/µl": "10^3/µL", "×10^3/µl": "10^3/µL", "10^3/µl": "10^3/µL", "k/µl": "10^3/µL",
    "10³/µl": "10^3/µL", "x10³/µl": "10^3/µL", "/mm3": "/µL", "/mm³": "/µL", "cells/µl": "/µL",
    "/µl": "/µL", "x10^3/mm3": "10^3/µL", "10^3/mm3": "10^3/µL",
    "": "",
    "ratio": "", "index": "", "none": "", "1": "",
}


# ---------------------------------------------------------------------------------------------------------
# Dimensions (quantities that are not analyte concentrations)


@dataclass(frozen=True)
class Dimension:
    """A physical dimension with a canonical unit and affine conversions ``canonical = value * a + b``."""

    name: str
    canonical: str
    factors: dict[str, tuple[float, float]]

    def to_canonical(self, value: float, unit: str | None, field_name: str = "value") -> float:
        """Convert ``value`` in ``unit`` to this dimension's canonical unit."""
        u = normalize_unit(unit) if unit else self.canonical
        try:
            a, b = self.factors[u]
        except KeyError:
            raise UnitError(
                field_name,
                f"unknown unit {unit!r} for {self.name}",
                f"use one of: {', '.join(sorted(self.factors))}",
            ) from None
        return value * a + b

    def from_canonical(self, value: float, unit: str) -> float:
        """Convert a canonical value into ``unit``."""
        a, b = self.factors[normalize_unit(unit)]
        return (value - b) / a


DIMENSIONS: dict[str, Dimension] = {
    "mass": Dimension("mass", "kg", {"kg": (1.0, 0.0), "g": (1e-3, 0.0), "lb": (0.45359237, 0.0),
                                     "oz": (0.028349523125, 0.0)}),
    "length": Dimension("length", "cm", {"cm": (1.0, 0.0), "m": (100.0, 0.0), "mm": (0.1, 0.0),
                                         "in": (2.54, 0.0), "ft": (30.48, 0.0)}),
    "temperature": Dimension("temperature", "C", {"C": (1.0, 0.0), "F": (5.0 / 9.0, -32.0 * 5.0 / 9.0),
                                                  "K": (1.0, -273.15)}),
    "pressure": Dimension("pressure", "mmHg", {"mmHg": (1.0, 0.0), "kPa": (7.500617, 0.0)}),
    "rate": Dimension("rate", "/min", {"/min": (1.0, 0.0)}),
    "fraction": Dimension("fraction", "%", {"%": (1.0, 0.0), "": (100.0, 0.0)}),
    "duration_ms": Dimension("duration", "ms", {"ms": (1.0, 0.0), "s": (1000.0, 0.0)}),
}


# ---------------------------------------------------------------------------------------------------------
# Analytes


@dataclass(frozen=True)
class Analyte:
    """A laboratory analyte: canonical unit, accepted units with their factor to canonical, plausible range."""

    name: str
    canonical: str
    factors: dict[str, float]
    aliases: tuple[str, ...] = ()
    plausible: tuple[float, float] = (0.0, float("inf"))
    synonyms_unitless_ok: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def to_canonical(self, value: float, unit: str | None, field_name: str | None = None) -> float:
        """Convert ``value`` in ``unit`` to the canonical unit; unknown units raise ``UnitError``."""
        u = normalize_unit(unit) if unit is not None else self.canonical
        if u == "" and self.canonical != "":
            u = self.canonical
        try:
            factor = self.factors[u]
        except KeyError:
            raise UnitError(
                field_name or self.name,
                f"unknown unit {unit!r} for {self.name}",
                f"use one of: {', '.join(sorted(k for k in self.factors if k) or ['(no unit)'])}",
            ) from None
        return value * factor

    def from_canonical(self, value: float, unit: str) -> float:
        """Convert a canonical value into ``unit``."""
        return value / self.factors[normalize_unit(unit)]

    def check_plausible(self, canonical_value: float, field_name: str | None = None) -> None:
        """Raise ``UnitError`` when a canonical value is physiologically impossible (often a unit mix-up)."""
        lo, hi = self.plausible
        if not lo <= canonical_value <= hi:
            raise UnitError(
                field_name or self.name,
                f"{self.name} {canonical_value:g} {self.canonical} is outside the possible range {lo:g}-{hi:g}",
                "check the value and its unit",
            )


def _mm(molar_mass_g_per_mol: float) -> float:
    """mg/dL per mmol/L for a molar mass: 1 mmol/L = M mg/L = M/10 mg/dL."""
    return molar_mass_g_per_mol / 10.0


# canonical <- unit factors. For "mg/dL canonical" analytes, mmol/L factor = M/10.
_CREAT = 113.12  # creatinine C4H7N3O
_GLUC = 180.156  # glucose C6H12O6
_UREA_N = 28.014  # BUN is reported as urea *nitrogen* (2 N per urea)
_CA = 40.078
_CHOL = 386.65
_TG = 885.7  # triolein, the conventional triglyceride molar mass
_BILI = 584.66
_MG = 24.305
_LACT = 90.08
_PHOS = 30.974

ANALYTES: dict[str, Analyte] = {}


def _add(a: Analyte) -> None:
    ANALYTES[a.name] = a


_add(Analyte("creatinine", "mg/dL", {"mg/dL": 1.0, "µmol/L": _mm(_CREAT) / 1000.0, "mmol/L": _mm(_CREAT),
                                       "mg/L": 0.1},
             aliases=("cr", "creat", "serum creatinine", "scr", "s-cr"), plausible=(0.05, 30.0)))
_add(Analyte("glucose", "mg/dL", {"mg/dL": 1.0, "mmol/L": _mm(_GLUC), "g/L": 100.0},
             aliases=("glu", "blood glucose", "serum glucose", "blood sugar", "plasma glucose", "glycemia",
                      "glycaemia", "fasting glucose", "fasting plasma glucose", "fasting blood glucose", "fpg",
                      "fbg", "random glucose", "glucose level", "fasting blood sugar"),
             plausible=(5.0, 3000.0)))
_add(Analyte("bun", "mg/dL", {"mg/dL": 1.0, "mmol/L": _mm(_UREA_N)},
             aliases=("blood urea nitrogen", "urea nitrogen", "urea", "serum urea", "blood urea"),
             plausible=(0.5, 400.0),
             extra={"note": "urea in mmol/L equals urea nitrogen in mmol/L (one urea carries two N)"}))
_add(Analyte("calcium", "mg/dL", {"mg/dL": 1.0, "mmol/L": _mm(_CA), "mEq/L": _mm(_CA) / 2.0},
             aliases=("ca", "serum calcium", "total calcium", "ca2+"), plausible=(2.0, 25.0)))
_add(Analyte("total_cholesterol", "mg/dL", {"mg/dL": 1.0, "mmol/L": _mm(_CHOL)},
             aliases=("cholesterol", "total cholesterol", "tc", "chol", "t-chol", "serum cholesterol"),
             plausible=(20.0, 2000.0)))
_add(Analyte("hdl_cholesterol", "mg/dL", {"mg/dL": 1.0, "mmol/L": _mm(_CHOL)},
             aliases=("hdl", "hdl-c", "hdl cholesterol", "high-density lipoprotein", "high density lipoprotein",
                      "high-density lipoprotein cholesterol", "high density lipoprotein cholesterol"),
             plausible=(2.0, 300.0)))
_add(Analyte("ldl_cholesterol", "mg/dL", {"mg/dL": 1.0, "mmol/L": _mm(_CHOL)},
             aliases=("ldl", "ldl-c", "ldl cholesterol", "low-density lipoprotein", "low density lipoprotein",
                      "low-density lipoprotein cholesterol", "low density lipoprotein cholesterol"),
             plausible=(2.0, 1500.0)))
_add(Analyte("triglycerides", "mg/dL", {"mg/dL": 1.0, "mmol/L": _mm(_TG)},
             aliases=("tg", "triglyceride", "trig", "tgs"), plausible=(5.0, 20000.0)))
_add(Analyte("albumin", "g/dL", {"g/dL": 1.0, "g/L": 0.1, "mg/dL": 0.001},
             aliases=("alb", "serum albumin", "albumin level"), plausible=(0.3, 8.0)))
_add(Analyte("total_bilirubin", "mg/dL", {"mg/dL": 1.0, "µmol/L": _mm(_BILI) / 1000.0, "mmol/L": _mm(_BILI)},
             aliases=("bilirubin", "total bilirubin", "tbil", "t. bili", "bili", "t-bil", "t.bil", "t-bili",
                      "serum bilirubin"), plausible=(0.0, 80.0)))
_add(Analyte("sodium", "mmol/L", {"mmol/L": 1.0, "mEq/L": 1.0},
             aliases=("na", "na+", "serum sodium", "serum na", "natremia", "sodium level"),
             plausible=(90.0, 200.0)))
_add(Analyte("potassium", "mmol/L", {"mmol/L": 1.0, "mEq/L": 1.0},
             aliases=("k", "k+", "serum potassium", "kalemia"), plausible=(1.0, 12.0)))
_add(Analyte("chloride", "mmol/L", {"mmol/L": 1.0, "mEq/L": 1.0},
             aliases=("cl", "cl-", "serum chloride", "cl−", "chloride level"), plausible=(50.0, 160.0)))
_add(Analyte("bicarbonate", "mmol/L", {"mmol/L": 1.0, "mEq/L": 1.0},
             aliases=("hco3", "hco3-", "bicarb", "tco2", "co2", "total co2", "serum bicarbonate", "hco3−",
                      "hco₃", "hco₃−", "hco₃-", "serum co2", "carbon dioxide", "standard bicarbonate",
                      "actual bicarbonate"),
             plausible=(1.0, 60.0)))
_add(Analyte("magnesium", "mg/dL", {"mg/dL": 1.0, "mmol/L": _mm(_MG), "mEq/L": _mm(_MG) / 2.0},
             aliases=("mg", "serum magnesium"), plausible=(0.2, 15.0)))
_add(Analyte("phosphate", "mg/dL", {"mg/dL": 1.0, "mmol/L": _mm(_PHOS)},
             aliases=("phosphorus", "phos", "po4"), plausible=(0.2, 25.0)))
_add(Analyte("lactate", "mmol/L", {"mmol/L": 1.0, "mg/dL": 1.0 / _mm(_LACT)},
             aliases=("lactic acid", "serum lactate"), plausible=(0.1, 40.0)))
_add(Analyte("hemoglobin", "g/dL", {"g/dL": 1.0, "g/L": 0.1, "mmol/L": 1.6114},
             aliases=("hb", "hgb", "haemoglobin", "hemoglobin level"), plausible=(1.0, 25.0)))
_add(Analyte("hematocrit", "%", {"%": 1.0, "": 100.0, "L/L": 100.0},
             aliases=("hct", "haematocrit", "pcv", "packed cell volume"), plausible=(5.0, 80.0)))
_add(Analyte("wbc", "10^9/L", {"10^9/L": 1.0, "10^3/µL": 1.0, "/µL": 1e-3},
             aliases=("white blood cells", "white blood cell count", "white cell count", "leukocytes", "wcc",
                      "wbc count", "white blood cell", "leukocyte count", "leucocyte count", "leucocytes",
                      "leukocytosis", "total leukocyte count", "tlc", "white count"),
             plausible=(0.05, 500.0)))
_add(Analyte("platelets", "10^9/L", {"10^9/L": 1.0, "10^3/µL": 1.0, "/µL": 1e-3},
             aliases=("plt", "platelet count", "platelet", "plts", "thrombocytes"), plausible=(1.0, 3000.0)))
_add(Analyte("inr", "", {"": 1.0}, aliases=("international normalized ratio", "pt-inr", "pt/inr", "pt inr"),
             plausible=(0.5, 20.0)))
_add(Analyte("troponin", "ng/mL", {"ng/mL": 1.0, "µg/L": 1.0, "ng/L": 1e-3, "pg/mL": 1e-3},
             aliases=("troponin i", "troponin t", "tni", "tnt", "hs-troponin", "ctni", "ctnt", "hs-ctnt",
                      # high-sensitivity assays as reports and notes name them
                      "hs-tni", "hs-ctni", "hstni", "hsctni", "hs tni", "hs ctni", "hs-tnt", "hstnt", "hsctnt",
                      "hs tnt", "hs ctnt", "hs-troponin i", "hs-troponin t", "hs troponin i", "hs troponin t",
                      "hs-troponin-i", "hs-troponin-t", "hs troponin", "high-sensitivity troponin",
                      "high sensitivity troponin", "high-sensitivity troponin i", "high sensitivity troponin i",
                      "high-sensitivity troponin t", "high sensitivity troponin t",
                      "high-sensitivity cardiac troponin i", "high sensitivity cardiac troponin i",
                      "high-sensitivity cardiac troponin t", "high sensitivity cardiac troponin t",
                      "cardiac troponin", "cardiac troponin i", "cardiac troponin t", "tn-i", "tn-t",
                      "troponin-i", "troponin-t", "trop i", "trop t"),
             plausible=(0.0, 1000.0)))
_add(Analyte("ast", "U/L", {"U/L": 1.0}, aliases=("aspartate aminotransferase", "sgot",
                                                  "aspartate transaminase", "got"), plausible=(1.0, 50000.0)))
_add(Analyte("alt", "U/L", {"U/L": 1.0}, aliases=("alanine aminotransferase", "sgpt", "alanine transaminase",
                                                  "gpt"), plausible=(1.0, 50000.0)))
_add(Analyte("lipase", "U/L", {"U/L": 1.0}, aliases=("serum lipase",), plausible=(1.0, 100000.0)))
_add(Analyte("amylase", "U/L", {"U/L": 1.0}, aliases=("serum amylase",), plausible=(1.0, 100000.0)))
_add(Analyte("crp", "mg/L", {"mg/L": 1.0, "mg/dL": 10.0}, aliases=("c-reactive protein",),
             plausible=(0.0, 1000.0)))
_add(Analyte("procalcitonin", "ng/mL", {"ng/mL": 1.0, "µg/L": 1.0}, aliases=("pct",), plausible=(0.0, 1000.0)))
_add(Analyte("d_dimer", "ng/mL", {"ng/mL": 1.0, "µg/L": 1.0, "mg/L": 1000.0, "µg/mL": 1000.0,
                                  # the same mass units with the fibrinogen-equivalent label laboratories print
                                  "ng/mL FEU": 1.0, "µg/L FEU": 1.0, "mg/L FEU": 1000.0, "µg/mL FEU": 1000.0},
             aliases=("d-dimer", "ddimer", "d dimer"), plausible=(0.0, 100000.0),
             extra={"note": "units are FEU or DDU as reported; wardround does not convert between them"}))
_add(Analyte("bnp", "pg/mL", {"pg/mL": 1.0, "ng/L": 1.0}, aliases=("b-type natriuretic peptide", "nt-probnp",
                                                                   "probnp"), plausible=(0.0, 100000.0)))
_add(Analyte("csf_wbc", "/µL", {"/µL": 1.0, "10^9/L": 1000.0, "10^3/µL": 1000.0},
             aliases=("csf white cells", "csf wbc", "csf leukocytes"), plausible=(0.0, 1e6)))
_add(Analyte("csf_glucose", "mg/dL", {"mg/dL": 1.0, "mmol/L": _mm(_GLUC)}, aliases=("csf glucose",),
             plausible=(0.0, 1000.0)))
_add(Analyte("csf_protein", "mg/dL", {"mg/dL": 1.0, "g/L": 100.0}, aliases=("csf protein",),
             plausible=(0.0, 5000.0)))
_add(Analyte("ph", "", {"": 1.0}, aliases=("arterial ph", "blood ph"), plausible=(6.5, 8.0)))
_add(Analyte("pao2", "mmHg", {"mmHg": 1.0, "kPa": 7.500617}, aliases=("po2", "partial pressure of oxygen",
                                                                      "pao₂", "arterial oxygen tension",
                                                                      "arterial partial pressure of oxygen"),
             plausible=(10.0, 700.0)))
_add(Analyte("paco2", "mmHg", {"mmHg": 1.0, "kPa": 7.500617}, aliases=("pco2", "paco₂",
                                                                       "partial pressure of carbon dioxide",
                                                                       "arterial carbon dioxide tension"),
             plausible=(5.0, 200.0)))
_add(Analyte("insulin", "µIU/mL", {"µIU/mL": 1.0, "mIU/L": 1.0, "pmol/L": 1 / 6.0},
             aliases=("fasting insulin", "serum insulin", "insulin level"), plausible=(0.1, 2000.0),
             extra={"note": "1 µIU/mL = 6.0 pmol/L (WHO IRP 66/304 convention) [reference unverified]"}))
_add(Analyte("ammonia", "µmol/L", {"µmol/L": 1.0, "µg/dL": 0.5872}, aliases=("nh3",), plausible=(1.0, 2000.0)))
_add(Analyte("urine_sodium", "mmol/L", {"mmol/L": 1.0, "mEq/L": 1.0}, aliases=("urine na", "urinary sodium",
                                                                               "una", "urine na+",
                                                                               "spot urine sodium"),
             plausible=(1.0, 400.0)))
_add(Analyte("urine_creatinine", "mg/dL", {"mg/dL": 1.0, "µmol/L": _mm(_CREAT) / 1000.0,
                                           "mmol/L": _mm(_CREAT)},
             aliases=("urine cr", "urinary creatinine", "ucr", "spot urine creatinine"),
             plausible=(1.0, 1000.0)))

# Analytes of the acute take beyond the core panels (toxicology, endocrine, haematology, rheumatology). Drug
# levels are named "<drug>_level" so that a dose in a medication list ("lithium 400 mg") is never read as a level.
_PARACETAMOL = 151.163
_SALICYLIC = 138.121
_URATE = 168.11
_CORTISOL = 362.46
_T4 = 776.87
_add(Analyte("ck", "U/L", {"U/L": 1.0}, aliases=("creatine kinase", "cpk", "creatine phosphokinase",
                                                               "total ck", "serum ck"), plausible=(1.0, 2000000.0)))
_add(Analyte("beta_hydroxybutyrate", "mmol/L", {"mmol/L": 1.0, "mg/dL": 1 / 10.41},
             aliases=("beta-hydroxybutyrate", "bhb", "b-hydroxybutyrate", "β-hydroxybutyrate", "blood ketones",
                      "capillary ketones", "serum ketones"), plausible=(0.0, 30.0)))
_add(Analyte("tsh", "mIU/L", {"mIU/L": 1.0, "µIU/mL": 1.0, "mU/L": 1.0},  # mU/L: the UK laboratory spelling
             aliases=("thyroid stimulating hormone", "thyroid-stimulating hormone", "thyrotropin"),
             plausible=(0.0, 1000.0)))
_add(Analyte("free_t4", "ng/dL", {"ng/dL": 1.0, "pmol/L": _T4 / 1e4},
             aliases=("ft4", "free thyroxine", "free t4"), plausible=(0.0, 20.0)))
_add(Analyte("cortisol", "µg/dL", {"µg/dL": 1.0, "nmol/L": _CORTISOL / 1e4},
             aliases=("serum cortisol", "random cortisol", "morning cortisol"), plausible=(0.0, 500.0)))
_add(Analyte("hcg", "U/L", {"U/L": 1.0, "mIU/mL": 1.0},  # IU/L is read as U/L
             aliases=("beta-hcg", "beta hcg", "b-hcg", "bhcg", "β-hcg", "serum hcg", "quantitative hcg"),
             plausible=(0.0, 2000000.0)))
_add(Analyte("paracetamol_level", "mg/L", {"mg/L": 1.0, "µg/mL": 1.0, "mg/dL": 10.0,
                                           "µmol/L": _PARACETAMOL / 1000.0, "mmol/L": _PARACETAMOL},
             aliases=("paracetamol concentration", "serum paracetamol", "acetaminophen level",
                      "acetaminophen concentration", "serum acetaminophen", "apap level"), plausible=(0.0, 2000.0)))
_add(Analyte("salicylate_level", "mg/dL", {"mg/dL": 1.0, "mg/L": 0.1, "mmol/L": _mm(_SALICYLIC)},
             aliases=("salicylate concentration", "serum salicylate", "aspirin level"), plausible=(0.0, 200.0)))
_add(Analyte("lithium_level", "mmol/L", {"mmol/L": 1.0, "mEq/L": 1.0},
             aliases=("serum lithium", "lithium concentration"), plausible=(0.0, 20.0)))
_DIGOXIN = 780.94
_add(Analyte("digoxin_level", "ng/mL", {"ng/mL": 1.0, "µg/L": 1.0, "nmol/L": _DIGOXIN / 1000.0},
             aliases=("serum digoxin", "digoxin concentration", "plasma digoxin"), plausible=(0.0, 50.0)))
_add(Analyte("carboxyhemoglobin", "%", {"%": 1.0}, aliases=("cohb", "carboxyhaemoglobin", "cohb level"),
             plausible=(0.0, 100.0)))
_add(Analyte("ldh", "U/L", {"U/L": 1.0}, aliases=("lactate dehydrogenase",), plausible=(1.0, 100000.0)))
_add(Analyte("uric_acid", "mg/dL", {"mg/dL": 1.0, "mmol/L": _mm(_URATE), "µmol/L": _mm(_URATE) / 1000.0},
             aliases=("urate", "serum urate", "serum uric acid"), plausible=(0.1, 50.0)))
_add(Analyte("esr", "mm/h", {"mm/h": 1.0, "mm/hr": 1.0}, aliases=("erythrocyte sedimentation rate",
                                                                    "sed rate"), plausible=(0.0, 200.0)))
_add(Analyte("neutrophils", "10^9/L", {"10^9/L": 1.0, "10^3/µL": 1.0, "/µL": 1e-3},
             aliases=("absolute neutrophil count", "anc", "neutrophil count"), plausible=(0.0, 200.0)))
_add(Analyte("fibrinogen", "mg/dL", {"mg/dL": 1.0, "g/L": 100.0}, aliases=("plasma fibrinogen",),
             plausible=(1.0, 2000.0)))


#: Names of related tests, derived values and drugs that contain an analyte's name but are NOT that analyte
#: ("creatinine clearance 40" is not a creatinine, "potassium chloride 20 mEq" is a treatment). They resolve to
#: no analyte, and a note reader that meets one does not take its number for the analyte.
NOT_ANALYTES: tuple[str, ...] = (
    "corrected calcium", "ionized calcium", "ionised calcium", "ica", "direct bilirubin", "conjugated bilirubin",
    "indirect bilirubin", "unconjugated bilirubin", "hba1c", "glycated hemoglobin", "hemoglobin a1c",
    "mean corpuscular hemoglobin", "mch", "mchc", "creatinine clearance", "crcl", "egfr", "urine osmolality",
    "urine potassium", "urine chloride", "urine glucose", "sodium bicarbonate", "potassium chloride",
    "calcium gluconate", "calcium carbonate", "calcium chloride", "magnesium sulfate", "sodium chloride",
    "normal saline", "urine albumin", "albumin/creatinine", "albumin-to-creatinine", "base excess", "anion gap",
    "osmolality", "serum osmolality", "osmolal gap", "glucose tolerance", "insulin glargine", "insulin lispro",
    "insulin aspart", "regular insulin", "insulin infusion", "insulin drip",
    # body-fluid chemistry is not blood chemistry ("pleural fluid glucose 1.1 mmol/L" is not hypoglycaemia)
    "pleural fluid glucose", "pleural glucose", "pleural fluid ph", "pleural ph", "pleural fluid protein",
    "pleural fluid ldh", "pleural ldh", "ascitic fluid glucose", "ascitic glucose", "ascitic fluid protein",
    "ascitic protein", "ascitic albumin", "synovial fluid glucose", "synovial glucose", "urine ph", "urinary ph",
    "ascitic neutrophils", "ascitic fluid neutrophils", "ascitic pmn", "ascitic polymorphs", "ascitic wcc",
    "pleural fluid neutrophils", "pleural neutrophils", "synovial neutrophils", "synovial fluid neutrophils",
    "csf neutrophils", "csf polymorphs",
    "peritoneal fluid glucose",
)


def _alias_table() -> dict[str, str | None]:
    table: dict[str, str | None] = {}
    for a in ANALYTES.values():
        table[a.name.replace("_", " ")] = a.name
        for alias in a.aliases:
            table[alias.lower()] = a.name
    for name in NOT_ANALYTES:
        table.setdefault(name, None)
    return table


ANALYTE_ALIASES: dict[str, str | None] = _alias_table()
"""The one analyte alias table: lower-case name or alias -> canonical analyte name, ``None`` for a look-alike.

Built from ``ANALYTES`` (each analyte's name and ``aliases``) and ``NOT_ANALYTES``; ``find_analyte``, the note
reader (``wardround.extract.facts``) and the calculators' input names all read it.
"""


def find_analyte(name: str) -> Analyte | None:
    """Resolve a lab name or alias ("Cr", "serum creatinine", "HCO3-") to its ``Analyte`` or ``None``."""
    key = " ".join(name.strip().lower().replace("_", " ").split())
    hit = ANALYTE_ALIASES.get(key)
    if hit is None:
        hit = ANALYTE_ALIASES.get(key.replace("serum ", "").replace("plasma ", "").replace("blood ", ""))
    return ANALYTES.get(hit) if hit else None


def to_canonical(analyte: str, value: float, unit: str | None, field_name: str | None = None) -> float:
    """Convert an analyte value to its canonical unit, raising ``UnitError`` for unknown analytes or units."""
    a = find_analyte(analyte)
    if a is None:
        raise UnitError(field_name or analyte, f"unknown analyte {analyte!r}",
                        "use a known lab name such as creatinine, glucose, sodium")
    return a.to_canonical(value, unit, field_name)


# ---------------------------------------------------------------------------------------------------------
# Appended for the clinical calculators: ages, dosing frequencies, and the unit spellings that clinical
# datasets use in words ("beats per minute", "mm hg", "degrees fahrenheit", including common misspellings).

DIMENSIONS["age"] = Dimension("age", "years", {"years": (1.0, 0.0), "months": (1.0 / 12.0, 0.0),
                                               "weeks": (7.0 / 365.25, 0.0), "days": (1.0 / 365.25, 0.0)})
DIMENSIONS["frequency"] = Dimension("frequency", "/day", {"/day": (1.0, 0.0)})
DIMENSIONS["dose"] = Dimension("dose", "mg", {"mg": (1.0, 0.0), "g": (1000.0, 0.0), "µg": (1e-3, 0.0)})
DIMENSIONS["volume_rate"] = Dimension("volume_rate", "mL/day", {"mL/day": (1.0, 0.0), "L/day": (1000.0, 0.0),
                                                                "mL/h": (24.0, 0.0)})
DIMENSIONS["bmi"] = Dimension("bmi", "kg/m²", {"kg/m²": (1.0, 0.0)})

_SPELLINGS.update({
    "beats/minute": "/min", "beat/min": "/min", "beats/min.": "/min", "breaths/minute": "/min",
    "breath/min": "/min", "/minute": "/min", "rpm": "/min",
    "years": "years", "year": "years", "yr": "years", "yrs": "years", "y": "years", "yo": "years",
    "years/old": "years",
    "months": "months", "month": "months", "mo": "months", "mos": "months",
    "weeks": "weeks", "week": "weeks", "wk": "weeks", "wks": "weeks",
    "days": "days", "day": "days", "d": "days",
    "/day": "/day", "/d": "/day", "times/day": "/day", "timesaday": "/day", "doses/day": "/day", "x/day": "/day",
    "mmhg.": "mmHg", "mm/hg": "mmHg", "torr": "mmHg",
    "degreesc": "C", "degreec": "C", "degreecelsius": "C", "degreescelcius": "C", "celcius": "C",
    "degreescelsisus": "C",
    "degreesf": "F", "degreef": "F", "degreefahrenheit": "F", "degreesfahreinheit": "F", "fahreinheit": "F",
    "milliseconds": "ms", "millisecond": "ms",
    "µg": "µg", "mg": "mg", "milligrams": "mg", "milligram": "mg",
    "kg/m2": "kg/m²", "kg/m^2": "kg/m²", "kg/m²": "kg/m²",
    "ml/day": "mL/day", "ml/24h": "mL/day", "ml/24hr": "mL/day", "l/day": "L/day", "ml/h": "mL/h",
    "ml/hr": "mL/h",
})

# Sodium is occasionally reported in mg/dL (1 mmol/L = 22.99 mg/L = 2.299 mg/dL).
ANALYTES["sodium"].factors["mg/dL"] = 1.0 / 2.299
_SPELLINGS["l/l"] = "L/L"  # haematocrit as a fraction

# Cell counts per litre (e.g. 9.4 × 10^9 written out as 9400000000 /L).
for _count in ("wbc", "platelets"):
    ANALYTES[_count].factors["/L"] = 1e-9


# ---------------------------------------------------------------------------------------------------------
# Troponin: the assay's 99th-percentile upper reference limit (URL)

#: 99th-percentile upper reference limits in ng/L of the two most used high-sensitivity assays, single
#: (sex-independent) thresholds from the manufacturers' package inserts: Abbott ARCHITECT STAT hs-cTnI 26 ng/L,
#: Roche Elecsys hs-cTnT 14 ng/L (as tabulated in Heart (BMJ), table "99th centile = the upper reference limit",
#: https://heart.bmj.com/ -- primary package inserts [reference unverified]). They are ASSAY-SPECIFIC: a
#: laboratory's own URL, where known, replaces them.
TROPONIN_URL_NG_L: dict[str, float] = {"troponin i": 26.0, "troponin t": 14.0}


def troponin_assay(name: str) -> str | None:
    """``"troponin i"``/``"troponin t"`` from a lab name ("hs-cTnI", "troponin T", "hsTnT"), else ``None``."""
    compact = "".join(ch for ch in name.lower() if ch.isalnum())
    if compact.endswith(("tni", "troponini", "tropi")):
        return "troponin i"
    if compact.endswith(("tnt", "troponint", "tropt")):
        return "troponin t"
    return None


def troponin_url(name: str) -> tuple[float, str]:
    """The URL (ng/L) used for a troponin named ``name`` and a note saying which one and why."""
    assay = troponin_assay(name)
    if assay is not None:
        url = TROPONIN_URL_NG_L[assay]
        return url, f"99th-percentile URL {url:g} ng/L (hs-cTn{assay[-1].upper()}, assay-specific)"
    url = min(TROPONIN_URL_NG_L.values())
    return url, (f"assay (I or T) not stated: the lower 99th-percentile URL {url:g} ng/L (hs-cTnT) is used, "
                 "which can only raise the multiple")
