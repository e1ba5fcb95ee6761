"""Board packs (rules.md, rule 3): assembly of the members' and the public pack of a meeting.

One HTML document per pack is rendered by WeasyPrint: cover, agenda, then each item's paper with
its cover sheet and body, each linked object's pack table (``<app>/pack/<model>.html`` with the
object's ``pack_context()``), and for each uploaded appendix as many placeholder pages as the PDF
has. Because every page, appendix pages included, is part of one WeasyPrint document:

- "page x of y" and the running headers (board and meeting date) come from CSS ``@page``;
- the agenda's page numbers come from ``target-counter()`` and so are the PDF's page numbers;
- the outline (bookmarks) comes from ``bookmark-level`` on each item's heading and appendix.

pypdf then draws each appendix page into the body of its placeholder page (scaled to fit under the
running header), so the appendix keeps the pack's header, footer and outline entry.

The public pack leaves exempt content out entirely: an exempt item keeps its title and the stated
reason in the agenda; private papers and exempt appendices are not rendered at all.

Only the project's static files can be fetched while rendering (``commissioning.pdf``): no
``file://`` elsewhere and no network.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.template.loader import TemplateDoesNotExist, get_template, render_to_string
from django.utils import timezone
from weasyprint import CSS

from commissioning import pdf as safe_pdf
from governance.models import (
    AgendaItem,
    BoardPack,
    ExemptionRegime,
    Meeting,
    MinuteEntry,
    PackAudience,
    PaperAppendix,
    Session,
    StandingItem,
)
from governance.selectors import action_log_for

logger = logging.getLogger(__name__)

# Every render goes through commissioning.pdf: the one URL fetcher (static files only).
BASE_URL = safe_pdf.BASE_URL
STATIC_PREFIX = safe_pdf.STATIC_PREFIX
StaticOnlyFetcher = safe_pdf.StaticOnlyFetcher
A4 = (595.28, 841.89)
MM = 72 / 25.4
# The body area of a page (inside the running header and footer), where appendix pages are drawn.
BODY_BOX = (15 * MM, 22 * MM, A4[0] - 15 * MM, A4[1] - 24 * MM)  # x0, y0 (bottom), x1, y1 (top)


def css_string(text: str) -> str:
    """A CSS string literal of user text (board names in the running header): every character that
    is not plainly safe is written as a CSS escape, so nothing can close the string."""
    out = []
    for char in text:
        if char.isalnum() or char in " ,.-()&'/:":
            out.append(char)
        else:
            out.append(f"\\{ord(char):06x}")
    return '"' + "".join(out) + '"'


def exemption_marking(regime: str, paragraph: int | None) -> str:
    """What every page of exempt content in a members' pack carries in its running header."""
    if regime == ExemptionRegime.SCHEDULE_12A:
        return (
            f"NOT FOR PUBLICATION by virtue of paragraph {paragraph} of Part 1 of Schedule 12A to the "
            "Local Government Act 1972"
        )
    if regime == ExemptionRegime.ACT_1960:
        return (
            "NOT FOR PUBLICATION by virtue of section 1(2) of the Public Bodies (Admission to Meetings) "
            "Act 1960"
        )
    return ""


def marking_page(regime: str, paragraph: int | None) -> str:
    """The CSS named page of exempt content under this regime and paragraph (its header says so)."""
    if regime == ExemptionRegime.NONE:
        return ""
    return f"exempt-{regime.replace('_', '-')}-{paragraph or 0}"


@dataclass
class AppendixSlot:
    appendix: PaperAppendix
    anchor: str
    pages: int
    number: int = 0  # the same in both packs: an exempt appendix keeps its place in the public one
    withheld: bool = False  # exempt, left out of this (public) pack: "exempt, not included"
    marking: str = ""  # the running-header marking of its pages in the members' pack
    page_name: str = ""
    problem: str = ""  # why the stored file cannot be drawn in: one placeholder page says so

    @property
    def page_numbers(self) -> range:
        return range(1, self.pages + 1) if not self.withheld else range(0)


@dataclass
class PackItem:
    item: AgendaItem
    included: bool  # rendered in this pack (False: exempt in a public pack, or no paper)
    withheld: bool  # exempt content left out of this pack
    anchor: str
    appendices: list[AppendixSlot] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)  # rendered HTML of linked objects
    minutes: list[MinuteEntry] = field(default_factory=list)
    minutes_draft: bool = False  # the last meeting's minutes are not approved yet
    actions: list = field(default_factory=list)
    marking: str = ""  # members' pack: "NOT FOR PUBLICATION ..." on every page of an exempt item
    page_name: str = ""


@dataclass
class RenderedPack:
    pdf: bytes
    page_count: int
    item_pages: dict[int, int]
    timings: dict[str, float]


def _withheld(item: AgendaItem, audience: str) -> bool:
    if audience == PackAudience.MEMBERS:
        return False
    return item.exempt or bool(item.paper_id and item.paper.session == Session.PRIVATE)


def _linked_html(paper) -> list[str]:
    """Pack tables of the objects a paper links to, rendered by the linked app's own template."""
    out = []
    for link in paper.links.select_related("content_type"):
        target = link.target
        make_context: Callable | None = getattr(target, "pack_context", None)
        if target is None or make_context is None:
            continue
        name = f"{link.content_type.app_label}/pack/{link.content_type.model}.html"
        try:
            template = get_template(name)
        except TemplateDoesNotExist:
            logger.warning("no pack template %s for a linked %s", name, link.content_type)
            continue
        out.append(template.render(make_context()))
    return out


def appendix_problem(appendix: PaperAppendix) -> str:
    """Why an appendix already stored cannot go into a pack ("" when it can).

    Files are checked at upload (commissioning.uploads), but one stored before those checks, or
    damaged since, must not make every later pack of its meeting fail. A board secretary needs the
    pack out on time more than any one appendix in it: the pack is built with a page in the
    appendix's place saying it could not be included, and the secretary can remove or replace it.
    A stored file never changes under its generated name, so a file found good is remembered (by
    name) and not checked again for the next pack; a problem is looked at again each time."""
    name = appendix.file.name
    if not name:
        return "its file is missing"
    key = (name, appendix.page_count)
    if key in _GOOD_FILES:
        return ""
    problem = _stored_file_problem(appendix.file.storage, name, appendix.page_count)
    if not problem:
        if len(_GOOD_FILES) > 2048:
            _GOOD_FILES.clear()
        _GOOD_FILES.add(key)
    return problem


_GOOD_FILES: set[tuple[str, int]] = set()


def _stored_file_problem(storage, name: str, page_count: int) -> str:
    from django.core.exceptions import ValidationError

    from commissioning import uploads

    try:
        with storage.open(name, "rb") as handle:
            data = handle.read(uploads.max_upload_bytes() + 1)
    except (OSError, ValueError):
        return "its file is missing"
    if len(data) > uploads.max_upload_bytes():
        return "its file is larger than uploads may be"
    try:
        info = uploads.check_pdf(data)
    except ValidationError:
        return (
            "its file is not a PDF this service can include (unreadable, too many pages, "
            "or far larger unpacked)"
        )
    if info.page_count != page_count:
        return "its file has changed since it was uploaded"
    return ""


def pack_items(meeting: Meeting, audience: str) -> list[PackItem]:
    items = (
        AgendaItem.objects.filter(meeting=meeting)
        .select_related("paper")
        .prefetch_related("paper__appendices")
        .order_by("order")
    )
    previous = (
        Meeting.objects.filter(board=meeting.board, starts_at__lt=meeting.starts_at)
        .order_by("-starts_at")
        .first()
    )
    out = []
    for item in items:
        withheld = _withheld(item, audience)
        entry = PackItem(item=item, included=not withheld, withheld=withheld, anchor=f"item-{item.pk}")
        members = audience == PackAudience.MEMBERS
        if members and item.exempt:
            entry.marking = exemption_marking(item.exemption_regime, item.exemption_paragraph)
            entry.page_name = marking_page(item.exemption_regime, item.exemption_paragraph)
        if item.standing_kind == StandingItem.PREVIOUS_MINUTES and not withheld:
            # the public pack carries the last minutes only once public (approved, or published as
            # a draft "subject to approval"); members see the draft
            last = (
                getattr(previous, "minutes", None)
                if previous is not None and hasattr(previous, "minutes")
                else None
            )
            if last is not None and (members or last.public):
                minutes = last.entries.select_related("agenda_item").order_by("agenda_item__order")
                if audience == PackAudience.PUBLIC:
                    minutes = minutes.filter(agenda_item__exemption_regime=ExemptionRegime.NONE)
                entry.minutes = list(minutes)
                entry.minutes_draft = last.approved_on is None
            entry.actions = list(action_log_for(meeting, public=audience == PackAudience.PUBLIC))
        elif item.paper_id is None and item.standing_kind != StandingItem.NONE:
            entry.included = False  # standing items without papers appear in the agenda only
        elif item.paper_id is None:
            entry.included = False
        if entry.included and item.paper_id:
            entry.linked = _linked_html(item.paper)
            for number, appendix in enumerate(item.paper.appendices.all(), start=1):
                withheld = audience == PackAudience.PUBLIC and appendix.exempt
                problem = "" if withheld else appendix_problem(appendix)
                if problem:
                    logger.warning("appendix %s left out of a pack: %s", appendix.pk, problem)
                slot = AppendixSlot(
                    appendix=appendix,
                    anchor=f"appendix-{appendix.pk}",
                    pages=1 if problem else appendix.page_count,
                    number=number,
                    withheld=withheld,
                    problem=problem,
                )
                if members and appendix.exempt:
                    slot.marking = exemption_marking(appendix.exemption_regime, appendix.exemption_paragraph)
                    slot.page_name = marking_page(appendix.exemption_regime, appendix.exemption_paragraph)
                elif entry.marking:
                    slot.marking, slot.page_name = entry.marking, entry.page_name
                entry.appendices.append(slot)
        out.append(entry)
    return out


def pack_html(meeting: Meeting, audience: str, *, version: int = 1, supplement: int | None = None) -> str:
    items = pack_items(meeting, audience)
    local = timezone.localtime(meeting.starts_at)
    return render_to_string(
        "governance/pdf/pack.html",
        {
            "meeting": meeting,
            "board": meeting.board,
            "starts_at": local,
            "audience": audience,
            "members": audience == PackAudience.MEMBERS,
            "items": items,
            "version": version,
            "supplement": supplement,
            "generated_at": timezone.localtime(),
        },
    )


def exempt_pages(meeting: Meeting) -> list[tuple[str, str]]:
    """(named page, CSS string of its marking) for every regime and paragraph of exempt content of
    the meeting: the members' pack's running header says "NOT FOR PUBLICATION" and why."""
    kinds = set(
        AgendaItem.objects.filter(meeting=meeting)
        .exclude(exemption_regime=ExemptionRegime.NONE)
        .values_list("exemption_regime", "exemption_paragraph")
    ) | set(
        PaperAppendix.objects.filter(paper__agenda_item__meeting=meeting)
        .exclude(exemption_regime=ExemptionRegime.NONE)
        .values_list("exemption_regime", "exemption_paragraph")
    )
    return sorted(
        (marking_page(regime, paragraph), css_string(exemption_marking(regime, paragraph)))
        for regime, paragraph in kinds
    )


def pack_css(meeting: Meeting, audience: str) -> CSS:
    local = timezone.localtime(meeting.starts_at)
    css = render_to_string(
        "governance/pdf/pack.css",
        {
            "exempt_pages": exempt_pages(meeting) if audience == PackAudience.MEMBERS else [],
            "board_name": css_string(meeting.board.name),
            "meeting_date": css_string(f"{local:%-d %B %Y}"),
            "audience_label": css_string(
                "Members' pack" if audience == PackAudience.MEMBERS else "Public pack"
            ),
        },
    )
    return safe_pdf.css(css)


def _merge_appendices(pdf: bytes, slots: list[tuple[int, PaperAppendix, int]]) -> bytes:
    """Draw each appendix page into the body of its placeholder page (0-based page index)."""
    from pypdf import PdfReader, PdfWriter, Transformation

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    readers: dict[int, PdfReader] = {}
    x0, y0, x1, y1 = BODY_BOX
    for page_index, appendix, appendix_page in slots:
        reader = readers.get(appendix.pk)
        if reader is None:
            with appendix.file.open("rb") as handle:
                reader = readers[appendix.pk] = PdfReader(io.BytesIO(handle.read()))
        source = reader.pages[appendix_page]
        box = source.mediabox
        # Turn the page as a viewer would show it (/Rotate is clockwise), then fit it in the body.
        turn = Transformation().rotate(-(source.rotation or 0) % 360)
        corners = [
            turn.apply_on((float(x), float(y))) for x in (box.left, box.right) for y in (box.bottom, box.top)
        ]
        left, bottom = min(c[0] for c in corners), min(c[1] for c in corners)
        width = max(c[0] for c in corners) - left
        height = max(c[1] for c in corners) - bottom
        scale = min((x1 - x0) / width, (y1 - y0) / height, 1.0)
        tx = x0 + ((x1 - x0) - width * scale) / 2 - left * scale
        ty = y1 - height * scale - bottom * scale
        placement = turn.scale(scale).translate(tx, ty)
        writer.pages[page_index].merge_transformed_page(source, placement)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_pack(
    meeting: Meeting,
    audience: str,
    *,
    version: int = 1,
    supplement: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> RenderedPack:
    progress = progress or (lambda _p: None)
    timings: dict[str, float] = {}
    started = time.monotonic()
    html = pack_html(meeting, audience, version=version, supplement=supplement)
    timings["html"] = time.monotonic() - started
    progress(20)
    started = time.monotonic()
    document = safe_pdf.html(html).render(stylesheets=[pack_css(meeting, audience)])
    timings["layout"] = time.monotonic() - started
    progress(60)
    anchor_pages: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            anchor_pages.setdefault(anchor, index)
    item_pages: dict[int, int] = {}
    slots: list[tuple[int, PaperAppendix, int]] = []
    for entry in pack_items(meeting, audience):
        if entry.included and entry.anchor in anchor_pages:
            item_pages[entry.item.pk] = anchor_pages[entry.anchor] + 1
        for slot in entry.appendices:
            if slot.problem:
                continue  # its placeholder page says why
            for n in range(len(slot.page_numbers)):  # none for an appendix withheld from this pack
                slots.append((anchor_pages[f"{slot.anchor}-{n + 1}"], slot.appendix, n))
    started = time.monotonic()
    pdf = document.write_pdf()
    timings["pdf"] = time.monotonic() - started
    progress(80)
    if slots:
        started = time.monotonic()
        pdf = _merge_appendices(pdf, slots)
        timings["merge"] = time.monotonic() - started
    progress(95)
    return RenderedPack(pdf=pdf, page_count=len(document.pages), item_pages=item_pages, timings=timings)


def pack_path(pack: BoardPack) -> str:
    """Where a pack's PDF lives, relative to settings.PDF_ROOT."""
    return f"packs/{pack.meeting_id}/{pack.audience}-v{pack.version}.pdf"


def write_pack_file(pack: BoardPack, pdf: bytes) -> tuple[str, str]:
    relative = pack_path(pack)
    target = Path(settings.PDF_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".pdf.part")
    partial.write_bytes(pdf)
    partial.replace(target)
    return relative, hashlib.sha256(pdf).hexdigest()


def pack_file(pack: BoardPack) -> Path:
    root = Path(settings.PDF_ROOT).resolve()
    path = (root / pack.file).resolve()
    if root not in path.parents:
        raise FileNotFoundError("pack outside PDF_ROOT")
    return path
