"""Pydantic models of the shipped knowledge base: specialties, findings, conditions, likelihood ratios.

Every model is frozen and forbids unknown keys, so a typo in a data file fails loudly at load time.
How the numbers are used (Bayes in odds form) is described in docs/knowledge.md.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from wardround.units import ANALYTES

_MODEL = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

SNAKE_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
#: ICD-10 (WHO and ICD-10-CM): letter, two characters (digit, digit or A/B for some chapters), optional
#: dot and up to four more characters (ICD-10-CM extensions such as S72.001A).
ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9AB](?:\.[0-9A-Z]{1,4})?$")
#: A primary reference: a PubMed id, a DOI, or an explicit "unverified: <source>" when no id was confirmed.
REFERENCE = re.compile(r"^(?:PMID:[1-9][0-9]{0,8}|DOI:10\.[0-9]{4,9}/\S+|unverified: \S.*)$")
RESERVED_PREFIXES = frozenset({"E", "AT", "HR"})

Op = Literal[">", ">=", "<", "<="]
#: What a finding is for the reasoning core: a ``finding`` must be explained by the diagnosis (it counts against a
#: hypothesis that does not explain it); ``nonspecific`` findings (tachycardia, nausea, malaise) accompany most acute
#: illness and count neither way when unexplained; ``risk_factor`` (history, exposures, medications),
#: ``demographic`` and ``normal_result`` (a normal ECG) carry likelihood ratios but need no explanation.
FindingRole = Literal["finding", "nonspecific", "risk_factor", "demographic", "normal_result"]
VitalField = Literal["heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate", "temperature_c", "spo2", "gcs"]


def compare(value: float, op: str, threshold: float) -> bool:
    """Return ``value <op> threshold`` for one of the comparison operators used by the rules."""
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    if op == "<":
        return value < threshold
    if op == "<=":
        return value <= threshold
    if op == "==":
        return value == threshold
    raise ValueError(f"unknown operator {op!r}")


def _check_reference(value: str) -> str:
    if not value or not REFERENCE.match(value):
        raise ValueError(
            f"malformed reference {value!r}: write 'PMID:<digits>', 'DOI:10.<registrant>/<suffix>' "
            "or 'unverified: <guideline or textbook, year>'")
    return value


class Reference(BaseModel):
    """One entry of the reference registry: the citation text behind a ``PMID:``/``DOI:`` key."""

    model_config = _MODEL

    key: str = Field(description="the reference string used in the data files, e.g. 'PMID:9786377'")
    citation: str = Field(min_length=10, description="authors, title, journal, year")
    pmid: str | None = None
    doi: str | None = None
    url: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        return _check_reference(v)


class Specialty(BaseModel):
    """A clinical specialty that triage can route to; ``prefix`` names its evidence ids (``CA3``)."""

    model_config = _MODEL

    id: str = Field(pattern=SNAKE_ID.pattern)
    name: str = Field(min_length=2)
    prefix: str = Field(pattern=r"^[A-Z]{1,3}$")
    description: str = Field(min_length=5)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if v in RESERVED_PREFIXES:
            raise ValueError(f"prefix {v!r} is reserved ({', '.join(sorted(RESERVED_PREFIXES))}); choose another")
        return v


class VitalRule(BaseModel):
    """A finding read from a vital sign: ``field op value`` (units of ``wardround.case.Vitals``)."""

    model_config = _MODEL

    field: VitalField
    op: Op
    value: float

    def matches(self, measured: float) -> bool:
        """Whether a measured vital satisfies the rule."""
        return compare(measured, self.op, self.value)


class LabRule(BaseModel):
    """A finding read from a lab result, in the canonical unit of ``analyte`` (``wardround.units.ANALYTES``)."""

    model_config = _MODEL

    analyte: str
    op: Op
    value: float

    @field_validator("analyte")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in ANALYTES:
            raise ValueError(f"unknown analyte {v!r}; use a canonical name from wardround.units.ANALYTES "
                             f"such as {', '.join(sorted(ANALYTES)[:6])}, ...")
        return v

    @property
    def unit(self) -> str:
        """The canonical unit the threshold is written in."""
        return ANALYTES[self.analyte].canonical

    def matches(self, canonical_value: float) -> bool:
        """Whether a lab value (already in the canonical unit) satisfies the rule."""
        return compare(canonical_value, self.op, self.value)


class DemographicRule(BaseModel):
    """A finding read from the demographics: ``age op years`` or ``sex == male|female``."""

    model_config = _MODEL

    field: Literal["age", "sex"]
    op: Literal[">", ">=", "<", "<=", "=="]
    value: float | str

    @model_validator(mode="after")
    def _consistent(self) -> DemographicRule:
        if self.field == "sex":
            if self.op != "==" or self.value not in ("male", "female"):
                raise ValueError("a sex rule is written as op '==' with value 'male' or 'female'")
        elif isinstance(self.value, str) or self.op == "==":
            raise ValueError("an age rule needs a numeric value and one of the operators >, >=, <, <=")
        return self

    def matches(self, age: float | None = None, sex: str | None = None) -> bool | None:
        """Whether the demographics satisfy the rule; ``None`` when the needed field is unknown."""
        if self.field == "sex":
            if sex not in ("male", "female"):
                return None
            return sex == self.value
        if age is None:
            return None
        return compare(age, self.op, float(self.value))


class Finding(BaseModel):
    """A clinical finding: how to detect it (note phrases, vitals, labs, demographics, history) and where it points."""

    model_config = _MODEL

    id: str = Field(pattern=SNAKE_ID.pattern)
    name: str = Field(min_length=2)
    patterns: list[str] = Field(default_factory=list)
    specialties: dict[str, float] = Field(default_factory=dict)
    vital: VitalRule | None = None
    lab: LabRule | None = None
    demographic: DemographicRule | None = None
    history: list[str] = Field(default_factory=list)
    role: FindingRole | None = Field(None, description="see FindingRole; default: demographic for a demographic "
                                                       "rule, risk_factor for a history-only finding, else finding")
    refer: list[str] = Field(default_factory=list, description="who should see a patient in whom this finding "
                                                               "stays unexplained (specialty names, any service)")
    accounts_for: list[str] = Field(default_factory=list, description="findings that this known condition explains "
                                    "by itself when present (a history of atrial fibrillation, an irregular pulse)")

    @property
    def kind(self) -> FindingRole:
        """The finding's role, with the default derived from its sources."""
        if self.role is not None:
            return self.role
        if self.demographic is not None:
            return "demographic"
        if self.history and not (self.patterns or self.vital or self.lab):
            return "risk_factor"
        return "finding"

    @property
    def salient(self) -> bool:
        """Whether a diagnosis must explain this finding when it is present (see FindingRole)."""
        return self.kind == "finding"

    @field_validator("patterns", "history")
    @classmethod
    def _lower_phrases(cls, v: list[str]) -> list[str]:
        for phrase in v:
            if not phrase.strip():
                raise ValueError("empty phrase; remove it")
            if phrase != phrase.lower():
                raise ValueError(f"phrase {phrase!r} must be lower case (matching is case-insensitive)")
            if phrase != " ".join(phrase.split()):
                raise ValueError(f"phrase {phrase!r} has extra whitespace; use single spaces")
        return v

    @field_validator("specialties")
    @classmethod
    def _affinity(cls, v: dict[str, float]) -> dict[str, float]:
        for key, weight in v.items():
            if not 0.0 < weight <= 1.0:
                raise ValueError(f"triage affinity for {key!r} is {weight}; use a number in (0, 1]")
        return v

    @model_validator(mode="after")
    def _has_source(self) -> Finding:
        if not (self.patterns or self.vital or self.lab or self.demographic or self.history):
            raise ValueError("a finding needs at least one source: patterns, vital, lab, demographic or history")
        return self


class FindingLR(BaseModel):
    """Likelihood ratios of one finding for one condition, with the primary reference they come from."""

    model_config = _MODEL

    lr_pos: float | None = Field(None, gt=0, description="LR when the finding is present")
    lr_neg: float | None = Field(None, gt=0, description="LR when the finding is explicitly absent")
    reference: str

    @field_validator("reference")
    @classmethod
    def _reference(cls, v: str) -> str:
        return _check_reference(v)

    @model_validator(mode="after")
    def _one_lr(self) -> FindingLR:
        if self.lr_pos is None and self.lr_neg is None:
            raise ValueError("give lr_pos, lr_neg or both")
        return self


class Condition(BaseModel):
    """A diagnosis: ICD-10 code, pre-test probability in a stated population, findings with likelihood ratios."""

    model_config = _MODEL

    id: str = Field(pattern=SNAKE_ID.pattern)
    name: str = Field(min_length=2)
    icd10: str
    specialty: str
    aliases: list[str] = Field(default_factory=list)
    prior: float = Field(gt=0.0, lt=1.0)
    prior_context: str = Field(min_length=5)
    prior_reference: str
    findings: dict[str, FindingLR] = Field(min_length=1)
    #: Findings that place a patient in the population ``prior`` describes (chest pain for ACS, haematemesis or
    #: melaena for upper GI bleeding). When given, the condition is a candidate only if one of them is present.
    presenting: list[str] = Field(default_factory=list)
    #: Findings the condition commonly causes but for which no discriminating likelihood ratio is recorded
    #: (hypoxaemia in pneumonia). They count as explained by the condition (likelihood ratio 1), so the reasoning
    #: core does not count them against it; they never raise its probability.
    explains: list[str] = Field(default_factory=list)
    #: Conditions this one can arise from (sepsis from pneumonia or a urinary tract infection): the findings a
    #: source explains are explained by this condition too, so the source's cough or dysuria do not count
    #: against it (a linked pair, as INTERNIST-1 links a disease to its causes); the report names the source.
    sources: list[str] = Field(default_factory=list)
    #: Ages (years, inclusive; ``None``: open) and sex of the population the prior describes. The shipped priors
    #: describe adults; a condition is not a candidate for a patient outside its population (an acute coronary
    #: syndrome in an infant), whatever the findings. Unknown age or sex fits.
    ages: tuple[float | None, float | None] = (18, None)
    sex: Literal["female", "male"] | None = None
    next_steps: list[str] = Field(default_factory=list)
    calculators: list[str] = Field(default_factory=list)
    references: list[str] = Field(min_length=1)

    def fits(self, age: float | None, sex: str | None) -> bool:
        """Whether a patient of ``age`` and ``sex`` belongs to the population of the prior (unknown fits)."""
        low, high = self.ages
        if age is not None and ((low is not None and age < low) or (high is not None and age > high)):
            return False
        return not (self.sex and sex in ("female", "male") and sex != self.sex)

    def explains_finding(self, finding_id: str) -> bool:
        """Whether a present ``finding_id`` is accounted for by this condition (LR+ > 1, presenting or listed)."""
        return finding_id in self._explained

    @cached_property
    def _explained(self) -> frozenset[str]:
        """The ids ``explains_finding`` accepts, computed once: the reasoning core asks for every finding of every
        case against every condition."""
        positive = {fid for fid, lr in self.findings.items() if lr.lr_pos is not None and lr.lr_pos > 1.0}
        return frozenset(positive | set(self.presenting) | set(self.explains))

    @cached_property
    def expected(self) -> frozenset[str]:
        """Findings the condition accounts for on its own: those of ``explains_finding`` and those whose recorded
        likelihood ratio is only for their absence (LR- < 1: the condition expects them)."""
        absent_only = {fid for fid, lr in self.findings.items()
                       if lr.lr_pos is None and lr.lr_neg is not None and lr.lr_neg < 1.0}
        return self._explained | absent_only

    @field_validator("icd10")
    @classmethod
    def _icd10(cls, v: str) -> str:
        if not ICD10.match(v):
            raise ValueError(f"{v!r} is not an ICD-10 code; write a letter, two digits and an optional "
                             "dot and subcode, e.g. I21.9")
        return v

    @field_validator("prior_reference")
    @classmethod
    def _prior_reference(cls, v: str) -> str:
        return _check_reference(v)

    @field_validator("references")
    @classmethod
    def _references(cls, v: list[str]) -> list[str]:
        for ref in v:
            _check_reference(ref)
        return v
