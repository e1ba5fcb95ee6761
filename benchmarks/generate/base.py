"""What every part of the generator shares: the sizes, the reference prices and names, and the
borough being loaded (its seeded random streams)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

from brokerage.recharges import month_start
from commissioning import roles
from commissioning.models import Organisation, Partnership

PENNY = Decimal("0.01")


@dataclass(frozen=True)
class Size:
    boroughs: int
    clients: int
    packages: int
    open_referrals: int
    providers: int
    schedules: int  # per borough, in agreements of ten
    boards: int
    meeting_months: int = 24
    history_months: int = 36


SIZES = {
    "tiny": Size(
        boroughs=1,
        clients=40,
        packages=70,
        open_referrals=12,
        providers=6,
        schedules=2,
        boards=2,
        meeting_months=4,
        history_months=14,
    ),
    "borough": Size(
        boroughs=1, clients=5000, packages=8000, open_referrals=600, providers=40, schedules=40, boards=30
    ),
    "region": Size(
        boroughs=10, clients=5000, packages=8000, open_referrals=600, providers=40, schedules=40, boards=30
    ),
}

SERVICES = {
    # service type: (unit rate in the first year, unit, (fewest, most) units a week)
    "domiciliary": (Decimal("21.50"), "hour", (7, 28)),
    "residential": (Decimal("780.00"), "week", (1, 1)),
    "nursing": (Decimal("960.00"), "week", (1, 1)),
    "supported_living": (Decimal("19.80"), "hour", (20, 45)),
    "childrens_placement": (Decimal("3650.00"), "week", (1, 1)),
    "direct_payment": (Decimal("16.20"), "hour", (6, 20)),
    "other": (Decimal("95.00"), "night", (1, 4)),
}
COHORT_SERVICES = {
    "adult_social_care": ["domiciliary", "residential", "direct_payment"],
    "children_looked_after": ["childrens_placement"],
    "continuing_healthcare": ["nursing", "domiciliary"],
    "childrens_continuing_care": ["childrens_placement", "other"],
    "section_117": ["supported_living", "residential"],
    "other": ["other", "domiciliary"],
}
GIVEN = [
    "Ada",
    "Amir",
    "Beatrice",
    "Chidi",
    "Doreen",
    "Emeka",
    "Fatima",
    "George",
    "Hana",
    "Ivan",
    "Joan",
    "Kwame",
    "Lena",
    "Malik",
    "Nora",
]
FAMILY = [
    "Abbott",
    "Baptiste",
    "Chowdhury",
    "Dlamini",
    "Evans",
    "Greenwood",
    "Hussain",
    "Ibekwe",
    "Mensah",
    "Patel",
    "Rahman",
]
BOARD_KINDS = [
    "Health and Wellbeing Board",
    "Joint Commissioning Board",
    "Place Partnership Board",
    "Finance and Performance Committee",
    "Quality Committee",
]


def money(value) -> Decimal:
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


def financial_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def period_for(today: date) -> date:
    """The month a bench run bills: the last complete month before ``today``."""
    return month_start(today) - relativedelta(months=1)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


BENCH_USERS = {
    "bench_broker": roles.BROKER,
    "bench_finance": roles.FINANCE_OFFICER,
    "bench_commissioner": roles.COMMISSIONER,
    "bench_secretary": roles.BOARD_SECRETARY,
}


def borough_name(index: int) -> str:
    """The partnership's name of borough ``index`` (0: the one the borough figures measure)."""
    return f"Scale borough {index + 1:02d}"


@dataclass
class Borough:
    index: int
    seed: int
    today: date
    size: Size
    partnership: Partnership = None
    council: Organisation = None
    nhs: Organisation = None
    providers: list = field(default_factory=list)  # (provider id, organisation name, service types)
    timings: dict = field(default_factory=dict)

    def rng(self, part: str) -> random.Random:
        return random.Random(f"{self.seed}:{self.index}:{part}")

    @property
    def code(self) -> str:
        return f"B{self.index + 1:02d}"

    @property
    def name(self) -> str:
        return borough_name(self.index)
