"""Reads that are more than one filter. Everything goes through the permission gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from pghistory.models import Events

from commissioning import history, registry
from commissioning.models import Contract, ContractReview
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


# Domain apps add their panel functions in their AppConfig.ready() (``registry.add_panel``):
# each takes (user, partnership) and returns a Panel or None when it does not apply to the user.
PANEL_PROVIDERS = registry.PANEL_PROVIDERS


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


# --- Change history of a contract -----------------------------------------------------------------

HISTORY_LIMIT = 100


def contract_history(contract: Contract, user) -> list[history.HistoryEntry]:
    """Changes to the contract and, if the user may see reviews, its reviews, newest first, with
    who made each and every field's before and after (``commissioning.history``)."""
    event_models = [history.event_model("commissioning.Contract")]
    if has_model_permission(user, ContractReview, "view"):
        event_models.append(history.event_model("commissioning.ContractReview"))
    events = Events.objects.references(contract).across(*event_models).order_by(*history.ORDER)
    return history.entries(events[:HISTORY_LIMIT], known={(Contract, contract.pk): contract})


def _review_summary(verb: str, data: dict, names) -> str:
    day = history.parse_date(data.get("review_date"))
    when = history.format_date(day) if day else ""
    if verb == "added":
        rating = dict(ContractReview._meta.get_field("rag_rating").flatchoices).get(
            data.get("rag_rating"), ""
        )
        return f"Review of {when} added, rated {rating}"
    return f"Review of {when} {verb}"


def register_history() -> None:
    """How the core's tracked records read in a history (``CommissioningConfig.ready``)."""
    from commissioning.models import Provider

    history.register(Contract, noun="Contract")
    history.register(ContractReview, summary=_review_summary, skip={"contract_id"})
    history.name_with(Provider, "organisation")
