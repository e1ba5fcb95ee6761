"""Demo data of the budgets app (demo-data.md): Bromley's section 75 agreement hosted by LBB with the
Better Care Fund, Integrated Placements and Brokerage (the 2021 paper's lines) and the Joint Head of
Integrated Commissioning post (2019 paper), and monthly positions for the current financial year
with a forecast overspend on the IPB schedule. The agreement's terms follow the 2021 IPB paper (the
exit clause, the CCG meeting extra costs falling to the council) and the 2019 paper (resident and
registered populations); where a paper gives no figure (notice period, VAT), the demo says the
figure is illustrative. Variation 1 adds the IPB schedule on the 2 September 2021 Borough Based
Board decision (when the governance demo has recorded it), and the annual review is due within
60 days of ``today``, so its reminder shows. Deterministic: the same seed and ``today`` always
give the same rows. Everything is written through ``budgets.services``, so history names the user.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from budgets import services
from budgets.models import (
    AgreementStatus,
    Arrangement,
    LineStatus,
    Population,
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
# The agreement's terms as data. From the 2021 IPB paper (Bromley Borough Based Board, 2 September
# 2021, paragraphs 1.9 to 1.12) unless marked illustrative.
NHS_FUNCTIONS = [
    "Arranging residential and nursing care placements for CCG-funded clients (placements and brokerage)",
    "Arranging packages of care funded by NHS Continuing Healthcare, including personal health budgets",
]
COUNCIL_FUNCTIONS = [
    "Arranging adult social care placements and packages of care (placements and brokerage)",
    "A direct payments service for both organisations (personal budgets and direct payments support team)",
]
EXIT_PROVISIONS = (
    "Either LBB or the CCG may exit these arrangements where it is disadvantaged through the agreement "
    "(2021 IPB paper, para 1.12). The CCG makes funds available to LBB if, as a result of this "
    "integration, costs to the Council increase; the CCG funds any additional reasonable costs borne by "
    "LBB in delivering the IPB. Illustrative: on exit each partner resumes its own placements from the "
    "end of the notice period, and packages in payment are novated to the funding partner."
)
DISPUTE_RESOLUTION = (
    "Illustrative (the papers give none): disputes over contributions to joint funding decisions go first "
    "to the Joint Head of Integrated Commissioning, then to the Integrated Commissioning Board, then to "
    "LBB's Chief Executive and the CCG's Accountable Officer."
)
VAT_POSITION = (
    "Illustrative: LBB hosts the pooled fund and recovers VAT on the pool's purchases under section 33 "
    "of the VAT Act 1994; the CCG's contributions are outside the scope of VAT."
)
NOTICE_MONTHS = 6  # illustrative: the 2021 paper gives an exit clause but no notice period
REVIEW_DUE_IN_DAYS = 45  # the demo's review falls due within the 60-day reminder window
VARIATION_1 = (
    "Adds Schedule 2, Integrated Placements and Brokerage: LBB manages CCG placements and brokerage "
    "alongside its own and hosts a direct payments service for both organisations; a six-month "
    "mobilisation from October 2021 (budget £162,053), the service from 1 April 2022. The CCG funds any "
    "extra costs falling to the Council. (Effective date illustrative.)"
)

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
        nhs_functions=NHS_FUNCTIONS,
        council_functions=COUNCIL_FUNCTIONS,
        review_frequency_months=12,
        notice_months=NOTICE_MONTHS,
        exit_provisions=EXIT_PROVISIONS,
        dispute_resolution=DISPUTE_RESOLUTION,
        vat_position=VAT_POSITION,
        # The 2019 paper: the Council answers for the resident population, the NHS for the registered.
        population=Population.RESIDENT,
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

    _variation_and_review(agreement, ipb, by=commissioner, today=today)


def _variation_and_review(agreement, ipb, *, by, today: date) -> None:
    """Variation 1 on the 2021 IPB decision (if the governance demo recorded it), and this year's
    review, due within the reminder window."""
    from governance.models import Decision

    decision = (
        Decision.objects.filter(
            agenda_item__meeting__board__partnership=agreement.partnership, decided_on=date(2021, 9, 2)
        )
        .order_by("pk")
        .first()
    )
    if decision is not None:
        services.variation_record(
            agreement=agreement,
            by=by,
            effective_from=date(2021, 10, 1),
            changes=VARIATION_1,
            decision=decision,
            schedules=[ipb],
        )
    due = today + timedelta(days=REVIEW_DUE_IN_DAYS)
    if agreement.start <= due <= agreement.end:
        services.agreement_update(agreement=agreement, by=by, next_review_due=due)
        services.review_create(
            agreement=agreement,
            by=by,
            due=due,
            notes="The annual review of the agreement, its schedules and risk shares, "
            "in the light of experience.",
        )
