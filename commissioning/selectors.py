"""Reads that are more than one filter. Everything goes through the permission gate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from commissioning.models import Contract
from commissioning.permissions import has_model_permission


@dataclass
class Panel:
    """One box on the home page: a title, a headline count, rows and a link to the full list."""

    title: str
    count: int
    link: str
    link_text: str
    rows: list = field(default_factory=list)
    template: str = "commissioning/panels/list.html"
    attention: bool = False


# Domain apps append their panel functions here in their AppConfig.ready():
# each takes (user, partnership) and returns a Panel or None when it does not apply to the user.
PANEL_PROVIDERS: list[Callable] = []


def contracts_ending(user, partnership=None, *, months: int, today: date | None = None):
    qs = Contract.objects.restrict(user, "view").in_partnership(partnership)
    return qs.ending_within(months, today=today).select_related("provider__organisation", "partnership")


def contracts_ending_panel(user, partnership) -> Panel | None:
    if not has_model_permission(user, Contract, "view"):
        return None
    from django.urls import reverse

    today = timezone.localdate()
    within_6 = list(contracts_ending(user, partnership, months=6, today=today)[:6])
    count_6 = contracts_ending(user, partnership, months=6, today=today).count()
    count_12 = contracts_ending(user, partnership, months=12, today=today).count()
    return Panel(
        title="Contracts ending soon",
        count=count_6,
        link=reverse("contracts:list") + "?ending=6",
        link_text=f"View all {count_6} ending within 6 months ({count_12} within 12)",
        rows=within_6,
        template="commissioning/panels/contracts_ending.html",
        attention=count_6 > 0,
    )


def dashboard_panels(user, partnership=None) -> list[Panel]:
    panels = []
    for provider in [contracts_ending_panel, *PANEL_PROVIDERS]:
        panel = provider(user, partnership)
        if panel is not None:
            panels.append(panel)
    return panels
