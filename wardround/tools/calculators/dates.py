"""Pregnancy dating calculators (MedCalc-Bench category "date"): due date, conception date, gestational age."""

from __future__ import annotations

import calendar
import datetime as dt

from wardround.errors import InputError
from wardround.tools.calculators.base import (
    CalculatorInput,
    Computed,
    DateInput,
    calculator,
    choice,
    number,
    param,
)

CycleLength = number(20, 45, unit="days", label="menstrual cycle length", also=("d", "day"))

_ACOG = ("American College of Obstetricians and Gynecologists. Committee Opinion No. 700: Methods for "
         "estimating the due date. Obstet Gynecol 2017;129:e150-e154 [reference unverified: PMID not checked]")


def _add_months(d: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic, clamping the day to the end of the target month."""
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


class ConceptionInput(CalculatorInput):
    """Inputs of the estimated date of conception."""

    last_menstrual_period: DateInput = param("first day of the last menstrual period",
                                             aliases=("last menstrual date", "lmp", "last menstrual period"))
    cycle_length: CycleLength = param("usual menstrual cycle length in days", default=28,
                                      aliases=("cycle length", "menstrual cycle length"))


class DueDateInput(ConceptionInput):
    """Inputs of the estimated due date."""

    method: choice({"naegele": ["naegele's rule", "calendar"], "280_days": ["280 days", "40 weeks"]}) = param(
        "naegele: LMP + 7 days − 3 months + 1 year (default); 280_days: LMP + 280 days; both then + (cycle − 28) "
        "days", default="naegele")


@calculator(
    id="estimated_due_date", name="Estimated Due Date", category="date", unit="date", output="date",
    synonyms=("estimated due date", "edd", "naegele's rule", "due date", "estimated date of delivery"),
    keywords=("pregnancy", "obstetrics", "last menstrual period"),
    reference="Naegele's rule (Naegele FC, Lehrbuch der Geburtshülfe, 1830s) with the cycle-length adjustment "
              "(modified Naegele rule) [no PMID]; " + _ACOG,
)
def estimated_due_date(x: DueDateInput) -> Computed:
    """Naegele: LMP + 7 days − 3 months + 1 year (or LMP + 280 days), then + (cycle length − 28) days."""
    if x.method == "naegele":
        base = _add_months(x.last_menstrual_period + dt.timedelta(days=7), 9)
        how = "+ 7 days − 3 months + 1 year"
    else:
        base = x.last_menstrual_period + dt.timedelta(days=280)
        how = "+ 280 days"
    shift = int(round(x.cycle_length)) - 28
    due = base + dt.timedelta(days=shift)
    return Computed(due.isoformat(), "date", "", [
        f"{x.last_menstrual_period.isoformat()} {how} = {base.isoformat()}",
        f"cycle length {x.cycle_length:g} days: shift {shift:+d} days → due date {due.isoformat()}"])


@calculator(
    id="estimated_conception_date", name="Estimated of Conception", category="date", unit="date", output="date",
    synonyms=("estimated date of conception", "conception date", "date of conception", "estimated conception"),
    keywords=("pregnancy", "ovulation", "last menstrual period"),
    reference="Ovulation about 14 days before the next menses (constant luteal phase): Wilcox AJ, Dunson D, "
              "Baird DD. The timing of the 'fertile window' in the menstrual cycle. BMJ 2000;321:1259-62 "
              "[reference unverified]",
)
def estimated_conception_date(x: ConceptionInput) -> Computed:
    """Conception ≈ ovulation = LMP + (cycle length − 14) days (LMP + 14 days for a 28-day cycle)."""
    days = int(round(x.cycle_length)) - 14
    d = x.last_menstrual_period + dt.timedelta(days=days)
    return Computed(d.isoformat(), "date", "", [
        f"ovulation ≈ cycle length − 14 = {days} days after the LMP",
        f"{x.last_menstrual_period.isoformat()} + {days} days = {d.isoformat()}"])


class GestationalAgeInput(CalculatorInput):
    """Inputs of the gestational age by dates."""

    last_menstrual_period: DateInput = param("first day of the last menstrual period",
                                             aliases=("last menstrual date", "lmp", "last menstrual period"))
    current_date: DateInput = param("the date at which gestational age is wanted",
                                    aliases=("current date", "today", "date"))


@calculator(
    id="estimated_gestational_age", name="Estimated Gestational Age", category="date", unit="weeks+days",
    output="weeks_days", synonyms=("gestational age", "estimated gestational age", "weeks of gestation"),
    keywords=("pregnancy", "obstetrics", "last menstrual period"), reference=_ACOG,
)
def estimated_gestational_age(x: GestationalAgeInput) -> Computed:
    """Gestational age = days from the LMP to the current date, as completed weeks + days."""
    total = (x.current_date - x.last_menstrual_period).days
    if total < 0:
        raise InputError("current_date", "is before the last menstrual period",
                         "check the two dates (current date must be on or after the LMP)",
                         value=x.current_date.isoformat())
    if total > 320:
        raise InputError("current_date", f"is {total} days after the LMP, beyond any pregnancy (> 45 weeks)",
                         "check the two dates", value=x.current_date.isoformat())
    weeks, days = divmod(total, 7)
    band = "first trimester" if weeks < 14 else "second trimester" if weeks < 28 else "third trimester"
    return Computed(f"{weeks}+{days}", "weeks+days", band, [
        f"{x.current_date.isoformat()} − {x.last_menstrual_period.isoformat()} = {total} days = {weeks} weeks "
        f"{days} days"], parts={"weeks": weeks, "days": days, "total_days": total})
