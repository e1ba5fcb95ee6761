"""Writes of the governance app (conventions.md): each service is one transaction with keyword-only
arguments, validates, writes with the acting user in the history context, and is what the pages,
the API, the admin, the tasks and the demo loader call. The rules themselves are the pure modules
``quorum``, ``voting``, ``delegation``, ``calendar`` and ``references``, and the models' ``clean``.

One module per part of the domain; ``from governance import services; services.x(...)`` reaches
every public service."""

from commissioning.services import StaleEdit  # what paper_update raises on a stale version
from governance.services.boards import (
    board_create,
    board_update,
    forward_plan_publish,
    forward_plan_save,
    membership_add,
    membership_update,
)
from governance.services.decisions import (
    CastVote,
    VoteOutcome,
    count_votes,
    decision_correct,
    decision_link_add,
    decision_link_remove,
    decision_publish,
    decision_record,
    decision_update,
)
from governance.services.interests import (
    declaration_record,
    declaration_update,
    register_change_record,
    register_entry_record,
)
from governance.services.meetings import (
    EXCLUSION_TITLE,
    STANDING_ITEMS,
    agenda_item_add,
    agenda_item_move,
    agenda_item_update,
    agenda_publish,
    attendance_record,
    meeting_create,
    meeting_mark_held,
    meeting_set_status,
    meeting_update,
    require_started,
)
from governance.services.minutes import (
    action_add,
    action_set_status,
    action_update,
    minutes_approve,
    minutes_publish_draft,
    minutes_write,
)
from governance.services.numbering import (
    allocate_decision_reference,
    allocate_meeting_minute_numbers,
    allocate_minute_number,
    item_minute_number,
    next_number,
)
from governance.services.packs import MEMBERS_PACK_REFUSED, may_generate_members_pack, pack_request
from governance.services.papers import (
    APPENDIX_MAX_BYTES,
    appendix_add,
    appendix_remove,
    paper_create,
    paper_link_add,
    paper_link_remove,
    paper_update,
    pdf_page_count,
)

__all__ = [
    "allocate_meeting_minute_numbers",
    "minutes_publish_draft",
    "require_started",
    "meeting_mark_held",
    "agenda_publish",
    "decision_correct",
    "forward_plan_publish",
    "APPENDIX_MAX_BYTES",
    "EXCLUSION_TITLE",
    "MEMBERS_PACK_REFUSED",
    "STANDING_ITEMS",
    "StaleEdit",
    "CastVote",
    "VoteOutcome",
    "action_add",
    "action_set_status",
    "action_update",
    "agenda_item_add",
    "agenda_item_move",
    "agenda_item_update",
    "allocate_decision_reference",
    "allocate_minute_number",
    "appendix_add",
    "appendix_remove",
    "attendance_record",
    "board_create",
    "board_update",
    "count_votes",
    "decision_link_add",
    "decision_link_remove",
    "decision_publish",
    "decision_record",
    "decision_update",
    "declaration_record",
    "declaration_update",
    "forward_plan_save",
    "item_minute_number",
    "may_generate_members_pack",
    "meeting_create",
    "meeting_set_status",
    "meeting_update",
    "membership_add",
    "membership_update",
    "minutes_approve",
    "minutes_write",
    "next_number",
    "pack_request",
    "paper_create",
    "paper_link_add",
    "paper_link_remove",
    "paper_update",
    "pdf_page_count",
    "register_change_record",
    "register_entry_record",
]
