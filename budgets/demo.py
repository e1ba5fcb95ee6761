"""Demo data of the budgets app (demo-data.md): Bromley's section 75 agreement hosted by LBB with the
Better Care Fund, Integrated Placements and Brokerage (the 2021 paper's lines) and the Joint Head of
Integrated Commissioning post (2019 paper), and monthly positions for the current financial year
with a forecast overspend on the IPB schedule. Deterministic: the same seed and ``today`` always
give the same rows. Everything is written through ``budgets.services``, so history names the user.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from budgets import services
from budgets.models import (
    AgreementStatus,
    Arrangement,
    LineStatus,
    RiskShareRule,
    financial_year_of,
    year_periods,
)
from commissioning.money import round_half_up

D = Decimal

# The 2021 paper's IPB table (demo-data.md): derived totals 2021/22 £162,053 and 2022/23 £220,679.
IPB_LINES = [
    ("Placements and Brokerage", 2021, "CCG", D("102840"), LineStatus.MOBILISATION),
    ("Personal Budgets and Direct Payments support team", 2021, "CCG", D("8000"), LineStatus.MOBILISATION),
    ("Personal Budgets and Direct Payments support team", 2021, "iBCF", D("29799"), LineStatus.MOBILISATION),
    (
        "Personal Budgets and Direct Payments support team",
        2021,
        "LBB core",
        D("13914"),
        LineStatus.MOBILISATION,
    ),
    ("Additional finance costs", 2021, "CCG", D("7500"), LineStatus.MOBILISATION),
    ("Placements and Brokerage", 2022, "CCG", D("205679"), LineStatus.INDICATIVE),
    ("Additional finance costs", 2022, "CCG", D("15000"), LineStatus.INDICATIVE),
]
# The current year, rolled forward from 2022/23.
IPB_CURRENT = [
    ("Placements and Brokerage", "CCG", D("205679")),
    ("Personal Budgets and Direct Payments support team", "iBCF", D("29799")),
    ("Personal Budgets and Direct Payments support team", "LBB core", D("13914")),
    ("Additional finance costs", "CCG", D("15000")),
]
BCF_CURRENT = [
    ("NHS commissioned out-of-hospital services", "CCG", D("9350000")),
    ("Protecting adult social care", "CCG", D("7840000")),
    ("Improved Better Care Fund grant", "iBCF", D("5214000")),
    ("Disabled Facilities Grant", "LBB core", D("2310000")),
]
# Joint Head of Integrated Commissioning post (2019 paper): £131k, of which the CCG £66k.
POST_CURRENT = [
    ("Joint Head of Integrated Commissioning", "CCG", D("66000")),
    ("Joint Head of Integrated Commissioning", "LBB core", D("65000")),
]


def load(*, partnerships: dict, users: dict, seed: int, today: date) -> None:
    """Load the budgets demo for Bromley. ``partnerships`` by name, ``users`` by username (as
    ``commissioning.demo.DemoContext`` keeps them)."""
    rng = random.Random(f"{seed}:budgets")
    bromley = partnerships["Bromley"]
    commissioner = users["commissioner"]
    finance = users.get("finance_officer", commissioner)
    council, ccg = bromley.council, bromley.nhs_commissioner
    year = financial_year_of(today)

    streams = {
        name: services.funding_stream_create(
            by=commissioner, partnership=bromley, name=name, organisation=org
        )
        for name, org in (("CCG", ccg), ("iBCF", council), ("LBB core", council))
    }
    agreement = services.agreement_create(
        by=commissioner,
        partnership=bromley,
        reference="BR-S75-2021",
        title="Section 75 agreement for integrated commissioning in Bromley",
        host=council,
        start=date(2021, 4, 1),
        end=date(max(year + 2, 2024), 3, 31),
        status=AgreementStatus.SIGNED,
    )
    bcf = services.schedule_create(
        by=commissioner,
        agreement=agreement,
        number=1,
        title="Better Care Fund",
        arrangement=Arrangement.POOLED,
        integration_level=2,
        overspend_rule=RiskShareRule.PROPORTIONAL,
        underspend_rule=RiskShareRule.PROPORTIONAL,
        pool_manager=commissioner,
    )
    ipb = services.schedule_create(
        by=commissioner,
        agreement=agreement,
        number=2,
        title="Integrated Placements and Brokerage",
        arrangement=Arrangement.POOLED,
        integration_level=3,
        overspend_rule=RiskShareRule.PROPORTIONAL,
        underspend_rule=RiskShareRule.PROPORTIONAL,
        pool_manager=commissioner,
    )
    post = services.schedule_create(
        by=commissioner,
        agreement=agreement,
        number=3,
        title="Joint Head of Integrated Commissioning post",
        arrangement=Arrangement.ALIGNED,
        integration_level=2,
        overspend_rule=RiskShareRule.OWN_LINES,
        underspend_rule=RiskShareRule.OWN_LINES,
    )

    def line(schedule, name, line_year, stream, amount, status):
        return services.budget_line_create(
            by=commissioner,
            schedule=schedule,
            name=name,
            year=line_year,
            funding_stream=streams[stream],
            amount=amount,
            status=status,
        )

    for name, line_year, stream, amount, status in IPB_LINES:
        line(ipb, name, line_year, stream, amount, status)
    current: dict[str, list] = {"bcf": [], "ipb": [], "post": []}
    if year > 2022:
        for name, stream, amount in IPB_CURRENT:
            current["ipb"].append(line(ipb, name, year, stream, amount, LineStatus.APPROVED))
    else:
        current["ipb"] = list(ipb.lines.filter(year=year))
    for name, stream, amount in BCF_CURRENT:
        current["bcf"].append(line(bcf, name, year, stream, amount, LineStatus.APPROVED))
    for name, stream, amount in POST_CURRENT:
        current["post"].append(line(post, name, year, stream, amount, LineStatus.APPROVED))

    # Monthly positions from April to last month: IPB drifts into an overspend, BCF slightly under.
    this_month = date(today.year, today.month, 1)
    periods = [p for p in year_periods(year) if p < this_month]
    drift = {"ipb": D("0.07"), "bcf": D("-0.004"), "post": D("0")}
    for key, lines in current.items():
        for index, period in enumerate(periods, start=1):
            for budget_line in lines:
                noise = D(rng.randint(-150, 150)) / D(10000)
                factor = 1 + (drift[key] * index / len(periods)) + (noise if key != "post" else 0)
                forecast = round_half_up(budget_line.amount * factor)
                actual = round_half_up(forecast * index / 12)
                services.monthly_position_save(
                    budget_line=budget_line,
                    period=period,
                    actual_to_date=actual,
                    forecast_outturn=forecast,
                    commentary=(
                        "Placement costs above plan: more complex hospital discharges."
                        if key == "ipb"
                        and index == len(periods)
                        and budget_line.name == "Placements and Brokerage"
                        else ""
                    ),
                    by=finance,
                )
