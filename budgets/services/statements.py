"""Pooled fund statements (rules.md rule 2): a request queues the statement's PDF, which the worker
renders once with the figures as they stand, keeping both the file and the figures."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from budgets.models import FundStatement, Section75Agreement, StatementStatus, year_label
from commissioning import jobs
from commissioning.models import User

logger = logging.getLogger(__name__)


def fund_statement_validate(*, agreement: Section75Agreement, year: int, quarter: int | None) -> None:
    errors: dict[str, list[str]] = {}
    if year not in agreement.years:
        errors["year"] = [f"Agreement {agreement.reference} does not cover {year_label(year)}."]
    if quarter is not None and quarter not in (1, 2, 3, 4):
        errors["quarter"] = ["A quarter is 1, 2, 3 or 4 (April to June is 1)."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def fund_statement_request(
    *, agreement: Section75Agreement, year: int, quarter: int | None, by: User
) -> FundStatement:
    """Queue the PDF of the agreement's statement for ``year`` (or its ``quarter``); the worker
    renders it after commit (``budgets.tasks.render_fund_statement``)."""
    fund_statement_validate(agreement=agreement, year=year, quarter=quarter)
    statement = FundStatement.objects.create(agreement=agreement, year=year, quarter=quarter, requested_by=by)
    from budgets.tasks import render_fund_statement

    jobs.enqueue(render_fund_statement, statement.pk)  # broker down: recovered as stalled work
    return statement


def fund_statement_render(*, statement_id: int) -> FundStatement:
    """Render and keep a queued statement (idempotent: a ready one is returned as it is; the row
    lock makes a second worker wait). A failure is recorded on the row, never half kept."""
    from budgets import statement_pdf
    from budgets.selectors.statement import fund_statement, statement_data

    try:
        with transaction.atomic():
            row = (
                FundStatement.objects.select_for_update(of=("self",))
                .select_related("agreement__host", "agreement__partnership")
                .get(pk=statement_id)
            )
            if row.status == StatementStatus.READY:
                return row
            statement = fund_statement(row.agreement, year=row.year, quarter=row.quarter)
            path, checksum = statement_pdf.render_and_store(row, statement)
            row.figures = statement_data(statement)
            row.pdf_path, row.pdf_checksum = path, checksum
            row.status = StatementStatus.READY
            row.error = ""
            row.finished_at = timezone.now()
            row.save()
            return row
    except Exception as exc:
        logger.exception("pooled fund statement %s failed", statement_id)
        FundStatement.objects.filter(pk=statement_id).exclude(status=StatementStatus.READY).update(
            status=StatementStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        return FundStatement.objects.get(pk=statement_id)
