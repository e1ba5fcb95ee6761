"""The form of a year's pooled fund statement's settlement: the board decision that approved it."""

from __future__ import annotations

from django import forms

from commissioning.forms import GovukFormMixin


class SettleStatementForm(GovukFormMixin, forms.Form):
    decision = forms.ModelChoiceField(
        queryset=None,
        label="Board decision that approved the statement",
        error_messages={"required": "Choose the board decision that approved the statement"},
    )

    def __init__(self, *args, user, statement, **kwargs):
        from governance.models import Decision

        super().__init__(*args, **kwargs)
        field = self.fields["decision"]
        field.queryset = (
            Decision.objects.restrict(user, "view")
            .filter(agenda_item__meeting__board__partnership=statement.agreement.partnership_id)
            .select_related("agenda_item")
            .order_by("-decided_on", "-reference")
        )
        field.label_from_instance = lambda d: (
            f"{d.reference}: {d.agenda_item.title} ({d.decided_on:%-d %B %Y})"
        )
        if statement.decision_id:
            field.initial = statement.decision_id
