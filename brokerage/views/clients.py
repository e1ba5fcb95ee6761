"""Clients: found by name, NHS number or case reference, their page (every view written to the
access log: special category data), added and changed."""

from __future__ import annotations

from django.urls import reverse

from commissioning.audit import log_access
from commissioning.generic import ObjectListView, ObjectView

from .. import forms, services
from ..filtersets import ClientFilterSet
from ..models import Client, Package, PanelDecision, Referral
from ..roles import sees_personal_details
from .base import PAGE_SIZE, BrokerageFormView, BrokerageMixin


class ClientSearchView(BrokerageMixin, ObjectListView):
    """Nobody is listed until something is searched for."""

    model = Client
    template_name = "brokerage/clients.html"
    context_object_name = "clients"
    section = "clients"
    title = "Find a client"
    paginate_by = PAGE_SIZE
    filterset_class = ClientFilterSet

    def searched(self) -> bool:
        return bool(self.request.GET.get("q") or self.request.GET.get("cohort"))

    def get_filterset(self):
        filterset = super().get_filterset()
        for name in ("nhs_number", "case_reference", "partnership"):  # the API's filters
            filterset.form.fields.pop(name, None)
        return filterset

    def get_queryset(self):
        return super().get_queryset() if self.searched() else Client.objects.none()

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            searched=self.searched(),
            can_add=self.user_can("add"),
            show_personal=sees_personal_details(self.request.user),
            **kwargs,
        )


class ClientDetailView(BrokerageMixin, ObjectView):
    """A client's page. Special category data: every view is written to the access log."""

    model = Client
    template_name = "brokerage/client.html"
    context_object_name = "client"
    section = "clients"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, client = self.request.user, self.object
        log_access(request=self.request, obj=client)
        context.update(
            {
                "page_title": client.name,
                "show_personal": sees_personal_details(user),
                "referrals": self.restricted("view", Referral).filter(client=client).order_by("-received_at")
                if self.user_can("view", Referral)
                else None,
                "packages": self.restricted("view", Package)
                .filter(client=client)
                .select_related("provider__organisation"),
                "decisions": self.restricted("view", PanelDecision).filter(client=client)
                if self.user_can("view", PanelDecision)
                else None,
                "can_change": self.may("change", client),
                "can_refer": self.user_can("add", Referral),
                "can_record_decision": self.user_can("add", PanelDecision),
            }
        )
        return context


class ClientFormView(BrokerageFormView):
    model = Client
    form_class = forms.ClientForm
    section = "clients"
    # A client written into a partnership the user was not granted is refused on that field.
    out_of_scope_field = "partnership"
    out_of_scope_message = "Choose one of your own partnerships"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, instance=self.client() or Client())
        return kwargs

    def client(self) -> Client | None:
        return None


class ClientCreateView(ClientFormView):
    action = "add"
    heading = "Add a client"
    submit = "Save client"

    def get_initial(self):
        initial = super().get_initial()
        partnership = self.request.partnership
        if partnership is None:
            granted = list(self.request.user.grants.values_list("partnership", flat=True)[:2])
            partnership = granted[0] if len(granted) == 1 else None
        if partnership is not None:
            initial["partnership"] = getattr(partnership, "pk", partnership)
        return initial

    def perform(self, form):
        return services.client_create(by=self.request.user, **form.service_arguments())

    def get_success_message(self, client):
        return f"{client.name} added"

    def cancel_url(self):
        return reverse("brokerage:clients")


class ClientUpdateView(ClientFormView):
    action = "change"
    submit = "Save changes"

    def client(self) -> Client:
        return self.get_object()

    def get_heading(self) -> str:
        return f"Change {self.client().name}"

    def perform(self, form):
        return services.client_update(client=self.client(), by=self.request.user, **form.service_arguments())

    def get_success_message(self, client):
        return f"{client.name} updated"

    def cancel_url(self):
        return self.client().get_absolute_url()
