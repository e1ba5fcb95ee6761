"""Price changes: proposed on a package (with a check step that says what the change does and which
later prices it replaces), approved or declined by a brokerage manager who did not propose them."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.views.generic import TemplateView

from commissioning.forms import add_service_errors
from commissioning.generic import ConfirmStep
from commissioning.money import format_money

from .. import forms, histories, selectors, services
from ..models import Package, PriceChange
from ..services.prices import NOT_A_MANAGER, OWN_CHANGE, person_name
from .base import BrokerageActionView, BrokerageFormView, BrokerageMixin
from .packages import PackageFormView

# The buttons of the check step: confirm saves; edit goes back to the form with the answers typed.
STEP_CONFIRM, STEP_EDIT = "confirm", "edit"


def price_words(change) -> str:
    """``£1,400.00 a week (£1,400.00 per week × 1)``."""
    return (
        f"{format_money(change.weekly_cost)} a week ({format_money(change.unit_rate)} per "
        f"{change.unit} × {change.units_per_week:g})"
    )


class PackageChangeCostView(PackageFormView):
    """Change the price: the form, then a check step (what the change does, the rate card, the later
    prices it replaces), then the change proposed (applied at once within the card, else pending)."""

    form_class = forms.CostChangeForm
    heading = "Change the price"
    submit = "Continue"

    def get_initial(self):
        initial = super().get_initial()
        current = self.package().costs.order_by("-effective_from").first()
        if current:
            initial.update(unit=current.unit, units_per_week=current.units_per_week)
        return initial

    def form_valid(self, form):
        step = self.request.POST.get("step")
        if step == STEP_CONFIRM:
            return super().form_valid(form)
        if step == STEP_EDIT:
            return self.render_to_response(self.get_context_data(form=form))
        data = form.cleaned_data
        try:
            check = services.price_change_check(
                package=self.package(),
                effective_from=data["effective_from"],
                unit_rate=data["unit_rate"],
                units_per_week=data["units_per_week"],
                unit=data["unit"],
                version=data["version"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        package = self.package()
        hidden = [
            (name, value)
            for name, values in self.request.POST.lists()
            if name not in ("csrfmiddlewaretoken", "step")
            for value in values
        ]
        context = self.get_context_data(
            form=form,
            check=check,
            hidden=hidden,
            reason=data["reason"],
            current=package.costs.order_by("-effective_from").first(),
        )
        context.update(heading="Check the price change", page_title="Check the price change")
        return render(self.request, "brokerage/price_check.html", context)

    def perform(self, form):
        return services.price_change_propose(
            package=self.package(), by=self.request.user, replaces_confirmed=True, **form.cleaned_data
        )

    def get_success_message(self, change):
        day = histories.day_text(change.effective_from)
        if change.is_pending:
            return (
                f"Price change from {day} sent for approval: {format_money(change.weekly_cost)} a week. "
                "It applies once a brokerage manager approves it."
            )
        return f"Price changed from {day}: {format_money(change.weekly_cost)} a week"


def _back_to(data, change: PriceChange) -> str:
    """Back where the manager came from (``back`` in ``data``): the approvals list, or the package."""
    approvals = reverse("brokerage:approvals")
    return approvals if data.get("back") == approvals else change.get_absolute_url()


def change_details(change: PriceChange, check=None) -> list[tuple[str, str]]:
    """The change in words, for the approval and decline steps."""
    package = change.package
    rows = [
        ("Package", f"{package.reference}: {package.get_service_type_display()}, {package.provider}"),
        ("Price from", histories.day_text(change.effective_from)),
        ("New price", price_words(change)),
        (
            "Rate card",
            "No rate card for this service and unit"
            if change.rate_card_rate is None
            else f"{format_money(change.rate_card_rate)} per {change.unit}: "
            f"{format_money(change.rate_card_difference)} above it",
        ),
        ("Proposed by", person_name(change.proposed_by)),
        ("Proposed on", f"{change.proposed_at:%-d %B %Y}"),
        ("Reason", change.reason),
    ]
    if check is not None and check.replaces:
        rows.append(("Replaces the later prices", check.replaces_words()))
    return rows


class PriceChangeMixin:
    model = PriceChange
    action = "change"
    manager_only = NOT_A_MANAGER
    # The package's price history is what changes: its scope is checked before the write commits.
    scope_model = Package

    def object_queryset(self, model, action):
        return (
            super()
            .object_queryset(model, action)
            .select_related("package__client__partnership", "package__provider__organisation", "proposed_by")
        )

    def written_object(self, result):
        return self.get_object().package


class PriceChangeApproveView(PriceChangeMixin, ConfirmStep, BrokerageActionView):
    """Approve a pending price change ("Are you sure?", then the button): it applies from its date."""

    http_method_names = ["get", "post"]
    confirm_template = "brokerage/confirm.html"

    def confirm_target(self):
        change = self.get_object()
        if change.proposed_by_id == self.request.user.pk:
            raise PermissionDenied(OWN_CHANGE)
        return change

    def confirm_context(self, change):
        check = None
        if change.is_pending:
            try:
                check = services.price_change_check(
                    package=change.package,
                    effective_from=change.effective_from,
                    unit_rate=change.unit_rate,
                    units_per_week=change.units_per_week,
                    unit=change.unit,
                    approving=change,
                )
            except ValidationError:
                check = None
        return {
            "heading": "Approve this price change?",
            "caption": f"Package {change.package.reference}",
            "details": change_details(change, check),
            "explanation": [
                "Once approved, the price applies from its date and the next recharge run bills it "
                "(and trues up any month already invoiced)."
            ],
            "warning": (
                f"It replaces the later prices: {check.replaces_words()}." if check and check.replaces else ""
            ),
            "confirm_label": "Approve the price change",
            "cancel_url": _back_to(self.request.GET, change),
            "hidden": [("back", self.request.GET.get("back", ""))],
            "subnav": self.subnav(),
        }

    def act(self, change):
        approved = services.price_change_approve(change=change, by=self.request.user)
        return (
            f"Price change for package {change.package.reference} approved: "
            f"{format_money(approved.weekly_cost)} a week from {histories.day_text(approved.effective_from)}"
        )

    def back(self, change):
        return _back_to(self.request.POST, change)


class PriceChangeDeclineView(PriceChangeMixin, BrokerageFormView):
    """Decline a pending price change, saying why: the price stays as it was."""

    form_class = forms.PriceDeclineForm
    heading = "Decline this price change"
    submit = "Decline the price change"
    intro_template = "brokerage/_price_change_summary.html"

    def change(self) -> PriceChange:
        return self.get_object()

    def perform(self, form):
        return services.price_change_decline(
            change=self.change(), by=self.request.user, reason=form.cleaned_data["reason"]
        )

    def get_initial(self):
        return {"back": self.request.GET.get("back", "")}

    def get_success_message(self, change):
        return f"Price change for package {change.package.reference} declined: the price stays as it was"

    def get_success_url(self, result=None):
        return _back_to(self.request.POST, self.change())

    def get_caption(self) -> str:
        return f"Package {self.change().package.reference}"

    def cancel_url(self):
        return self.change().get_absolute_url()

    def breadcrumbs(self):
        package = self.change().package
        return [
            *super().breadcrumbs(),
            ("Packages", reverse("brokerage:packages")),
            (f"Package {package.reference}", package.get_absolute_url()),
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            details=change_details(self.change()),
            intro_template=self.intro_template,
            **kwargs,
        )


class ApprovalsView(BrokerageMixin, TemplateView):
    """The manager's list of what waits for approval: price changes and offers above the rate card,
    oldest first, each with approve and decline (both with their own confirmation step)."""

    model = PriceChange
    manager_only = "Only a brokerage manager approves prices and offers above the rate card."
    template_name = "brokerage/approvals.html"
    section = "approvals"

    def get_context_data(self, **kwargs):
        user, partnership = self.request.user, self.request.partnership
        return super().get_context_data(
            page_title="Awaiting approval",
            prices=list(selectors.prices_awaiting_approval(user, partnership)),
            offers=list(selectors.offers_awaiting_approval(user, partnership)),
            back=reverse("brokerage:approvals"),
            **kwargs,
        )
