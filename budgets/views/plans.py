"""A partner's contribution plan for a pooled schedule and year (rules.md rule 2), created and
changed on a page: which partner, which year, and how often the host invoices it. The amount and
the instalments are derived and shown, never typed. A change that alters the invoices still to
raise is shown for confirmation first; one that would alter instalments already raised is refused
on its field (the service says so again under the plan's lock)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from budgets import selectors, services
from budgets.models import ContributionPlan, Schedule, financial_year_of, year_label
from budgets.plan_forms import ContributionPlanForm
from budgets.selectors.contributions import contributing_partners
from budgets.services.contributions import FREQUENCY_LOCKED
from commissioning.generic import ServiceFormView


class _PlanView(ServiceFormView):
    model = ContributionPlan
    form_class = ContributionPlanForm
    template_name = "budgets/contribution_plan_form.html"
    submit = "Save the plan"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return selectors.with_related(qs) if model is Schedule else qs

    def get_plan(self) -> ContributionPlan | None:
        return None

    def get_schedule(self) -> Schedule:
        """The plan's schedule when a plan is changed; otherwise the schedule the URL names."""
        plan = self.get_plan()
        if plan is not None:
            return self.get_object("view", model=Schedule, pk=plan.schedule_id)
        return self.get_object("view", model=Schedule)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(schedule=self.get_schedule(), plan=self.get_plan())
        return kwargs

    def chosen(self, form) -> tuple[int, object, str]:
        """The plan's year, partner and frequency as posted (a change keeps its year and partner)."""
        plan = self.get_plan()
        data = form.cleaned_data
        if plan is not None:
            return plan.year, plan.partner, data["frequency"]
        return data["year"], data["partner"], data["frequency"]

    def form_valid(self, form):
        year, partner, frequency = self.chosen(form)
        change = selectors.plan_change(self.get_schedule(), year, partner, frequency)
        if change is not None and not form.cleaned_data["confirmed"]:
            if change.alters_raised:
                form.add_error("frequency", FREQUENCY_LOCKED)
                return self.form_invalid(form)
            if change.changes_unraised:
                return self.render_to_response(
                    self.get_context_data(form=form, confirming=True, change=change)
                )
        return super().form_valid(form)

    def perform(self, form) -> ContributionPlan:
        year, partner, frequency = self.chosen(form)
        plan = self.get_plan()
        return services.contribution_plan_save(
            schedule=self.get_schedule(),
            year=year,
            partner=partner,
            frequency=frequency,
            by=self.request.user,
            version=form.cleaned_data["version"],
            new=plan is None,
        )

    def get_success_message(self, plan: ContributionPlan) -> str:
        return (
            f"{plan.partner.name} pays its {plan.year_label} contribution to schedule "
            f"{plan.schedule.number} {plan.get_frequency_display().lower()}"
        )

    def get_success_url(self, plan=None) -> str:
        return self.get_schedule().agreement.get_absolute_url() + "#contributions"

    def cancel_url(self) -> str:
        return self.get_schedule().agreement.get_absolute_url() + "#contributions"

    def breadcrumbs(self) -> list[tuple[str, str]]:
        agreement = self.get_schedule().agreement
        return [
            ("Section 75 budgets", reverse("budgets:index")),
            (agreement.reference, agreement.get_absolute_url()),
        ]

    def get_caption(self) -> str:
        schedule = self.get_schedule()
        return f"{schedule.agreement.reference} · Schedule {schedule.number}: {schedule.title}"

    def current(self, form):
        """The plan as it stands for the year and partner on the form, when they are known."""
        plan = self.get_plan()
        if plan is not None:
            year, partner = plan.year, plan.partner
        else:
            year = _int(form["year"].value())
            partner = next(
                (p for p in form.fields["partner"].queryset if str(p.pk) == str(form["partner"].value())),
                None,
            )
        if year is None or partner is None:
            return None
        return next(
            (r for r in selectors.plan_rows([self.get_schedule()], year) if r.partner.pk == partner.pk),
            None,
        )

    def get_context_data(self, **kwargs):
        kwargs.setdefault("confirming", False)
        context = super().get_context_data(**kwargs)
        schedule = self.get_schedule()
        context.update(
            {
                "schedule": schedule,
                "agreement": schedule.agreement,
                "plan": self.get_plan(),
                "current": self.current(context["form"]),
            }
        )
        if context["confirming"]:
            context["page_title"] = "Check the change to the instalments"
        return context


def _int(value) -> int | None:
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else None


class ContributionPlanCreateView(_PlanView):
    """Plan how a partner pays its contribution to a pooled schedule the user may see (the role must
    add contribution plans). ``?year=`` and ``?partner=`` (a code) preselect the year and partner."""

    action = "add"

    def get_heading(self) -> str:
        return "Plan a partner's contribution"

    def get_initial(self):
        schedule = self.get_schedule()
        years = schedule.agreement.years
        year = _int(self.request.GET.get("year", ""))
        if year not in years:
            year = min(max(financial_year_of(timezone.localdate()), years[0]), years[-1])
        initial = {"year": year}
        code = self.request.GET.get("partner", "").upper()
        partner = next((p for p in contributing_partners(schedule) if p.code.upper() == code), None)
        if partner is not None:
            initial["partner"] = partner.pk
        return initial


class ContributionPlanUpdateView(_PlanView):
    """Change how often a partner is invoiced for its contribution (the role must change contribution
    plans; a plan out of the user's scope: 404)."""

    action = "change"

    def get_plan(self) -> ContributionPlan:
        return self.get_object("change")

    def get_heading(self) -> str:
        plan = self.get_plan()
        return f"{plan.partner.name}'s contribution, {year_label(plan.year)}"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        return qs.select_related("partner") if model is ContributionPlan else qs
