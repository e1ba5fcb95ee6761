"""Rate cards: the council's baseline prices, listed by year and changed by brokerage managers."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from commissioning.generic import ObjectListMixin

from .. import forms, rates, services
from ..filtersets import RateCardFilterSet
from ..models import RateCard
from .base import BrokerageFormView, BrokerageMixin


class RateCardListView(BrokerageMixin, ObjectListMixin, TemplateView):
    model = RateCard
    template_name = "brokerage/rate_cards.html"
    section = "rate-cards"
    filterset_class = RateCardFilterSet
    list_select_related = ("partnership",)

    def get_filterset(self):
        filterset = super().get_filterset()
        filterset.form.fields.pop("partnership", None)  # the header's partnership narrows the list
        return filterset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "page_title": "Rate cards",
                "filter_form": self.get_filterset().form,
                "cards": self.filtered_queryset().order_by("-year", "partnership__name", "service_type"),
                "can_add": self.user_can("add"),
                "can_change": self.user_can("change"),
            }
        )
        return context


class RateCardCreateView(BrokerageFormView):
    model = RateCard
    action = "add"
    form_class = forms.RateCardForm
    heading = "Add a rate card"
    submit = "Save rate card"
    section = "rate-cards"

    def rate_card(self) -> RateCard | None:
        return None

    def get_initial(self):
        return {"year": rates.financial_year(timezone.localdate())}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, instance=self.rate_card() or RateCard())
        return kwargs

    def perform(self, form):
        return services.rate_card_save(
            rate_card=self.rate_card(), by=self.request.user, **form.service_arguments()
        )

    def get_success_url(self, card=None):
        return reverse("brokerage:rate-cards")

    def get_success_message(self, card):
        return f"Rate card saved: {card}"

    def cancel_url(self):
        return reverse("brokerage:rate-cards")


class RateCardUpdateView(RateCardCreateView):
    action = "change"
    heading = "Change a rate card"

    def rate_card(self) -> RateCard:
        return self.get_object()

    def get_initial(self):
        return {}
