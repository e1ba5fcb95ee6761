"""Budgets: agreements, schedules, three years of lines and monthly positions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from benchmarks.copy import copy_rows, reserve_ids
from benchmarks.generate.base import (
    Borough,
    financial_year,
    money,
    period_for,
)

# --- Budgets: agreements, 40 schedules, three years of lines and monthly positions ---------------


def budgets(b: Borough) -> None:
    rng = b.rng("budgets")
    period = period_for(b.today)
    this_year = financial_year(period)
    years = [this_year - 2, this_year - 1, this_year]
    streams_first = reserve_ids("budgets_fundingstream", 4)
    streams = [
        (streams_first + k, b.partnership.pk, name, org)
        for k, (name, org) in enumerate(
            [
                ("Council core", b.council.pk),
                ("iBCF", b.council.pk),
                ("ICB core", b.nhs.pk),
                ("BCF NHS", b.nhs.pk),
            ]
        )
    ]
    copy_rows("budgets_fundingstream", ["id", "partnership_id", "name", "organisation_id"], streams)
    agreements = max(1, b.size.schedules // 10)
    agreement_first = reserve_ids("budgets_section75agreement", agreements)
    copy_rows(
        "budgets_section75agreement",
        [
            "id",
            "partnership_id",
            "reference",
            "title",
            "host_id",
            "start",
            "end",
            "status",
            "decision_id",
            "version",
            "nhs_functions",
            "council_functions",
            "review_frequency_months",
            "exit_provisions",
            "dispute_resolution",
            "vat_position",
            "population",
            "signed_document",
            "signed_document_name",
        ],
        [
            (
                agreement_first + a,
                b.partnership.pk,
                f"S75-{b.code}-{a + 1}",
                f"Section 75 agreement {a + 1}",
                b.council.pk,
                date(years[0], 4, 1),
                date(years[-1] + 3, 3, 31),
                "signed",
                None,
                1,
                [],
                [],
                12,
                "",
                "",
                "",
                "",
                "",
                "",
            )
            for a in range(agreements)
        ],
    )
    schedule_first = reserve_ids("budgets_schedule", b.size.schedules)
    copy_rows(
        "budgets_schedule",
        [
            "id",
            "agreement_id",
            "number",
            "title",
            "arrangement",
            "integration_level",
            "pool_manager_id",
            "board_id",
            "overspend_rule",
            "underspend_rule",
            "version",
        ],
        [
            (
                schedule_first + s,
                agreement_first + s // 10,
                s % 10 + 1,
                f"Schedule {s + 1}: pooled services",
                "pooled",
                3,
                None,
                b.boards[s % len(b.boards)],
                "proportional",
                "proportional",
                1,
            )
            for s in range(b.size.schedules)
        ],
    )
    lines, positions = [], []
    line_first = reserve_ids("budgets_budgetline", b.size.schedules * len(years) * len(streams) * 2)
    line_id = line_first
    for s in range(b.size.schedules):
        for year in years:
            for stream in streams:
                for purpose in ("Placements", "Community services"):
                    amount = money(rng.randint(200_000, 4_000_000))
                    lines.append(
                        (line_id, schedule_first + s, purpose, year, stream[0], amount, "approved", None, 1)
                    )
                    for m in range(12):
                        day = date(year + (m >= 9), (m + 3) % 12 + 1, 1)
                        if day > period:
                            break
                        actual = money(amount * (m + 1) / 12 * Decimal(rng.randint(90, 110)) / 100)
                        forecast = money(amount * Decimal(rng.randint(92, 108)) / 100)
                        positions.append((line_id, day, actual, forecast, "", None, None, 1))
                    line_id += 1
    copy_rows(
        "budgets_budgetline",
        [
            "id",
            "schedule_id",
            "name",
            "year",
            "funding_stream_id",
            "amount",
            "status",
            "decision_id",
            "version",
        ],
        lines,
    )
    copy_rows(
        "budgets_monthlyposition",
        [
            "budget_line_id",
            "period",
            "actual_to_date",
            "forecast_outturn",
            "commentary",
            "submitted_by_id",
            "reported_at_id",
            "version",
        ],
        positions,
    )
