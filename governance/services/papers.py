"""Board papers (the cover-sheet fields of NHS and council papers) and their PDF appendices."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import Max

from commissioning import uploads
from commissioning.models import User
from commissioning.services import StaleEdit
from governance.models import Board, ExemptionRegime, Paper, PaperAppendix, PaperLink
from governance.services.common import acting, check_fields, exemption_errors, unchanged, validated_save

APPENDIX_MAX_BYTES = 10 * 1024 * 1024
STALE_PAPER = (
    "Someone else changed this paper since you opened it. "
    "Your changes have not been saved: reload the page to see theirs."
)

PAPER_FIELDS = {
    "board",
    "title",
    "session",
    "authors",
    "clinical_lead",
    "executive_sponsor",
    "executive_summary",
    "recommendations",
    "body",
    "equality_impact",
    "financial_impact",
    "legal_impact",
    "risk_impact",
    "conflicts_of_interest",
    "presented_before",
}


def _clean_recommendations(paper: Paper) -> None:
    paper.recommendations = [r.strip() for r in (paper.recommendations or []) if r and r.strip()]


@transaction.atomic
def paper_create(*, by: User | None, **fields: Any) -> Paper:
    check_fields(fields, PAPER_FIELDS, "paper")
    paper = Paper(**fields)
    _clean_recommendations(paper)
    return validated_save(paper, by=by)


@transaction.atomic
def paper_update(
    *, paper: Paper, by: User | None, version: int | None = None, board: Board | None = None, **fields: Any
) -> Paper:
    """Change a paper. ``version`` is the one the editor loaded: a stale edit is refused. A paper
    stays with its board (``board``, if given, must be its own)."""
    check_fields(fields, PAPER_FIELDS - {"board"}, "paper")
    moved = unchanged(paper, "board", board, "A paper cannot move to another board.")
    if moved:
        raise ValidationError(moved)
    locked = Paper.objects.select_for_update().get(pk=paper.pk)
    if version is not None and locked.version != version:
        raise StaleEdit(STALE_PAPER)
    for name, value in fields.items():
        setattr(locked, name, value)
    _clean_recommendations(locked)
    locked.version += 1
    return validated_save(locked, by=by)


def pdf_page_count(data: bytes) -> int:
    """Pages of an uploaded PDF, checked by content (not by name) and refused if it carries
    scripts, automatic actions or embedded files (commissioning.uploads)."""
    return uploads.check_pdf(data, field="file", label="The file").page_count


@transaction.atomic
def appendix_add(
    *,
    paper: Paper,
    title: str,
    filename: str,
    data: bytes,
    exemption_regime: str = ExemptionRegime.NONE,
    exemption_paragraph: int | None = None,
    exemption_reason: str = "",
    by: User | None,
) -> PaperAppendix:
    errors = exemption_errors(exemption_regime, exemption_paragraph, exemption_reason)
    if not (title or "").strip():
        errors["title"] = ["Enter the title of the appendix."]
    if len(data) > APPENDIX_MAX_BYTES:
        errors["file"] = [f"The file must be smaller than {APPENDIX_MAX_BYTES // (1024 * 1024)} MB."]
    if errors:
        raise ValidationError(errors)
    pages = pdf_page_count(data)
    last = paper.appendices.aggregate(n=Max("order"))["n"] or 0
    appendix = PaperAppendix(
        paper=paper,
        order=last + 1,
        title=title.strip(),
        page_count=pages,
        exemption_regime=exemption_regime,
        exemption_paragraph=exemption_paragraph if exemption_regime == ExemptionRegime.SCHEDULE_12A else None,
        exemption_reason=exemption_reason if exemption_regime != ExemptionRegime.NONE else "",
        original_name=uploads.display_name(filename, fallback="appendix.pdf"),
    )
    # Stored under a generated name; the user's file name is kept only as display text.
    appendix.file.save(uploads.storage_name("pdf"), ContentFile(data), save=False)
    return validated_save(appendix, by=by)


@transaction.atomic
def appendix_remove(*, appendix: PaperAppendix, by: User | None) -> Paper:
    """Remove an appendix from its paper (a bad file, or the wrong one). The later appendices move
    up one; packs already built keep what they held; the file goes once the removal commits."""
    locked = PaperAppendix.objects.select_for_update().select_related("paper").get(pk=appendix.pk)
    paper = locked.paper
    name = locked.file.name
    with acting(by):
        locked.delete()
        for later in paper.appendices.filter(order__gt=locked.order).order_by("order"):
            later.order -= 1
            later.save(update_fields=["order"])
    if name:
        storage = locked.file.storage
        transaction.on_commit(lambda: storage.delete(name))
    return paper


@transaction.atomic
def paper_link_add(*, paper: Paper, target: models.Model, by: User | None) -> PaperLink:
    """Carry a record's live table in the paper's packs (a schedule's budget table): the record
    must be of the paper's partnership and have a table for the pack."""
    from governance.linking import partnership_id_of

    owner = partnership_id_of(target)
    if owner is not None and owner != paper.board.partnership_id:
        raise ValidationError({"target": [f"Choose a record of {paper.board.partnership.name}."]})
    if not hasattr(target, "pack_context"):
        raise ValidationError({"target": ["This record has no table to carry in a pack."]})
    with acting(by):
        link, _ = PaperLink.objects.get_or_create(
            paper=paper, content_type=ContentType.objects.get_for_model(target), object_id=target.pk
        )
    return link


@transaction.atomic
def paper_link_remove(*, link: PaperLink, by: User | None) -> Paper:
    paper = link.paper
    with acting(by):
        link.delete()
    return paper
