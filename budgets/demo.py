"""Demo data of the budgets app (demo-data.md): Bromley's section 75 agreement hosted by LBB with the
Better Care Fund, Integrated Placements and Brokerage (the 2021 paper's lines) and the Joint Head of
Integrated Commissioning post (2019 paper), and monthly positions for the current financial year
with a forecast overspend on the IPB schedule. The agreement's terms follow the 2021 IPB paper (the
exit clause, the CCG meeting extra costs falling to the council) and the 2019 paper (resident and
registered populations); where a paper gives no figure (notice period, VAT), the demo says the
figure is illustrative. The IPB schedule's overspend rule is the paper's: the CCG funds any extra
costs falling to the council (para 1.12, recommendation 4), so a forecast overspend falls 100% to
the CCG. Variation 1 adds the IPB schedule on the 2 September 2021 Borough Based Board decision
(when the governance demo has recorded it), which is also the approving decision of the paper's
2021/22 and 2022/23 lines and is linked to the agreement, the schedule and those lines. The annual
review is due within 60 days of ``today``, so its reminder shows.

The City of London and Barking & Dagenham agreements (``city_of_london``, ``barking_and_dagenham``)
take their terms from their papers (2016 and 2010: ../shared/seeds/) and say, in their own text,
which terms and figures are illustrative: neither paper gives a budget figure, so every amount of
their lines is illustrative. Deterministic: the same seed and ``today`` always give the same rows.
Everything is written through ``budgets.services``, so history names the user.
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
        # The 2021 paper: "the CCG will make funds available to LBB if, as a result of this
        # integration, costs increase to the Council" (para 1.12; recommendation 4). An overspend
        # falls wholly to the CCG; the paper says nothing of underspends, so they are shared in
        # proportion to contributions.
        overspend_rule=RiskShareRule.FIXED,
        underspend_rule=RiskShareRule.PROPORTIONAL,
        fixed_shares=[services.FixedShare(ccg, D("100")), services.FixedShare(council, D("0"))],
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

    def line(schedule, name, line_year, stream, amount, status, decision=None):
        return services.budget_line_create(
            by=commissioner,
            schedule=schedule,
            name=name,
            year=line_year,
            funding_stream=streams[stream],
            amount=amount,
            status=status,
            decision=decision,
        )

    # The 2 September 2021 decision approved the paper's table (recommendation 3): it approves the
    # 2021/22 mobilisation lines and confirms the indicative 2022/23 ones.
    ipb_decision = ipb_2021_decision(bromley)
    paper_lines = [
        line(ipb, name, line_year, stream, amount, status, ipb_decision)
        for name, line_year, stream, amount, status in IPB_LINES
    ]
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

    _variation_and_review(agreement, ipb, paper_lines, ipb_decision, by=commissioner, today=today)
    if "City of London" in partnerships:
        city_of_london(
            partnerships["City of London"], by=users.get("commissioner_city", commissioner), year=year
        )
    if "Barking & Dagenham" in partnerships:
        barking_and_dagenham(
            partnerships["Barking & Dagenham"], by=users.get("commissioner_bd", commissioner)
        )
    _contribution_plans(ipb, bcf, ccg, year=year, by=commissioner)
    _placements(agreement, streams["LBB core"], year=year, by=commissioner)


def ipb_2021_decision(partnership):
    """The Borough Based Board's decision of 2 September 2021 establishing the IPB service, when the
    governance demo has recorded it (None in a budgets-only load)."""
    from governance.models import Decision

    return (
        Decision.objects.filter(
            agenda_item__meeting__board__partnership=partnership, decided_on=date(2021, 9, 2)
        )
        .order_by("pk")
        .first()
    )


def _variation_and_review(agreement, ipb, paper_lines, decision, *, by, today: date) -> None:
    """Variation 1 on the 2021 IPB decision (if the governance demo recorded it), the decision's
    links to what it changed (the agreement, the schedule and the paper's lines, with their
    amounts), and this year's review, due within the reminder window."""
    from governance.services import decision_link_add

    if decision is not None:
        services.variation_record(
            agreement=agreement,
            by=by,
            effective_from=date(2021, 10, 1),
            changes=VARIATION_1,
            decision=decision,
            schedules=[ipb],
        )
        decision_link_add(
            decision=decision,
            target=agreement,
            by=by,
            description="Variation 1: adds Schedule 2, Integrated Placements and Brokerage",
        )
        decision_link_add(
            decision=decision,
            target=ipb,
            by=by,
            description="Schedule 2 established: LBB hosts the IPB service; the CCG funds extra costs",
        )
        for budget_line in paper_lines:
            kind = "mobilisation" if budget_line.status == LineStatus.MOBILISATION else "indicative"
            decision_link_add(
                decision=decision,
                target=budget_line,
                by=by,
                description=f"{budget_line.year_label} {kind} budget: {budget_line.name} "
                f"({budget_line.funding_stream})",
                amount_after=budget_line.amount,
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


# --- City of London (2016 paper: Integrated Commissioning for Health and Social Care) -----------
# The paper proposes a pooled budget of the Corporation and City & Hackney CCG under a section 75
# agreement, in operation by April 2017, governed by an Integrated Commissioning Board. It gives no
# budget figure: every amount below is illustrative (the paper says only that the CCG's share of
# the pool would be the larger, para 31).
CITY_NHS_FUNCTIONS = [
    "Commissioning NHS services for patients registered at the Neaman Practice, the City's one GP "
    "practice (paras 2 and 27)",
]
CITY_COUNCIL_FUNCTIONS = [
    "Adult social care commissioning for City residents (para 1)",
    "Public health services commissioned by the Corporation, including those for City workers "
    "(paras 1 and 31)",
]
CITY_EXIT = (
    "Monthly gateways over 2016/17 let either partner confirm it remains comfortable to proceed "
    "before the pool starts (para 26). The Integrated Commissioning Board acts only within the scheme "
    "of delegation both partners agree each year, and each keeps its statutory responsibilities "
    "(para 41). The paper states no exit clause and no notice period."
)
CITY_DISPUTES = (
    "The financial framework sets out the treatment of overspends and how conflicts in budget-setting "
    "priorities are settled (para 40); the budget and approach are negotiated and agreed each year "
    "(para 41). Illustrative: a dispute the Board cannot settle goes to the Corporation's Town Clerk "
    "and the CCG's Accountable Officer."
)
CITY_VAT = (
    "The VAT implications for the Corporation as host are to be assessed (para 42). Illustrative: the "
    "Corporation hosts the pool and recovers VAT on its purchases under section 33 of the VAT Act 1994."
)
# (name, stream, illustrative amount for the current year)
CITY_LINES = [
    ("NHS services for Neaman Practice patients", "CCG", D("1850000")),
    ("Finance support for the host (para 43)", "CCG", D("45000")),
    ("Adult social care", "City adult social care", D("1120000")),
    ("Public health services", "City public health", D("410000")),
]


def _board(partnership, code: str):
    from governance.models import Board

    return Board.objects.filter(partnership=partnership, code=code).first()


def city_of_london(partnership, *, by, year: int):
    """The City's pooled budget with City & Hackney CCG, from the 2016 paper: hosted by the
    Corporation (illustrative: the paper weighs the risk of hosting, para 42), from April 2017,
    covering the GP-registered population of the Neaman Practice (para 27), reviewed each year "in
    the light of experience" (para 31). Risk shares are illustrative: each partner bears the
    variance on its own lines, which keeps City funds from being drawn into the CCG's wider
    pressures (para 30)."""
    council, ccg = partnership.council, partnership.nhs_commissioner
    streams = {
        name: services.funding_stream_create(by=by, partnership=partnership, name=name, organisation=org)
        for name, org in (
            ("CCG", ccg),
            ("City adult social care", council),
            ("City public health", council),
        )
    }
    agreement = services.agreement_create(
        by=by,
        partnership=partnership,
        reference="COL-S75-2017",
        title="Section 75 agreement for integrated commissioning in the City of London",
        host=council,
        start=date(2017, 4, 1),
        # Illustrative: the paper sets no term; the agreement runs on past the current year.
        end=date(max(year + 2, 2020), 3, 31),
        status=AgreementStatus.SIGNED,
        nhs_functions=CITY_NHS_FUNCTIONS,
        council_functions=CITY_COUNCIL_FUNCTIONS,
        review_frequency_months=12,
        exit_provisions=CITY_EXIT,
        dispute_resolution=CITY_DISPUTES,
        vat_position=CITY_VAT,
        population=Population.GP_REGISTERED,
    )
    schedule = services.schedule_create(
        by=by,
        agreement=agreement,
        number=1,
        title="Integrated commissioning pooled budget",
        arrangement=Arrangement.POOLED,
        integration_level=3,
        board=_board(partnership, "CHICB"),
        overspend_rule=RiskShareRule.OWN_LINES,
        underspend_rule=RiskShareRule.OWN_LINES,
        pool_manager=by,
    )
    for name, stream, amount in CITY_LINES:
        services.budget_line_create(
            by=by,
            schedule=schedule,
            name=name,
            year=year,
            funding_stream=streams[stream],
            amount=amount,
            status=LineStatus.APPROVED,
        )
    services.review_create(
        agreement=agreement,
        by=by,
        year=2017,
        due=date(2018, 3, 1),
        held_on=date(2018, 3, 8),
        outcome="continue",
        notes="The first year's review of the pooled budget in the light of experience (2016 paper, "
        "para 31): the disaggregation of CCG funding for City residents. (Dates illustrative.)",
    )
    return agreement


# --- Barking & Dagenham (2010 paper: Moving Toward Integration with NHS Barking & Dagenham) -----
# The Cabinet endorsed option 3, integrated leadership: commissioning on a joint basis "through S75
# agreements and aligned budgets" (para 2.12), overseen by a Joint Committee of the Cabinet and the
# PCT Board meeting four to six times a year (para 5.4). The paper gives no figure: the term and
# every amount below are illustrative; the agreement ends with the PCT, on 31 March 2013.
BD_NHS_FUNCTIONS = [
    "Commissioning health services for children and young people with special educational needs, "
    "learning difficulties and disabilities (Appendix 1)",
    "Public health, through the joint Director of Public Health (para 4.9)",
]
BD_COUNCIL_FUNCTIONS = [
    "Social care and education support for children and young people with special educational needs, "
    "learning difficulties and disabilities (Appendix 1)",
]
BD_EXIT = (
    "The paper asks for effective and agreed governance from the start, robust enough to solve any "
    "problem met (para 4.11). Illustrative: either partner may end the agreement at the end of a "
    "financial year; it ends in any case with the PCT on 31 March 2013."
)
BD_DISPUTES = (
    "A Member and Non-Executive Director Steering Group oversees progress and reports to the Cabinet "
    "and the PCT Board (para 6.2); the Joint Committee of the Cabinet and the PCT Board takes joint "
    "decisions (para 5.4). Illustrative: a dispute it cannot settle goes to both bodies."
)
BD_VAT = (
    "Illustrative (the paper gives none): each partner keeps its own VAT position, budgets being aligned."
)
# (name, year, stream, illustrative amount)
BD_LINES = [
    ("SEN and learning disability health services", 2011, "PCT", D("2640000")),
    ("SEN and learning disability social care", 2011, "LBBD children's services", D("3180000")),
    ("SEN and learning disability health services", 2012, "PCT", D("2710000")),
    ("SEN and learning disability social care", 2012, "LBBD children's services", D("3095000")),
]


def barking_and_dagenham(partnership, *, by):
    """Barking and Dagenham's aligned budgets with the PCT under integrated leadership (2010 paper),
    for the borough's residents (para 4.1), hosted by the council (illustrative)."""
    council, pct = partnership.council, partnership.nhs_commissioner
    streams = {
        name: services.funding_stream_create(by=by, partnership=partnership, name=name, organisation=org)
        for name, org in (("PCT", pct), ("LBBD children's services", council))
    }
    agreement = services.agreement_create(
        by=by,
        partnership=partnership,
        reference="BD-S75-2011",
        title="Section 75 agreement for integrated commissioning in Barking and Dagenham",
        host=council,
        start=date(2011, 4, 1),
        end=date(2013, 3, 31),
        status=AgreementStatus.ENDED,
        nhs_functions=BD_NHS_FUNCTIONS,
        council_functions=BD_COUNCIL_FUNCTIONS,
        review_frequency_months=12,
        exit_provisions=BD_EXIT,
        dispute_resolution=BD_DISPUTES,
        vat_position=BD_VAT,
        population=Population.RESIDENT,
    )
    schedule = services.schedule_create(
        by=by,
        agreement=agreement,
        number=1,
        title="Special educational needs, learning difficulties and disabilities",
        arrangement=Arrangement.ALIGNED,
        integration_level=2,
        board=_board(partnership, "JC"),
        overspend_rule=RiskShareRule.OWN_LINES,
        underspend_rule=RiskShareRule.OWN_LINES,
    )
    for name, line_year, stream, amount in BD_LINES:
        services.budget_line_create(
            by=by,
            schedule=schedule,
            name=name,
            year=line_year,
            funding_stream=streams[stream],
            amount=amount,
            status=LineStatus.APPROVED,
        )
    return agreement


def _contribution_plans(ipb, bcf, ccg, *, year: int, by) -> None:
    """The CCG's contributions to the two pooled schedules this year, invoiced by the council (the
    host): the IPB quarterly in advance (rule 2's default), the BCF monthly (illustrative: the papers
    do not say how the CCG pays). The instalments are raised from the agreement page or by the daily
    task."""
    services.contribution_plan_save(schedule=ipb, year=year, partner=ccg, frequency="quarterly", by=by)
    services.contribution_plan_save(schedule=bcf, year=year, partner=ccg, frequency="monthly", by=by)


# A line fed by packages (rules.md rule 2). The 2021 paper's IPB lines are the brokerage service's
# own costs (its team, its finance costs), not the placements it buys, so none of them is fed: a
# separate schedule carries the council's placements, aligned (each partner pays its own packages;
# the recharges settle the shares), so it changes no pooled total, contribution or statement.
PLACEMENTS_SCHEDULE = "Jointly funded placements (illustrative)"
PLACEMENTS_LINE = "Residential and supported living placements"
PLACEMENTS_BUDGET = D("1500000")  # illustrative: no paper gives a placements budget
PLACEMENTS_FED_BY = ["residential", "supported_living"]  # adult social care and section 117 packages


def _placements(agreement, stream, *, year: int, by) -> None:
    """Schedule 4: the council's residential and supported living placements this year, a line whose
    actuals and committed forecast are derived from the demo's packages of those service types (paid
    by the council: the CCG's transferred CHC packages are nursing and home care). Its budget is
    illustrative, as its title says."""
    schedule = services.schedule_create(
        by=by,
        agreement=agreement,
        number=4,
        title=PLACEMENTS_SCHEDULE,
        arrangement=Arrangement.ALIGNED,
        integration_level=1,
        overspend_rule=RiskShareRule.OWN_LINES,
        underspend_rule=RiskShareRule.OWN_LINES,
        pool_manager=by,
    )
    placements = services.budget_line_create(
        by=by,
        schedule=schedule,
        name=PLACEMENTS_LINE,
        year=year,
        funding_stream=stream,
        amount=PLACEMENTS_BUDGET,
        status=LineStatus.APPROVED,
    )
    services.budget_line_feed_set(line=placements, service_types=PLACEMENTS_FED_BY, package_ids=[], by=by)
