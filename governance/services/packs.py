"""Board packs: each request queues a new version of a meeting's public or members' pack, rendered
by a Celery task after commit (``governance.tasks``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from commissioning import jobs
from commissioning.models import User
from governance.models import (
    BoardPack,
    Meeting,
    MeetingStatus,
    PackAudience,
    PackStatus,
    sees_exempt_content_of,
)
from governance.services.common import validated_save

MEMBERS_PACK_REFUSED = "Only the board's members and secretaries may generate the members' pack."


def may_generate_members_pack(user, meeting: Meeting) -> bool:
    """The members' pack carries the board's exempt content: its members and the board secretaries
    may generate it (the page's button, the page's and the API's request)."""
    return sees_exempt_content_of(user, meeting.board)


@transaction.atomic
def pack_request(*, meeting: Meeting, audience: str, by: User) -> BoardPack:
    """Queue a new version of a meeting's pack; the Celery task renders it after commit."""
    if audience not in PackAudience.values:
        raise ValidationError({"audience": ["Choose public or members."]})
    if audience == PackAudience.MEMBERS and not may_generate_members_pack(by, meeting):
        raise PermissionDenied(MEMBERS_PACK_REFUSED)
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    last = BoardPack.objects.filter(meeting=locked, audience=audience).aggregate(n=Max("version"))["n"] or 0
    supplement = locked.agenda_items.aggregate(n=Max("supplement_number"))["n"]
    pack = BoardPack.objects.create(
        meeting=locked,
        audience=audience,
        version=last + 1,
        supplement_number=supplement,
        requested_by=by,
        status=PackStatus.QUEUED,
    )
    if locked.status == MeetingStatus.SCHEDULED:
        locked.status = MeetingStatus.AGENDA_PUBLISHED
    if locked.agenda_published_on is None:  # a pack issued publishes the agenda: its numbers freeze
        locked.agenda_published_on = timezone.localdate()
    validated_save(locked, by=by)
    from governance.tasks import generate_pack

    jobs.enqueue(generate_pack, pack.pk)  # broker down: the pack stays queued and is recovered later
    return pack
