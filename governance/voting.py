"""Voting (rules.md, rule 3): simple majority with or without the chair's casting vote, and the
section 75 partner block vote. Pure functions over plain values.

- ``majority``: a resolution passes on a simple majority of the votes cast by voting members present
  and not conflicted; on a tie the chair's casting vote decides if the board has one, else it fails.
- ``partner_block``: each partner casts one block vote, decided by the majority of its own voting
  members present and not conflicted; the resolution passes only when every partner's block vote is
  for it. A partner whose members tie, or who has no vote, has not agreed: no agreement, no decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

FOR = "for"
AGAINST = "against"
ABSTAIN = "abstain"
CHOICES = (FOR, AGAINST, ABSTAIN)


@dataclass(frozen=True)
class Ballot:
    person_id: int
    choice: str
    representing: str | None = None  # partner organisation code; None = joint
    voting: bool = True  # holds a vote on the board
    conflicted: bool = False  # withdrew or did not vote because of a declared interest

    def __post_init__(self):
        if self.choice not in CHOICES:
            raise ValueError(f"unknown vote {self.choice!r}")

    @property
    def counts(self) -> bool:
        return self.voting and not self.conflicted


@dataclass(frozen=True)
class Tally:
    for_: int
    against: int
    abstained: int

    @property
    def tie(self) -> bool:
        return self.for_ == self.against


@dataclass(frozen=True)
class VoteResult:
    passed: bool
    tally: Tally
    casting_vote_used: bool = False
    blocks: dict[str, str] = field(default_factory=dict)  # partner code -> for / against / none
    explanation: str = ""


def tally(ballots: Iterable[Ballot]) -> Tally:
    counted = [b for b in ballots if b.counts]
    return Tally(
        for_=sum(b.choice == FOR for b in counted),
        against=sum(b.choice == AGAINST for b in counted),
        abstained=sum(b.choice == ABSTAIN for b in counted),
    )


def majority(
    ballots: Iterable[Ballot], *, chair_has_casting_vote: bool, casting_vote: str | None = None
) -> VoteResult:
    """``casting_vote`` is the chair's casting vote (``for`` or ``against``), used only on a tie."""
    result = tally(ballots)
    if result.for_ > result.against:
        return VoteResult(True, result, explanation=f"Carried {result.for_} to {result.against}.")
    if result.for_ < result.against:
        return VoteResult(False, result, explanation=f"Lost {result.for_} to {result.against}.")
    if chair_has_casting_vote and casting_vote in (FOR, AGAINST):
        passed = casting_vote == FOR
        return VoteResult(
            passed,
            result,
            casting_vote_used=True,
            explanation=(
                f"Tied {result.for_} to {result.against}; "
                f"{'carried' if passed else 'lost'} on the chair's casting vote."
            ),
        )
    why = "the board has no casting vote" if not chair_has_casting_vote else "no casting vote was given"
    return VoteResult(False, result, explanation=f"Tied {result.for_} to {result.against}; fails ({why}).")


def block_vote(ballots: Iterable[Ballot]) -> str:
    """One partner's block vote from its own members' ballots: for, against or none (no majority)."""
    result = tally(ballots)
    if result.for_ > result.against:
        return FOR
    if result.against > result.for_:
        return AGAINST
    return "none"


def partner_block(ballots: Iterable[Ballot], *, partners: Sequence[str]) -> VoteResult:
    ballots = list(ballots)
    blocks = {code: block_vote(b for b in ballots if b.representing == code) for code in partners}
    passed = bool(partners) and all(vote == FOR for vote in blocks.values())
    words = {FOR: "for", AGAINST: "against", "none": "no agreement"}
    explanation = "; ".join(f"{code}: {words[vote]}" for code, vote in blocks.items())
    return VoteResult(
        passed,
        tally(ballots),
        blocks=blocks,
        explanation=(
            "Carried: every partner agreed. " if passed else "Not carried: no agreement, no decision. "
        )
        + explanation
        + ".",
    )
