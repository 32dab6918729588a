"""Prices of an encounter: a replaceable test price table and a per-visit charge for question rounds.

The default table is read from a path the user gives, for example the Dx0 lookup ``cpt_lookup.csv`` (columns
``test_name, cpt_code, price``; MIT). Its prices are approximate: whole dollars with no stated source, roughly
1.5x the Medicare laboratory fee schedule at the median, with known code mix-ups. They are fit for comparing
doctors with one another, not for billing. The table is never copied into this repository.

Question rounds are billed as a physician visit, as SDBench bills them (Nori et al. 2025, "Sequential Diagnosis
with Language Models", arXiv:2506.22405). ``DEFAULT_VISIT_FEE_USD`` = 300 follows that paper's description of a
visit; the figure is unverified here (not re-read from the paper's text), so it is a parameter.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from wardround.encounters.models import QUESTION_KINDS, Action
from wardround.errors import InputError

DEFAULT_VISIT_FEE_USD = 300.0
"""Charge per question round (SDBench's physician visit; unverified figure, see the module docstring)."""
PRICES_APPROXIMATE = ("test prices are approximate (whole-dollar estimates without a stated source); use them to "
                      "compare strategies, not as charges")


def normalise_test_name(name: str) -> str:
    """Lower-case, single-spaced test name used as the lookup key."""
    return re.sub(r"\s+", " ", str(name).strip().casefold())


class PriceTable(BaseModel):
    """Test prices in US$ by normalised test name, plus the per-visit charge of a question round."""

    model_config = ConfigDict(extra="forbid")

    tests: dict[str, float] = Field(default_factory=dict)
    codes: dict[str, str] = Field(default_factory=dict, description="normalised test name -> CPT code")
    visit_fee_usd: float = Field(DEFAULT_VISIT_FEE_USD, ge=0)
    unpriced_test_usd: float | None = Field(None, ge=0, description="price of a test missing from the table; "
                                                                     "None = charge 0 and flag it")
    source: str = ""
    note: str = PRICES_APPROXIMATE

    def price(self, action: Action) -> tuple[float, str | None]:
        """(cost in US$, a warning or None) of one action: a visit for questions, the table for tests."""
        if action.kind in QUESTION_KINDS:
            return self.visit_fee_usd, None
        if action.kind == "order_test":
            key = normalise_test_name(action.target)
            if key in self.tests:
                return self.tests[key], None
            if self.unpriced_test_usd is not None:
                return self.unpriced_test_usd, f"test {action.target!r} is not in the price table"
            return 0.0, f"test {action.target!r} is not in the price table; charged $0"
        return 0.0, None


def load_price_table(path: str | Path, visit_fee_usd: float = DEFAULT_VISIT_FEE_USD,
                     unpriced_test_usd: float | None = None) -> PriceTable:
    """Read a CSV price table with columns ``test_name, price`` (``cpt_code`` optional) from ``path``.

    A name listed twice keeps its first price (the Dx0 table lists a few codes twice at different prices).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("prices", f"{str(p)!r} does not exist",
                         "give the path of a CSV with columns test_name, cpt_code, price")
    tests: dict[str, float] = {}
    codes: dict[str, str] = {}
    with p.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        if "test_name" not in header or "price" not in header:
            raise InputError("prices", f"{p.name} has columns {header}, not test_name and price",
                             "use a CSV with columns test_name, cpt_code, price")
        for n, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            name = normalise_test_name(row.get("test_name", ""))
            if not name:
                continue
            try:
                price = float(row["price"])
            except ValueError:
                raise InputError(f"prices line {n}: price", "not a number", "write the price in US$, e.g. 9.0",
                                 row["price"]) from None
            if price < 0:
                raise InputError(f"prices line {n}: price", "negative price", "write a price >= 0", price)
            tests.setdefault(name, price)
            if row.get("cpt_code"):
                codes.setdefault(name, row["cpt_code"])
    return PriceTable(tests=tests, codes=codes, visit_fee_usd=visit_fee_usd, unpriced_test_usd=unpriced_test_usd,
                      source=str(p.resolve()))
