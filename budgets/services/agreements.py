"""Section 75 agreements: recorded, changed and (by an administrator) deleted, with their terms as
data (the functions delegated, review, notice, exit, disputes, VAT, population) and the signed
document, a PDF checked by ``commissioning.uploads`` and kept under a generated name."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from budgets.models import BudgetLine, Section75Agreement, year_label
from budgets.services.base import (
    Errors,
    check_decision,
    delete_recorded,
    partners,
    raise_errors,
    refuse_stale,
    save_recorded,
)
from commissioning import uploads
from commissioning.models import User

TERM_FIELDS = (
    "nhs_functions",
    "council_functions",
    "review_frequency_months",
    "next_review_due",
    "notice_months",
    "exit_provisions",
    "dispute_resolution",
    "vat_position",
    "population",
)
RECORD_FIELDS = ("partnership", "reference", "title", "host", "start", "end", "status", "decision")
# What the agreement's form and its API take (with the signed document, each its own way), in order.
AGREEMENT_FIELDS = (*RECORD_FIELDS, *TERM_FIELDS, "signed_document")
FUNCTION_NAME_MAX = 300


def _function_names(names) -> list[str]:
    """Named functions, trimmed, blanks dropped and each named once, in the order given."""
    seen: dict[str, None] = {}
    for name in names or []:
        text = " ".join(str(name).split())
        if text and text.casefold() not in {k.casefold() for k in seen}:
            seen[text] = None
    return list(seen)


def keep_pdf(field_file, upload: uploads.CheckedUpload | None, name_attr: str, instance) -> None:
    """Store a checked PDF under its generated name, its original name kept as display text only."""
    if upload is None:
        return
    field_file.save(upload.storage_name, ContentFile(upload.data), save=False)
    setattr(instance, name_attr, upload.display_name)


def agreement_validate(*, agreement: Section75Agreement) -> None:
    """Every rule an agreement (new, or changed and not yet saved) must keep; a ValidationError
    naming the field otherwise. The pages, the API and the admin check with this."""
    errors: Errors = {}
    partnership = agreement.partnership
    if agreement.host_id and agreement.host_id not in partners(partnership):
        errors.setdefault("host", []).append(
            f"The host must be one of the partners of {partnership.name}: "
            f"{partnership.council.name} or {partnership.nhs_commissioner.name}."
        )
    if agreement.start and agreement.end and agreement.end <= agreement.start:
        errors.setdefault("end", []).append("The end date must be after the start date.")
    check_decision(agreement.decision, partnership, "decision", errors)
    agreement.nhs_functions = _function_names(agreement.nhs_functions)
    agreement.council_functions = _function_names(agreement.council_functions)
    for field in ("nhs_functions", "council_functions"):
        if any(len(name) > FUNCTION_NAME_MAX for name in getattr(agreement, field)):
            errors.setdefault(field, []).append(
                f"Name each function in {FUNCTION_NAME_MAX} characters or fewer."
            )
    due = agreement.next_review_due
    if due and agreement.start and agreement.end and not agreement.start <= due <= agreement.end:
        errors.setdefault("next_review_due", []).append(
            "The next review must fall within the agreement's term "
            f"({agreement.start:%d/%m/%Y} to {agreement.end:%d/%m/%Y})."
        )
    if agreement.pk and agreement.start and agreement.end:
        outside = (
            BudgetLine.objects.filter(schedule__agreement=agreement)
            .exclude(year__in=agreement.years)
            .values_list("year", flat=True)
            .distinct()
        )
        if outside:
            labels = ", ".join(year_label(y) for y in sorted(outside))
            errors.setdefault("end", []).append(
                f"The agreement must still cover the years of its budget lines ({labels})."
            )
    raise_errors(errors)
    agreement.full_clean(exclude=["version"])


def _known(fields: dict[str, Any]) -> uploads.CheckedUpload | None:
    """Refuse unknown fields; take out the signed document (a ``CheckedUpload`` or None)."""
    unknown = set(fields) - set(AGREEMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown agreement fields: {sorted(unknown)}")
    document = fields.pop("signed_document", None)
    if document is not None and not isinstance(document, uploads.CheckedUpload):
        raise TypeError("signed_document must be a commissioning.uploads.CheckedUpload")
    return document


@transaction.atomic
def agreement_create(*, by: User, **fields: Any) -> Section75Agreement:
    document = _known(fields)
    agreement = Section75Agreement(**fields)
    agreement_validate(agreement=agreement)
    keep_pdf(agreement.signed_document, document, "signed_document_name", agreement)
    save_recorded(agreement, by=by)
    return agreement


@transaction.atomic
def agreement_update(
    *, agreement: Section75Agreement, by: User, version: int | None = None, **fields: Any
) -> Section75Agreement:
    document = _known(fields)
    locked = Section75Agreement.objects.select_for_update().get(pk=agreement.pk)
    refuse_stale(version, locked.version, "agreement")
    for name, value in fields.items():
        setattr(locked, name, value)
    agreement_validate(agreement=locked)
    keep_pdf(locked.signed_document, document, "signed_document_name", locked)
    locked.version += 1
    save_recorded(locked, by=by)
    return locked


@transaction.atomic
def agreement_delete(*, agreement: Section75Agreement, by: User) -> None:
    """Delete an agreement with no schedules (``PROTECT`` refuses it otherwise)."""
    delete_recorded(agreement, by=by)
