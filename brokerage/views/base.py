"""What every brokerage page shares, on the generic page layer (``commissioning.generic``): the
section's sub-navigation, the roles a page needs beyond its own model's, and the brokerage form and
button views."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.urls import reverse

from commissioning.generic import GateMixin, ServiceActionView, ServiceFormView

from ..models import Client, Package, PanelDecision, PriceChange, RateCard, Referral
from ..roles import is_manager

PAGE_SIZE = 25

# The section's sub-navigation: (key, label, URL name, the model whose view permission shows it).
SECTIONS = [
    ("queue", "Referral queue", "brokerage:index", Referral),
    ("clients", "Clients", "brokerage:clients", Client),
    ("packages", "Packages", "brokerage:packages", Package),
    ("approvals", "Awaiting approval", "brokerage:approvals", PriceChange),
    ("panel", "Funding panel", "brokerage:panel-decisions", PanelDecision),
    ("rate-cards", "Rate cards", "brokerage:rate-cards", RateCard),
    ("market", "Market", "brokerage:market", RateCard),
    ("timeliness", "Timeliness", "brokerage:timeliness", Referral),
]


class BrokerageMixin(GateMixin):
    """The gate, plus the section's sub-navigation and the roles a page needs beyond its model's:

    - ``required_roles``: further ``(action, model)`` permissions, checked like the view's own (by
      ``GateMixin``) before anything is looked up (403);
    - ``manager_only``: the refusal (403) for anyone who is not a brokerage manager, before any lookup.
    """

    section = ""
    required_roles: tuple[tuple[str, type[models.Model]], ...] = ()
    manager_only = ""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            for action, model in self.required_roles:
                self.require_role(action, model)
            if self.manager_only and not is_manager(request.user):
                raise PermissionDenied(self.manager_only)
        return super().dispatch(request, *args, **kwargs)

    def subnav(self) -> list[dict]:
        return [
            {"label": label, "url": reverse(name), "current": key == self.section}
            for key, label, name, model in SECTIONS
            if self.user_can("view", model) and (key != "approvals" or is_manager(self.request.user))
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["subnav"] = self.subnav()
        return context


class BrokerageFormView(BrokerageMixin, ServiceFormView):
    """A brokerage form (``brokerage/form.html``: the section's navigation and breadcrumbs)."""

    template_name = "brokerage/form.html"

    def cancel_url(self) -> str:
        return reverse("brokerage:index")

    def breadcrumbs(self) -> list[tuple[str, str]]:
        return [("Brokerage", reverse("brokerage:index"))]


class BrokerageActionView(BrokerageMixin, ServiceActionView):
    """A brokerage button (POST only): one service, its message, back to the page."""
