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
    over: str | None = Field(None, description="a second analyte: the rule is on the ratio analyte/over of the two "
                                               "canonical values (e.g. AST/ALT > 1.5)")

    @field_validator("analyte", "over")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v not in ANALYTES:
            raise ValueError(f"unknown analyte {v!r}; use a canonical name from wardround.units.ANALYTES "
                             f"such as {', '.join(sorted(ANALYTES)[:6])}, ...")
        return v

    @property
    def unit(self) -> str:
        """The canonical unit the threshold is written in (none for a ratio of two analytes)."""
        return "" if self.over else ANALYTES[self.analyte].canonical

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


class BaseRate(BaseModel):
    """How often a finding occurs in a stated comparison population (patients presenting with the complaint who
    do not have the condition), from a cited source: the denominator of a frequency-based likelihood ratio."""

    model_config = _MODEL

    value: float = Field(gt=0.0, lt=1.0, description="share of the population showing the finding")
    population: str = Field(min_length=5)
    reference: str

    @field_validator("reference")
    @classmethod
    def _reference(cls, v: str) -> str:
        return _check_reference(v)


class Finding(BaseModel):
    """A clinical finding: how to detect it (note phrases, vitals, labs, demographics, history) and where it points."""

    model_config = _MODEL

    id: str = Field(pattern=SNAKE_ID.pattern)
    name: str = Field(min_length=2)
    patterns: list[str] = Field(default_factory=list)
    absent_patterns: list[str] = Field(default_factory=list, description="note phrases that record the finding as "
                                       "explicitly absent in one word ('non-smoker', 'never smoked', 'teetotal')")
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
    base_rate: BaseRate | None = Field(None, description="the finding's frequency in the comparison population, "
                                       "used by frequency-based evidence that gives no base rate of its own")

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

    @field_validator("patterns", "absent_patterns", "history")
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


EvidenceKind = Literal["likelihood_ratio", "sensitivity_specificity", "frequency", "estimate"]


class FindingLR(BaseModel):
    """Evidence of one finding for one condition, with its primary reference, in one of three published forms.

    - ``lr_pos``/``lr_neg``: likelihood ratios from a diagnostic-accuracy study;
    - ``sens``/``spec``: sensitivity and specificity, from which LR+ = sens/(1-spec), LR- = (1-sens)/spec;
    - ``frequency`` (+ ``base_rate``): where no accuracy study exists, the finding's frequency in the condition
      from a case series and its frequency in the comparison population (``base_rate`` here or on the finding):
      LR+ = f/b, LR- = (1-f)/(1-b). The loader fills ``base_rate`` from the finding when it is left out.
    An ``unverified:`` reference marks an estimate with no published source.
    """

    model_config = _MODEL

    lr_pos: float | None = Field(None, gt=0, description="LR when the finding is present")
    lr_neg: float | None = Field(None, gt=0, description="LR when the finding is explicitly absent")
    sens: float | None = Field(None, gt=0.0, lt=1.0, description="sensitivity of the finding for the condition")
    spec: float | None = Field(None, gt=0.0, lt=1.0, description="specificity of the finding for the condition")
    frequency: float | None = Field(None, gt=0.0, lt=1.0, description="share of patients with the condition "
                                    "showing the finding (case series)")
    base_rate: float | None = Field(None, gt=0.0, lt=1.0, description="share of the comparison population "
                                    "showing the finding")
    reference: str
    base_reference: str | None = Field(None, description="source of base_rate")

    @field_validator("reference", "base_reference")
    @classmethod
    def _reference(cls, v: str | None) -> str | None:
        return None if v is None else _check_reference(v)

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, raw: object) -> object:
        """Compute the likelihood ratios of sensitivity/specificity and frequency evidence."""
        if not isinstance(raw, dict):
            return raw
        has_lr = raw.get("lr_pos") is not None or raw.get("lr_neg") is not None
        has_ss = raw.get("sens") is not None or raw.get("spec") is not None
        has_freq = raw.get("frequency") is not None
        if has_lr + has_ss + has_freq > 1:
            raise ValueError("give one kind of evidence: lr_pos/lr_neg, sens/spec, or frequency (+ base_rate)")
        if has_ss:
            if raw.get("sens") is None or raw.get("spec") is None:
                raise ValueError("sensitivity evidence needs both sens and spec (numbers strictly between 0 and 1)")
            sens, spec = float(raw["sens"]), float(raw["spec"])
            if 0 < sens < 1 and 0 < spec < 1:
                raw = {**raw, "lr_pos": round(sens / (1 - spec), 4), "lr_neg": round((1 - sens) / spec, 4)}
        elif has_freq and raw.get("base_rate") is not None:
            if raw.get("base_reference") is None:
                raise ValueError("a base_rate needs its base_reference (the study of the comparison population)")
            f, b = float(raw["frequency"]), float(raw["base_rate"])
            if 0 < f < 1 and 0 < b < 1:
                raw = {**raw, "lr_pos": round(f / b, 4), "lr_neg": round((1 - f) / (1 - b), 4)}
        return raw

    @model_validator(mode="after")
    def _one_lr(self) -> FindingLR:
        if self.lr_pos is None and self.lr_neg is None and self.frequency is None:
            raise ValueError("give lr_pos, lr_neg or both; sens and spec; or frequency with base_rate")
        return self

    @property
    def kind(self) -> EvidenceKind:
        """What the value rests on (an ``unverified:`` reference makes it an estimate, whatever its form)."""
        if self.reference.startswith("unverified:") or (self.base_reference or "").startswith("unverified:"):
            return "estimate"
        if self.sens is not None:
            return "sensitivity_specificity"
        if self.frequency is not None:
            return "frequency"
        return "likelihood_ratio"

    def with_base_rate(self, base: BaseRate) -> FindingLR:
        """This frequency evidence completed with the finding's documented base rate."""
        return FindingLR.model_validate({**self.model_dump(exclude_none=True), "base_rate": base.value,
                                         "base_reference": base.reference})


class CriteriaGroup(BaseModel):
    """One clause of a published definition: at least ``min`` of the findings ``of`` must be present."""

    model_config = _MODEL

    label: str = Field(min_length=2)
    min: int = Field(1, ge=1)
    of: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _reachable(self) -> CriteriaGroup:
        if self.min > len(self.of):
            raise ValueError(f"group {self.label!r} asks for {self.min} of {len(self.of)} findings; lower min")
        return self


class Criteria(BaseModel):
    """A published definition or classification of a condition (ADA DKA, NIAID/FAAN anaphylaxis, ...).

    Every group must be satisfied. ``definitional`` criteria define the condition: met, it is present; a group
    that its explicitly absent findings make unreachable excludes it. Classification criteria with a published
    accuracy (``sens``/``spec``) weigh as one likelihood ratio instead of their items' own.
    """

    model_config = _MODEL

    name: str = Field(min_length=3)
    reference: str
    definitional: bool = True
    sens: float | None = Field(None, gt=0.0, lt=1.0)
    spec: float | None = Field(None, gt=0.0, lt=1.0)
    groups: list[CriteriaGroup] = Field(min_length=1)

    @field_validator("reference")
    @classmethod
    def _reference(cls, v: str) -> str:
        return _check_reference(v)

    @model_validator(mode="after")
    def _accuracy(self) -> Criteria:
        if not self.definitional and (self.sens is None or self.spec is None):
            raise ValueError(f"criteria {self.name!r} are not definitional: give their published sens and spec")
        return self

    @property
    def items(self) -> list[str]:
        """Every finding the criteria name, in order."""
        return list(dict.fromkeys(fid for g in self.groups for fid in g.of))

    @property
    def lr_pos(self) -> float | None:
        """LR of met classification criteria (``None`` for definitional ones)."""
        return None if self.sens is None or self.spec is None else self.sens / (1 - self.spec)

    @property
    def lr_neg(self) -> float | None:
        """LR of classification criteria assessed in full and not met."""
        return None if self.sens is None or self.spec is None else (1 - self.sens) / self.spec


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
    #: Per-finding evidence. May be empty for a condition recognised by its presenting findings or its published
    #: criteria alone (the prior in the presenting population then carries it; no number is invented).
    findings: dict[str, FindingLR] = Field(default_factory=dict)
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
    #: Published definitions or classification criteria (alternatives: any one met suffices); see ``Criteria``.
    criteria: list[Criteria] = Field(default_factory=list)
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
        defining = {fid for c in self.criteria for fid in c.items}
        return frozenset(positive | set(self.presenting) | set(self.explains) | defining)

    @cached_property
    def expected(self) -> frozenset[str]:
        """Findings the condition accounts for on its own: those of ``explains_finding`` and those whose recorded
        likelihood ratio is only for their absence (LR- < 1: the condition expects them)."""
        absent_only = {fid for fid, lr in self.findings.items()
                       if lr.lr_pos is None and lr.lr_neg is not None and lr.lr_neg < 1.0}
        return self._explained | absent_only

    @field_validator("findings", mode="before")
    @classmethod
    def _no_findings(cls, v: object) -> object:
        """``findings:`` followed only by comments reads as null in YAML: take it as no per-finding values."""
        return {} if v is None else v

    @field_validator("presenting", "explains", "criteria", mode="before")
    @classmethod
    def _no_items(cls, v: object) -> object:
        """A list key followed only by comments reads as null in YAML: take it as empty."""
        return [] if v is None else v

    @model_validator(mode="after")
    def _has_evidence(self) -> Condition:
        if not (self.findings or self.presenting or self.criteria):
            raise ValueError("a condition needs per-finding evidence (findings), presenting findings or criteria")
        return self

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
