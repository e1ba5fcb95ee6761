"""The contract register: list (filter, sort, page, export), detail with reviews and change history,
create and edit, on the generic page layer (``commissioning.generic``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.dateformat import format as date_format

from commissioning import exports, registry, selectors, services
from commissioning.filtersets import ContractFilterSet
from commissioning.forms import ContractForm, ContractReviewForm
from commissioning.generic import (
    ObjectExportView,
    ObjectListMixin,
    ObjectListView,
    ObjectView,
    ServiceFormView,
)
from commissioning.models import Contract, ContractReview, Partnership

EXPORT_COLUMNS: list[exports.Column] = [
    ("Reference", "reference"),
    ("Partnership", "partnership.name"),
    ("Service", "service"),
    ("Service type", "get_service_type_display"),
    ("Provider", "provider.organisation.name"),
    ("Lead commissioner", "lead_commissioner.name"),
    ("Associate commissioners", lambda c: [o.name for o in c.associate_commissioners.all()]),
    ("Annual value", "annual_value"),
    ("Start", "start"),
    ("End", "end"),
    ("Months remaining", "months_remaining"),
    ("Extension options", "extension_options"),
    ("Procurement route", "get_procurement_route_display"),
    ("Contract manager", lambda c: str(c.contract_manager) if c.contract_manager else ""),
    ("Status", "get_status_display"),
]

_RELATED = ("partnership", "provider__organisation", "lead_commissioner", "contract_manager")


class ContractRegister(ObjectListMixin):
    """The filtered, sorted register, shared by the list page and its exports."""

    model = Contract
    filterset_class = ContractFilterSet
    filter_checkboxes = ("status",)
    sorts = {
        "reference": ("reference",),
        "provider": ("provider__organisation__name", "reference"),
        "service": ("service", "reference"),
        "value": ("annual_value", "reference"),
        "end": ("end", "reference"),
    }
    default_sort = "end"
    list_select_related = _RELATED

    def filterset_kwargs(self) -> dict:
        return {"request": self.request, "user": self.request.user}


class ContractListView(ContractRegister, ObjectListView):
    template_name = "commissioning/contracts/list.html"
    context_object_name = "contracts"
    title = "Contract register"

    def get_context_data(self, **kwargs):
        filter_form = self.get_filterset().form
        # The filters the domain apps add to the register (budgets' ``schedule``), drawn after the
        # core's own without the core naming them.
        extension_filters = [
            filter_form[field.name]
            for field in registry.extension_fields(Contract)
            if field.filter is not None and field.name in filter_form.fields
        ]
        return super().get_context_data(
            can_add=self.user_can("add"), extension_filters=extension_filters, **kwargs
        )


class ContractExportView(ContractRegister, ObjectExportView):
    """Every row of the filtered register (not only one page), as CSV or XLSX."""

    export_columns = EXPORT_COLUMNS
    export_name = "contracts"
    sheet_title = "Contracts"

    def export_rows(self):
        return super().export_rows().prefetch_related("associate_commissioners")


# --- Detail -------------------------------------------------------------------------------------


class ContractDetailView(ObjectView):
    model = Contract
    template_name = "commissioning/contracts/detail.html"
    context_object_name = "contract"

    def object_queryset(self, model, action):
        qs = super().object_queryset(model, action)
        if model is Contract:
            qs = qs.select_related(*_RELATED).prefetch_related("associate_commissioners")
        return qs

    def get_context_data(self, review_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        contract = self.object
        user = self.request.user
        can_review = self.user_can("add", ContractReview)
        if can_review and review_form is None:
            review_form = ContractReviewForm()
        context.update(
            {
                "page_title": ("Error: " if review_form is not None and review_form.errors else "")
                + f"{contract.reference}: {contract.service}",
                "months_remaining": contract.months_remaining(),
                "reviews": ContractReview.objects.restrict(user, "view")
                .filter(contract=contract)
                .select_related("reviewed_by"),
                "can_view_reviews": self.user_can("view", ContractReview),
                "review_form": review_form if can_review else None,
                "can_change": self.may("change", contract),
                "history": selectors.contract_history(contract, user),
                # What the domain apps keep about the contract (budgets: the schedule funding it).
                "extension_rows": registry.detail_rows(Contract, user, contract),
            }
        )
        return context


class ContractReviewAddView(ServiceFormView):
    """POST a review from the contract's page; errors show on that page."""

    model = ContractReview
    action = "add"
    form_class = ContractReviewForm
    template_name = ContractDetailView.template_name
    http_method_names = ["post"]
    out_of_scope_message = "You can add reviews only to contracts of your own partnerships."

    def contract(self) -> Contract:
        return self.get_object("view", model=Contract)

    def perform(self, form):
        return services.contract_review_add(
            contract=self.contract(), by=self.request.user, **form.cleaned_data
        )

    def get_success_message(self, review) -> str:
        return f"Review of {date_format(review.review_date, 'j F Y')} added to {review.contract.reference}"

    def get_success_url(self, review=None) -> str:
        return review.contract.get_absolute_url() + "#reviews"

    def form_invalid(self, form):
        # The contract's own page, with the review form's errors on it.
        detail = ContractDetailView()
        detail.setup(self.request, **self.kwargs)
        detail.object = self.contract()
        return detail.render_to_response(detail.get_context_data(review_form=form))


# --- Create and edit ----------------------------------------------------------------------------


class ContractWriteView(ServiceFormView):
    model = Contract
    form_class = ContractForm
    template_name = "commissioning/contracts/form.html"
    out_of_scope_field = "partnership"
    out_of_scope_message = "Choose one of your own partnerships"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        kwargs["instance"] = self.contract() or Contract()
        return kwargs

    def contract(self) -> Contract | None:
        return None

    def get_success_url(self, contract=None) -> str:
        return contract.get_absolute_url()

    def cancel_url(self) -> str:
        contract = self.contract()
        return contract.get_absolute_url() if contract else reverse("contracts:list")

    def get_context_data(self, **kwargs):
        return super().get_context_data(contract=self.contract(), **kwargs)


class ContractCreateView(ContractWriteView):
    action = "add"
    heading = "Add a contract"

    def get_initial(self):
        initial = super().get_initial()
        partnership = self.request.partnership
        if partnership is None:
            granted = list(Partnership.objects.restrict(self.request.user, "view")[:2])
            partnership = granted[0] if len(granted) == 1 else None
        if partnership is not None:
            initial["partnership"] = partnership.pk
        return initial

    def perform(self, form) -> Contract:
        return services.contract_create(by=self.request.user, **form.service_arguments())

    def get_success_message(self, contract: Contract) -> str:
        return f"Contract {contract.reference} added"


class ContractUpdateView(ContractWriteView):
    action = "change"
    # A contract of another partnership shown through a django-guardian view grant is not offered
    # for change at all: its edit page does not exist for this user.
    hide_refused_objects = True

    def contract(self) -> Contract:
        return self.get_object("change")

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("partnership")

    def get_heading(self) -> str:
        return f"Change contract {self.contract().reference}"

    def perform(self, form) -> Contract:
        return services.contract_update(
            contract=self.contract(),
            by=self.request.user,
            version=form.cleaned_data["version"],
            **form.service_arguments(),
        )

    def get_success_message(self, contract: Contract) -> str:
        return f"Contract {contract.reference} updated"
