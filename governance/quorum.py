"""Quorum (rules.md, rule 3): pure functions over plain values, no ORM.

A board is quorate for an item when at least ``min_voting`` voting members are present, including
at least ``min_per_partner`` voting members representing each partner organisation. A member who
declared an interest on the item and withdrew or did not vote does not count for that item.
Members representing both partners jointly count towards ``min_voting`` but towards no partner.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Attendee:
    """One person at the meeting as quorum sees them for one item."""

    person_id: int
    name: str = ""
    voting: bool = True
    representing: str | None = None  # partner organisation code; None = joint
    present: bool = True
    conflicted: bool = False  # declared an interest and withdrew or did not vote on this item


@dataclass(frozen=True)
class QuorumResult:
    quorate: bool
    voting_present: int
    per_partner: dict[str, int]
    reasons: tuple[str, ...] = field(default_factory=tuple)
    excluded: tuple[str, ...] = field(default_factory=tuple)  # conflicted voting members left out

    def explain(self) -> str:
        if self.quorate:
            return f"Quorate: {self.voting_present} voting members present and not conflicted."
        return "Not quorate: " + "; ".join(self.reasons) + "."


def counts_towards_quorum(attendee: Attendee) -> bool:
    return attendee.voting and attendee.present and not attendee.conflicted


def assess_quorum(
    attendees: Iterable[Attendee],
    *,
    min_voting: int,
    min_per_partner: int,
    partners: Sequence[str],
) -> QuorumResult:
    attendees = list(attendees)
    counted = [a for a in attendees if counts_towards_quorum(a)]
    excluded = tuple(a.name or str(a.person_id) for a in attendees if a.voting and a.present and a.conflicted)
    per_partner = dict.fromkeys(partners, 0)
    for attendee in counted:
        if attendee.representing in per_partner:
            per_partner[attendee.representing] += 1
    problems = []
    if len(counted) < min_voting:
        problems.append(
            f"{len(counted)} voting member{'s' if len(counted) != 1 else ''} present and not conflicted, "
            f"{min_voting} needed"
        )
    for code in partners:
        if per_partner[code] < min_per_partner:
            problems.append(f"{per_partner[code]} voting members for {code}, {min_per_partner} needed")
    reasons = list(problems)
    if excluded and problems:
        reasons.append(f"not counted because of a declared interest: {', '.join(excluded)}")
    return QuorumResult(
        quorate=not problems,
        voting_present=len(counted),
        per_partner=per_partner,
        reasons=tuple(reasons),
        excluded=excluded,
    )
