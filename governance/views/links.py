"""Linking pages: a decision to what it approved or changed (agreements, variations, schedules,
budget lines, virements, with the amounts before and after), and a paper to the tables it carries
live in its packs. Reached from the decision or paper page, and from the linked record's own page
(``?target=<key>`` preselects it). The records come from the apps' registrations
(``governance.linking``), so governance imports none of them."""

from __future__ import annotations

from django.urls import reverse

from commissioning.generic import ConfirmStep, ServiceActionView, ServiceFormView
from commissioning.money import format_money
from governance import linking, services
from governance.forms import DecisionLinkForm, PaperLinkForm
from governance.models import Decision, DecisionLink, Paper, PaperLink


def _preselected(request, model):
    raw = request.GET.get(model._meta.model_name, "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


class _LinkView(ServiceFormView):
    action = "add"
    template_name = "generic/form.html"
    parent_model = Decision

    def parent_choices(self):
        """The records of ``parent_model`` the user may see: those a link may be added from."""
        return self.restricted("view", self.parent_model)

    def parent_url(self, parent) -> str:
        return parent.get_absolute_url()

    def parent(self):
        """The decision (or paper) the page was opened from, when the user may see it."""
        pk = _preselected(self.request, self.parent_model)
        return self.parent_choices().filter(pk=pk).first() if pk is not None else None

    def target_key(self) -> str:
        key = self.request.GET.get("target", "")
        return key if linking.resolve(self.request.user, key) is not None else ""

    def get_initial(self):
        parent = self.parent()
        name = self.parent_model._meta.model_name
        return {name: parent.pk if parent else None, "target": self.target_key()}

    def target_scope(self) -> int | None:
        parent = self.parent()
        if parent is not None:
            return self.partnership_of(parent)
        target = linking.resolve(self.request.user, self.target_key())
        return linking.partnership_id_of(target) if target is not None else None

    def cancel_url(self) -> str:
        parent = self.parent()
        target = linking.resolve(self.request.user, self.target_key())
        if parent is not None:
            return self.parent_url(parent)
        return getattr(target, "get_absolute_url", lambda: reverse("dashboard"))()

    def get_success_url(self, link=None) -> str:
        target = linking.resolve(self.request.user, self.target_key())
        if self.parent() is None and target is not None and hasattr(target, "get_absolute_url"):
            return target.get_absolute_url()
        return self.parent_url(getattr(link, self.parent_model._meta.model_name))


class DecisionLinkCreateView(_LinkView):
    model = DecisionLink
    form_class = DecisionLinkForm
    heading = "Link a decision to what it changed"
    submit = "Save link"

    def parent_choices(self):
        return (
            super()
            .parent_choices()
            .select_related("agenda_item__meeting__board")
            .order_by("-decided_on", "-reference")
        )

    def partnership_of(self, decision) -> int:
        return decision.agenda_item.meeting.board.partnership_id

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        scope = self.target_scope()
        decisions = self.parent_choices()
        if scope is not None:
            decisions = decisions.filter(agenda_item__meeting__board__partnership=scope)
        kwargs.update(
            user=self.request.user,
            decisions=decisions,
            targets=linking.targets(self.request.user, partnership_id=scope),
        )
        return kwargs

    def perform(self, form) -> DecisionLink:
        data = form.cleaned_data
        return services.decision_link_add(
            decision=data["decision"],
            target=data["target"],
            by=self.request.user,
            description=data["description"],
            amount_before=data["amount_before"],
            amount_after=data["amount_after"],
        )

    def get_success_message(self, link) -> str:
        return f"Decision {link.decision.reference} linked to {link.description}"


class PaperLinkCreateView(_LinkView):
    model = PaperLink
    form_class = PaperLinkForm
    parent_model = Paper
    heading = "Carry a live table in a paper"
    submit = "Save link"

    def parent_choices(self):
        return super().parent_choices().select_related("board").order_by("board__name", "title")

    def partnership_of(self, paper) -> int:
        return paper.board.partnership_id

    def parent_url(self, paper) -> str:
        return reverse("governance:paper", args=[paper.pk])

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        scope = self.target_scope()
        papers = self.parent_choices()
        if scope is not None:
            papers = papers.filter(board__partnership=scope)
        kwargs.update(
            user=self.request.user,
            papers=papers,
            targets=linking.targets(self.request.user, partnership_id=scope, packs_only=True),
        )
        return kwargs

    def perform(self, form) -> PaperLink:
        data = form.cleaned_data
        return services.paper_link_add(paper=data["paper"], target=data["target"], by=self.request.user)

    def get_success_message(self, link) -> str:
        return f"“{link.paper.title}” now carries the live table of {link.target} in its packs"


class _LinkRemoveView(ConfirmStep, ServiceActionView):
    """GET: "Are you sure?" naming the link; POST: remove it (the role must delete links; a link out
    of the user's scope, or on exempt business they may not see: 404). The change history keeps
    that it was there."""

    action = "delete"
    http_method_names = ["get", "post"]
    confirm_template = "governance/confirm.html"

    def get_target(self):
        return self.get_object("delete")

    confirm_target = get_target

    def written_object(self, result):
        return None  # the link is gone; its decision or paper was not changed


class DecisionLinkRemoveView(_LinkRemoveView):
    model = DecisionLink

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("decision", "content_type")

    def confirm_context(self, link) -> dict:
        amounts = [
            (label, format_money(value))
            for label, value in (("Before", link.amount_before), ("After", link.amount_after))
            if value is not None
        ]
        return {
            "caption": f"Decision {link.decision.reference}",
            "heading": f"Remove the link to {link.description or link.target}?",
            "explanation": [
                f"Decision {link.decision.reference} will no longer be shown as approving or changing "
                f"{link.description or link.target}, and the record will no longer cite it. Remove a "
                "link only when it was recorded in error: the change history keeps that it was there."
            ],
            "details": [("Linked record", str(link.target or link.description)), *amounts],
            "confirm_label": "Remove the link",
            "warning_button": True,
            "cancel_url": link.decision.get_absolute_url(),
        }

    def act(self, link) -> str:
        services.decision_link_remove(link=link, by=self.request.user)
        return f"Decision {link.decision.reference} is no longer linked to {link.description or link.target}"

    def back(self, link) -> str:
        return link.decision.get_absolute_url()


class PaperLinkRemoveView(_LinkRemoveView):
    model = PaperLink

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("paper", "content_type")

    def confirm_context(self, link) -> dict:
        return {
            "caption": link.paper.title,
            "heading": f"Stop carrying the live table of {link.target}?",
            "explanation": [
                f"Packs built from now on will not carry the live table of {link.target} in "
                f"“{link.paper.title}”. Packs already built keep it."
            ],
            "confirm_label": "Stop carrying the table",
            "warning_button": True,
            "cancel_url": reverse("governance:paper", args=[link.paper_id]),
        }

    def act(self, link) -> str:
        target = link.target
        services.paper_link_remove(link=link, by=self.request.user)
        return f"“{link.paper.title}” no longer carries the live table of {target}"

    def back(self, link) -> str:
        return reverse("governance:paper", args=[link.paper_id])
