"""The market (prices against the rate card) and timeliness (how long referrals wait)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.utils import timezone
from django.views.generic import TemplateView

from .. import selectors
from ..models import Client, Package, RateCard, Referral, Urgency
from .base import BrokerageMixin


class MarketView(BrokerageMixin, TemplateView):
    model = RateCard
    required_roles = (("view", Package),)
    template_name = "brokerage/market.html"
    section = "market"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        on = timezone.localdate()
        raw = self.request.GET.get("on", "")
        try:
            on = date.fromisoformat(raw) if raw else on
        except ValueError:
            messages.error(self.request, "The date must look like 2024-06-30; showing today instead.")
        context.update(
            {
                "page_title": "Market: prices against the rate card",
                "market": selectors.market(self.request.user, self.request.partnership, on=on),
                "show_client": self.user_can("view", Client),
            }
        )
        return context


class TimelinessView(BrokerageMixin, TemplateView):
    model = Referral
    template_name = "brokerage/timeliness.html"
    section = "timeliness"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, partnership = self.request.user, self.request.partnership
        context.update(
            {
                "page_title": "Timeliness",
                "rows": selectors.timeliness(user, partnership),
                "ages": selectors.open_referrals_by_age(user, partnership),
                "urgencies": Urgency.labels,
            }
        )
        return context
