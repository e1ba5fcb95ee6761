"""Governance: boards, two years of meetings, agenda items and decisions."""

from __future__ import annotations

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from benchmarks.copy import copy_rows, reserve_ids
from benchmarks.generate.base import (
    BOARD_KINDS,
    Borough,
    at,
    financial_year,
    money,
)
from brokerage.recharges import month_start

# --- Governance: boards, two years of meetings, agenda items and decisions -----------------------


def governance(b: Borough) -> None:
    rng = b.rng("governance")
    people_first = reserve_ids("commissioning_person", 40)
    copy_rows(
        "commissioning_person",
        ["id", "name", "role_title", "organisation_id", "email", "user_id"],
        [
            (
                people_first + n,
                f"{b.code} Member {n + 1:02d}",
                "Board member",
                (b.council.pk, b.nhs.pk)[n % 2],
                "",
                None,
            )
            for n in range(40)
        ],
    )
    board_first = reserve_ids("governance_board", b.size.boards)
    boards, memberships = [], []
    for n in range(b.size.boards):
        boards.append(
            (
                board_first + n,
                b.partnership.pk,
                f"{b.code} {BOARD_KINDS[n % len(BOARD_KINDS)]} {n + 1}",
                f"{b.code}X{n + 1:02d}",
                True,
                False,
                3,
                1,
                "majority",
                False,
                None,
                None,
                None,
                "",
            )
        )
        for k in range(8):
            person = people_first + (n * 3 + k) % 40
            memberships.append(
                (
                    board_first + n,
                    person,
                    "chair" if k == 0 else "member",
                    True,
                    (b.council.pk, b.nhs.pk)[person % 2],
                    b.today - timedelta(days=900),
                    None,
                )
            )
    copy_rows(
        "governance_board",
        [
            "id",
            "partnership_id",
            "name",
            "code",
            "meets_in_public",
            "council_executive",
            "quorum_min_voting",
            "quorum_min_per_partner",
            "voting_mode",
            "chair_has_casting_vote",
            "delegated_limit",
            "key_decision_threshold",
            "parent_id",
            "terms_of_reference",
        ],
        boards,
    )
    copy_rows(
        "governance_membership",
        ["board_id", "person_id", "role", "voting", "representing_id", "start", "end"],
        memberships,
    )
    b.boards = [row[0] for row in boards]
    meetings, items, decisions = [], [], []
    months = b.size.meeting_months
    meeting_first = reserve_ids("governance_meeting", b.size.boards * months)
    item_first = reserve_ids("governance_agendaitem", b.size.boards * months * 6)
    titles = [
        "Apologies and substitutes",
        "Declarations of interest",
        "Minutes of the last meeting",
        "Better Care Fund quarterly return",
        "Pooled budget monitoring",
        "Market position statement",
    ]
    standing = ["apologies", "declarations", "previous_minutes", "none", "none", "none"]
    m_id, i_id = meeting_first, item_first
    for n, board in enumerate(b.boards):
        code = boards[n][3]
        counter: dict[int, int] = {}
        for k in range(months):
            day = month_start(b.today) - relativedelta(months=months - 3 - k) + timedelta(days=(n % 20) + 1)
            held = day < b.today
            meetings.append(
                (m_id, board, at(day, 14), "Civic Centre", "minutes_approved" if held else "scheduled")
            )
            for order in range(6):
                exempt = order == 5 and rng.random() < 0.1
                items.append(
                    (
                        i_id,
                        m_id,
                        order + 1,
                        str(order + 1),
                        "",
                        titles[order],
                        "decision" if order >= 3 else "noting",
                        "",
                        standing[order],
                        "schedule_12a" if exempt else "none",
                        3 if exempt else None,
                        "Commercially sensitive" if exempt else "",
                        None,
                        None,
                        "",
                    )
                )
                if held and order in (3, 4):
                    year = financial_year(day)
                    counter[year] = counter.get(year, 0) + 1
                    decisions.append(
                        (
                            i_id,
                            f"{code}/{year % 100:02d}/{counter[year]:03d}",
                            "",
                            f"The board approved the {titles[order].lower()}.",
                            "",
                            "",
                            rng.choice(["approved", "approved", "noted", "deferred"]),
                            True,
                            money(rng.randint(10_000, 900_000)),
                            False,
                            False,
                            "",
                            day,
                            day,
                            None,
                            None,
                            "",
                            "",
                            True,
                            "",
                            1,
                        )
                    )
                i_id += 1
            m_id += 1
    copy_rows("governance_meeting", ["id", "board_id", "starts_at", "venue", "status"], meetings)
    copy_rows(
        "governance_agendaitem",
        [
            "id",
            "meeting_id",
            "order",
            "item_number",
            "enclosure_number",
            "title",
            "purpose",
            "presenter",
            "standing_kind",
            "exemption_regime",
            "exemption_paragraph",
            "exemption_reason",
            "paper_id",
            "supplement_number",
            "minute_number",
        ],
        items,
    )
    copy_rows(
        "governance_decision",
        [
            "agenda_item_id",
            "reference",
            "minute_number",
            "resolution",
            "reasons",
            "alternatives_rejected",
            "outcome",
            "quorate",
            "financial_value",
            "key_decision",
            "urgent",
            "urgent_reason",
            "decided_on",
            "published_on",
            "call_in_ends",
            "effective_from",
            "quorum_note",
            "vote_note",
            "notice_ok",
            "notice_note",
            "version",
        ],
        decisions,
    )
