"""Offers: recorded against a referral, approved above the rate card by a brokerage manager,
declined, or accepted (the package starts)."""

from __future__ import annotations

from django.views.generic import TemplateView

from commissioning.money import format_money

from .. import forms, selectors, services
from ..models import Offer, Package, Referral
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


def typed_hint(referral: Referral, form) -> selectors.RateCardHint:
    """The rate card hint for what the form holds (typed, or its initial values)."""
    if form.is_bound:
        form.is_valid()  # the hint reads what is valid so far; the errors are the form's
        values = getattr(form, "cleaned_data", {})
    else:
        values = {name: form.get_initial_for_field(field, name) for name, field in form.fields.items()}
    return selectors.rate_card_hint(
        referral, unit=values.get("unit"), day=values.get("earliest_start"), unit_rate=values.get("unit_rate")
    )


class OfferRateCardView(BrokerageMixin, TemplateView):
    """The rate card hint alone, for htmx to swap in as the offer form changes (GET: the form's
    fields as typed)."""

    model = Offer
    action = "add"
    template_name = "brokerage/_rate_card_hint.html"

    def get_context_data(self, **kwargs):
        referral = self.get_object("change", model=Referral)
        form = forms.OfferForm(self.request.GET, user=self.request.user, referral=referral)
        return {"referral": referral, "hint": typed_hint(referral, form)}


class OfferApproveView(BrokerageActionView):
    model = Offer
    manager_only = "Only a brokerage manager can approve offers above the rate card."

    def act(self, offer):
        services.offer_approve(offer=offer, by=self.request.user)
        return f"Offer from {offer.provider} approved"

    def back(self, offer):
        return offer.referral.get_absolute_url()


class OfferDeclineView(BrokerageActionView):
    model = Offer

    def act(self, offer):
        services.offer_decline(offer=offer, by=self.request.user, reason=self.request.POST.get("reason", ""))
        return f"Offer from {offer.provider} declined"

    def back(self, offer):
        return offer.referral.get_absolute_url()


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
