"""Offers: recorded against a referral, approved above the rate card by a brokerage manager,
declined, or accepted (the package starts)."""

from __future__ import annotations

from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.timesince import timesince
from django.views.generic import TemplateView

from commissioning.generic import ConfirmStep
from commissioning.money import format_money

from .. import forms, histories, rates, selectors, services
from ..models import Offer, Package, Referral
from ..services.offers import NOT_A_MANAGER
from ..services.prices import person_name
from .base import BrokerageActionView, BrokerageFormView, BrokerageMixin


class OfferCreateView(BrokerageFormView):
    model = Offer
    action = "add"
    form_class = forms.OfferForm
    heading = "Record an offer"
    submit = "Save offer"
    template_name = "brokerage/offer_form.html"

    def referral(self) -> Referral:
        return self.get_object("change", model=Referral)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        referral = self.referral()
        kwargs.update(user=self.request.user, referral=referral)
        if referral.required_start and "data" not in kwargs:
            kwargs["initial"] = {"earliest_start": referral.required_start}
        return kwargs

    def perform(self, form):
        return services.offer_record(referral=self.referral(), by=self.request.user, **form.cleaned_data)

    def get_success_url(self, offer=None):
        return self.referral().get_absolute_url()

    def get_success_message(self, offer):
        return f"Offer from {offer.provider} recorded: {format_money(offer.weekly_cost)} a week"

    def get_caption(self) -> str:
        referral = self.referral()
        return f"Referral {referral.reference}: {referral.get_service_type_display()}"

    def cancel_url(self):
        return self.referral().get_absolute_url()

    def breadcrumbs(self):
        referral = self.referral()
        return [*super().breadcrumbs(), (f"Referral {referral.reference}", referral.get_absolute_url())]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(referral=self.referral(), hint=typed_hint(self.referral(), context["form"]))
        return context


def typed_hint(referral: Referral, form) -> rates.RateCardHint:
    """The rate card hint for what the form holds (typed, or its initial values)."""
    unreadable = False
    if form.is_bound:
        form.is_valid()  # the hint reads what is valid so far; the errors are the form's
        values = getattr(form, "cleaned_data", {})
        unreadable = bool(str(form.data.get("unit_rate", "")).strip()) and "unit_rate" in form.errors
    else:
        values = {name: form.get_initial_for_field(field, name) for name, field in form.fields.items()}
    return selectors.rate_card_hint(
        referral,
        unit=values.get("unit"),
        day=values.get("earliest_start"),
        unit_rate=values.get("unit_rate"),
        units_per_week=values.get("units_per_week"),
        price_unreadable=unreadable,
    )


class OfferRateCardView(BrokerageMixin, TemplateView):
    """What the rate card hint says, for htmx to swap into its box as the offer form changes (GET:
    the form's fields as typed)."""

    model = Offer
    action = "add"
    template_name = "brokerage/_rate_card_hint_text.html"

    def get_context_data(self, **kwargs):
        referral = self.get_object("change", model=Referral)
        form = forms.OfferForm(self.request.GET, user=self.request.user, referral=referral)
        return {"referral": referral, "hint": typed_hint(referral, form)}


def _back_to(data, offer: Offer) -> str:
    """Back where the person came from (``back`` in ``data``): the approvals list, or the referral."""
    approvals = reverse("brokerage:approvals")
    return approvals if data.get("back") == approvals else offer.referral.get_absolute_url()


def offer_details(offer: Offer) -> list[tuple[str, str]]:
    """The offer in words, for the approval and decline steps: what it costs a week against the
    rate card, who recorded it and how long it has waited."""
    referral = offer.referral
    price = (
        f"{format_money(offer.weekly_cost)} a week ({format_money(offer.unit_rate)} per {offer.unit} × "
        f"{floatformat(offer.units_per_week, -2)})"
    )
    if offer.get_rate_card_rate() is None:
        card = f"No rate card for {referral.get_service_type_display().lower()} by the {offer.unit}"
    else:
        difference = offer.weekly_difference
        side = "above" if difference > 0 else "below" if difference < 0 else "at"
        card = (
            f"{format_money(offer.rate_card_weekly)} a week ({format_money(offer.get_rate_card_rate())} per "
            f"{offer.unit}): this offer is "
            + ("at the card" if side == "at" else f"{format_money(abs(difference))} a week {side} it")
        )
    return [
        ("Referral", f"{referral.reference}: {referral.get_service_type_display()}"),
        ("Client", referral.client.case_reference),
        ("Provider", str(offer.provider)),
        ("Weekly price", price),
        ("Rate card", card),
        ("Earliest start", histories.day_text(offer.earliest_start)),
        ("Recorded by", person_name(offer.recorded_by)),
        ("Recorded", f"{offer.created_at:%-d %B %Y}, {timesince(offer.created_at)} ago"),
        *([("Notes", offer.notes)] if offer.notes else []),
    ]


class OfferDecisionMixin:
    """An offer a manager approves, or anyone working the referral declines: looked up with its rate
    card and who recorded it; whoever recorded an offer awaiting approval is refused (403) before
    any step is shown."""

    model = Offer
    action = "change"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        if model is Offer:
            qs = qs.with_rate_card().select_related(
                "referral__client", "provider__organisation", "recorded_by"
            )
        return qs

    def offer(self) -> Offer:
        offer = self.get_object()
        refusal = services.offer_decision_refusal(
            offer=offer, by=self.request.user, rate_card=offer.get_rate_card_rate()
        )
        if refusal is not None:
            raise refusal
        return offer


class OfferApproveView(OfferDecisionMixin, ConfirmStep, BrokerageActionView):
    """Approve an offer above the rate card ("Are you sure?", then the button)."""

    http_method_names = ["get", "post"]
    manager_only = NOT_A_MANAGER
    confirm_template = "brokerage/confirm.html"

    def confirm_target(self):
        return self.offer()

    def confirm_context(self, offer):
        return {
            "heading": "Approve this offer?",
            "caption": f"Referral {offer.referral.reference}",
            "details": offer_details(offer),
            "explanation": [
                "Once approved, the offer can be accepted at this price and the package starts at it. "
                "The referral's timeline keeps who approved it and when."
            ],
            "confirm_label": "Approve the offer",
            "cancel_url": _back_to(self.request.GET, offer),
            "hidden": [("back", self.request.GET.get("back", ""))],
            "subnav": self.subnav(),
        }

    def get_target(self):
        return self.offer()

    def act(self, offer):
        services.offer_approve(offer=offer, by=self.request.user)
        return f"Offer from {offer.provider} approved: {format_money(offer.weekly_cost)} a week"

    def back(self, offer):
        return _back_to(self.request.POST, offer)


class OfferDeclineView(OfferDecisionMixin, BrokerageFormView):
    """Decline an offer, saying why: the reason goes on the referral's timeline."""

    form_class = forms.OfferDeclineForm
    heading = "Decline this offer"
    submit = "Decline the offer"

    def get_initial(self):
        return {"back": self.request.GET.get("back", "")}

    def perform(self, form):
        return services.offer_decline(
            offer=self.offer(), by=self.request.user, reason=form.cleaned_data["reason"]
        )

    def get_success_message(self, offer):
        return f"Offer from {offer.provider} declined"

    def get_success_url(self, result=None):
        return _back_to(self.request.POST, self.offer())

    def get_caption(self) -> str:
        return f"Referral {self.offer().referral.reference}"

    def cancel_url(self):
        return _back_to(self.request.GET, self.offer())

    def breadcrumbs(self):
        referral = self.offer().referral
        return [*super().breadcrumbs(), (f"Referral {referral.reference}", referral.get_absolute_url())]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            details=offer_details(self.offer()),
            intro_template="brokerage/_price_change_summary.html",
            **kwargs,
        )


class OfferAcceptView(BrokerageFormView):
    """Accept an offer: the package starts, with its first cost and funding split."""

    model = Offer
    action = "change"
    required_roles = (("add", Package),)
    # The package started is the write whose scope is checked before the transaction commits.
    scope_model = Package
    scope_action = "add"
    form_class = forms.AcceptForm
    heading = "Accept the offer and start the package"
    submit = "Start the package"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        if model is Offer:
            qs = qs.with_rate_card().select_related(
                "referral__client__partnership__council",
                "referral__client__partnership__nhs_commissioner",
                "provider__organisation",
            )
        return qs

    def offer(self) -> Offer:
        return self.get_object()

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        offer = self.offer()
        referral = offer.referral
        kwargs["partnership"] = referral.client.partnership
        kwargs["initial"] = {
            "start": max(offer.earliest_start, referral.required_start or offer.earliest_start),
            "paying_organisation": referral.client.partnership.council_id,
        }
        return kwargs

    def perform(self, form):
        return services.offer_accept(offer=self.offer(), by=self.request.user, **form.cleaned_data)

    def get_success_message(self, package):
        return f"Package {package.reference} started with {package.provider}"

    def get_caption(self) -> str:
        return f"Referral {self.offer().referral.reference}"

    def cancel_url(self):
        return self.offer().referral.get_absolute_url()

    def breadcrumbs(self):
        referral = self.offer().referral
        return [*super().breadcrumbs(), (f"Referral {referral.reference}", referral.get_absolute_url())]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            offer=self.offer(), intro_template="brokerage/_offer_summary.html", **kwargs
        )
