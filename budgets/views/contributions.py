"""Partners' contributions to the pooled schedules of an agreement (rules.md rule 2): raising this
quarter's instalments as draft invoices, behind the GOV.UK "Are you sure?" step."""

from __future__ import annotations

from django.utils import timezone

from budgets import contributions, selectors, services
from budgets.models import ContributionPlan, Schedule, Section75Agreement, financial_year_of
from commissioning.generic import ConfirmStep, ServiceActionView
from commissioning.money import format_money


def quarter_end(today) -> object:
    """The last day of the financial quarter ``today`` falls in."""
    return contributions.quarter_bounds(financial_year_of(today), contributions.quarter_of(today))[1]


class RaiseContributionsView(ConfirmStep, ServiceActionView):
    """GET: what raising this quarter's contribution invoices would raise; POST: raise them (each
    instalment due by the quarter's end and not yet raised becomes a draft invoice from the host).
    The role must add contribution plans; the agreement is fetched through the gate (404 hidden)."""

    model = ContributionPlan
    action = "add"
    http_method_names = ["get", "post"]
    confirm_template = "budgets/confirm.html"

    def get_target(self) -> Section75Agreement:
        self.require_role("add", ContributionPlan)
        return self.get_object("view", model=Section75Agreement)

    confirm_target = get_target

    def due(self, agreement: Section75Agreement):
        upto = quarter_end(timezone.localdate())
        year = financial_year_of(upto)
        if year not in agreement.years:
            return upto, []
        schedules = selectors.with_related(
            Schedule.objects.restrict(self.request.user, "view").filter(agreement=agreement)
        )
        rows = selectors.plan_rows(list(schedules), year)
        return upto, [(row, instalment) for row in rows for instalment in row.due_by(upto)]

    def confirm_context(self, agreement) -> dict:
        upto, due = self.due(agreement)
        count = len(due)
        return {
            "agreement": agreement,
            "caption": f"{agreement.reference}: {agreement.title}",
            "heading": "Raise this quarter's contribution invoices",
            "explanation": (
                [
                    f"{count} instalment{'s' if count != 1 else ''} of the partners' contributions to the "
                    f"pooled schedules fall{'s' if count == 1 else ''} due by {upto:%-d %B %Y} and "
                    f"{'has' if count == 1 else 'have'} not been invoiced.",
                    f"Each becomes a draft invoice from {agreement.host.name}; finance issues it, which "
                    "gives it its number and PDF.",
                ]
                if due
                else [
                    f"Every instalment due by {upto:%-d %B %Y} has already been invoiced: nothing to raise."
                ]
            ),
            "details": [
                (
                    f"{row.partner.code} to schedule {row.schedule.number}, instalment {i.number} of "
                    f"{len(row.instalments)} (due {i.due:%-d %B %Y})",
                    format_money(i.amount),
                )
                for row, i in due
            ],
            "confirm_label": "Raise the invoices" if due else "Check again",
            "cancel_url": agreement.get_absolute_url(),
        }

    def act(self, agreement) -> str:
        raised = services.contribution_instalments_raise(
            agreement=agreement, upto=quarter_end(timezone.localdate()), by=self.request.user
        )
        if not raised:
            return "Nothing to raise: every instalment due this quarter has already been invoiced."
        total = sum((r.amount for r in raised), start=0)
        return (
            f"Raised {len(raised)} contribution invoice{'s' if len(raised) != 1 else ''} as draft"
            f"{'s' if len(raised) != 1 else ''}, {format_money(total)} in all: finance issues them."
        )

    def back(self, agreement) -> str:
        return agreement.get_absolute_url() + "#contributions"
