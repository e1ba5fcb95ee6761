"""The contract register: list (filter, sort, page, export), detail with reviews and change history,
create and edit. Each view fetches through the permission gate (``RestrictedViewMixin``), validates
with a form, calls one service and responds (conventions.md)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models, transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views import View
from django.views.generic import DetailView, FormView, ListView
from django.views.generic.detail import SingleObjectMixin
from pghistory.models import Events

from commissioning import exports, services
from commissioning.filtersets import ContractFilterSet
from commissioning.forms import ContractForm, ContractReviewForm, add_service_errors, style_filter_form
from commissioning.models import Contract, ContractReview, Partnership, Provider, User
from commissioning.money import format_money
from commissioning.permissions import has_model_permission
from commissioning.views.mixins import RestrictedViewMixin

PAGE_SIZE = 25

# Sort keys offered to the user (anything else falls back to the default), each with its ordering.
SORTS: dict[str, tuple[str, ...]] = {
    "reference": ("reference",),
    "provider": ("provider__organisation__name", "reference"),
    "service": ("service", "reference"),
    "value": ("annual_value", "reference"),
    "end": ("end", "reference"),
}
DEFAULT_SORT = "end"

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


def parse_sort(value: str | None) -> str:
    """A whitelisted sort (``end`` or ``-end``); anything else is the default."""
    value = (value or "").strip()
    key = value[1:] if value.startswith("-") else value
    return value if key in SORTS else DEFAULT_SORT


def ordering_for(sort: str) -> list[str]:
    descending = sort.startswith("-")
    fields = SORTS[sort.lstrip("-")]
    return [f"-{name}" if descending else name for name in fields] + ["pk"]


class _OutOfScope(Exception):
    """The object written is not in the user's scope after the write: roll it back."""


class ContractViewMixin(RestrictedViewMixin):
    model = Contract


class ContractRegisterMixin(ContractViewMixin):
    """The filtered, sorted register, shared by the list page and its exports."""

    def get_filterset(self) -> ContractFilterSet:
        if not hasattr(self, "_filterset"):
            base = super().get_queryset().select_related(*_RELATED)
            filterset = ContractFilterSet(
                self.request.GET or None, queryset=base, user=self.request.user, request=self.request
            )
            style_filter_form(filterset.form, checkboxes=("status",))
            self._filterset = filterset
        return self._filterset

    def get_sort(self) -> str:
        return parse_sort(self.request.GET.get("sort"))

    def get_queryset(self):
        return self.get_filterset().qs.order_by(*ordering_for(self.get_sort()))


class ContractListView(ContractRegisterMixin, ListView):
    template_name = "commissioning/contracts/list.html"
    context_object_name = "contracts"
    paginate_by = PAGE_SIZE

    def paginate_queryset(self, queryset, page_size):
        # An out-of-range or malformed page shows the nearest page rather than an error.
        paginator = Paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.get_filterset()
        without_page = self.request.GET.copy()
        without_page.pop("page", None)
        export_query = without_page.urlencode()
        context.update(
            {
                "page_title": ("Error: " if filterset.form.errors else "") + "Contract register",
                "filterset": filterset,
                "filter_form": filterset.form,
                "sort": self.get_sort(),
                "can_add": self.user_can("add"),
                "querystring_without_page": f"{export_query}&" if export_query else "",
                "export_query": f"?{export_query}" if export_query else "",
                "filtered": bool(
                    filterset.is_bound
                    and filterset.form.is_valid()
                    and any(filterset.form.cleaned_data.values())
                ),
            }
        )
        return context


class ContractExportView(ContractRegisterMixin, View):
    """Every row of the filtered register (not only one page), as CSV or XLSX."""

    def get(self, request, fmt: str):
        if fmt not in exports.FORMATS:
            raise Http404("Unknown export format")
        rows = self.get_queryset().prefetch_related("associate_commissioners")
        today = timezone.localdate()
        return exports.export_response(
            fmt,
            columns=EXPORT_COLUMNS,
            rows=rows,
            filename=f"contracts-{today:%Y-%m-%d}",
            sheet_title="Contracts",
        )


# --- Detail -------------------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    before: Any
    after: Any


@dataclass
class HistoryEntry:
    when: datetime
    who: User | None
    summary: str
    changes: list[Change] = field(default_factory=list)


_HISTORY_SKIP = {"id", "version", "created_at", "updated_at", "contract_id"}
_HISTORY_LIMIT = 100


def _display(field_obj: models.Field, raw: Any, related: dict) -> Any:
    """A history value as people read it: choice labels, names, money, dates."""
    if raw is None or raw == "":
        return None
    if field_obj.is_relation:
        return related.get((field_obj.related_model, raw), f"#{raw}")
    if field_obj.choices:
        return dict(field_obj.flatchoices).get(raw, raw)
    if isinstance(field_obj, models.DecimalField):
        return format_money(Decimal(str(raw)))
    if isinstance(field_obj, models.DateField) and not isinstance(field_obj, models.DateTimeField):
        try:
            return date_format(date.fromisoformat(raw), "j F Y")
        except (TypeError, ValueError):
            return raw
    if isinstance(field_obj, models.BooleanField):
        return "Yes" if raw else "No"
    return raw


def contract_history(contract: Contract, user) -> list[HistoryEntry]:
    """Changes to the contract and, if the user may see reviews, its reviews, newest first, with
    who made each and every field's before and after (from django-pghistory's trigger rows)."""
    event_models = [apps.get_model("commissioning", "ContractEvent")]
    if has_model_permission(user, ContractReview, "view"):
        event_models.append(apps.get_model("commissioning", "ContractReviewEvent"))
    events = list(
        Events.objects.references(contract)
        .across(*event_models)
        .order_by("-pgh_created_at", "-pgh_id")[:_HISTORY_LIMIT]
    )
    fields = {
        "commissioning.Contract": {f.attname: f for f in Contract._meta.concrete_fields},
        "commissioning.ContractReview": {f.attname: f for f in ContractReview._meta.concrete_fields},
    }

    # Names for every foreign key and author mentioned, one query per related model.
    wanted: dict[type[models.Model], set] = {}
    for event in events:
        user_pk = (event.pgh_context or {}).get("user")
        if user_pk:
            wanted.setdefault(User, set()).add(user_pk)
        for column, (before, after) in (event.pgh_diff or {}).items():
            field_obj = fields[event.pgh_obj_model].get(column)
            if field_obj is not None and field_obj.is_relation and column not in _HISTORY_SKIP:
                wanted.setdefault(field_obj.related_model, set()).update(v for v in (before, after) if v)
    related: dict[tuple, Any] = {}
    for model, pks in wanted.items():
        qs = model._default_manager.filter(pk__in=pks)
        if model is Provider:
            qs = qs.select_related("organisation")
        for obj in qs:
            related[(model, obj.pk)] = obj

    entries = []
    for event in events:
        data = event.pgh_data or {}
        is_review = event.pgh_obj_model == "commissioning.ContractReview"
        rag = dict(ContractReview._meta.get_field("rag_rating").flatchoices)
        if is_review:
            when = data.get("review_date", "")
            with contextlib.suppress(TypeError, ValueError):
                when = date_format(date.fromisoformat(when), "j F Y")
            summary = {
                "insert": f"Review of {when} added, rated {rag.get(data.get('rag_rating'), '')}",
                "update": f"Review of {when} changed",
                "delete": f"Review of {when} deleted",
            }.get(event.pgh_label, f"Review {event.pgh_label}")
        else:
            summary = {
                "insert": "Contract added",
                "update": "Contract changed",
                "delete": "Contract deleted",
            }.get(event.pgh_label, f"Contract {event.pgh_label}")
        changes = []
        model_fields = fields[event.pgh_obj_model]
        for column, (before, after) in sorted((event.pgh_diff or {}).items()):
            field_obj = model_fields.get(column)
            if field_obj is None or column in _HISTORY_SKIP:
                continue
            changes.append(
                Change(
                    label=str(field_obj.verbose_name)[:1].upper() + str(field_obj.verbose_name)[1:],
                    before=_display(field_obj, before, related),
                    after=_display(field_obj, after, related),
                )
            )
        if event.pgh_label == "update" and not changes:
            continue  # only bookkeeping columns changed
        user_pk = (event.pgh_context or {}).get("user")
        entries.append(
            HistoryEntry(
                when=event.pgh_created_at,
                who=related.get((User, user_pk)) if user_pk else None,
                summary=summary,
                changes=changes,
            )
        )
    return entries


class ContractDetailView(ContractViewMixin, DetailView):
    template_name = "commissioning/contracts/detail.html"
    context_object_name = "contract"
    # A contract's own page opens from anywhere (a bookmark, a board paper) even when the header's
    # switcher narrows lists to another partnership; the gate still decides.
    narrow_to_current_partnership = False

    def get_queryset(self):
        return super().get_queryset().select_related(*_RELATED).prefetch_related("associate_commissioners")

    def get_context_data(self, review_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        contract = self.object
        user = self.request.user
        can_review = has_model_permission(user, ContractReview, "add")
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
                "can_view_reviews": has_model_permission(user, ContractReview, "view"),
                "review_form": review_form if can_review else None,
                "can_change": Contract.objects.restrict(user, "change").filter(pk=contract.pk).exists(),
                "history": contract_history(contract, user),
            }
        )
        return context


class ContractReviewAddView(ContractDetailView):
    """POST a review from the contract's page; errors show on that page."""

    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not has_model_permission(request.user, ContractReview, "add"):
            raise PermissionDenied("Your role does not allow you to add contract reviews.")
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = contract = self.get_object()
        form = ContractReviewForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    review = services.contract_review_add(
                        contract=contract, by=request.user, **form.cleaned_data
                    )
                    if not ContractReview.objects.restrict(request.user, "add").filter(pk=review.pk).exists():
                        raise _OutOfScope
            except ValidationError as error:
                add_service_errors(form, error)
            except _OutOfScope:
                form.add_error(None, "You can add reviews only to contracts of your own partnerships.")
            else:
                messages.success(
                    request,
                    f"Review of {date_format(review.review_date, 'j F Y')} added to {contract.reference}",
                )
                return redirect(contract.get_absolute_url() + "#reviews")
        return self.render_to_response(self.get_context_data(review_form=form))


# --- Create and edit ----------------------------------------------------------------------------


class ContractWriteMixin(ContractViewMixin):
    form_class = ContractForm
    template_name = "commissioning/contracts/form.html"
    narrow_to_current_partnership = False

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        kwargs["instance"] = getattr(self, "object", None) or Contract()
        return kwargs

    def write(self, form, **arguments) -> Contract:
        raise NotImplementedError

    def form_valid(self, form):
        try:
            with transaction.atomic():
                contract = self.write(form, **form.service_arguments())
                # Check again, inside the transaction, that what was written is in scope.
                if (
                    not Contract.objects.restrict(self.request.user, self.action)
                    .filter(pk=contract.pk)
                    .exists()
                ):
                    raise _OutOfScope
        except services.StaleEdit as error:
            for message in error.messages:
                form.add_error(None, message)
            return self.form_invalid(form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        except _OutOfScope:
            form.add_error("partnership", "Choose one of your own partnerships")
            return self.form_invalid(form)
        messages.success(self.request, self.success_message(contract))
        return redirect(contract)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context["page_title"] = ("Error: " if form.errors else "") + self.heading
        context["heading"] = self.heading
        return context


class ContractCreateView(ContractWriteMixin, FormView):
    action = "add"
    heading = "Add a contract"

    def get_initial(self):
        initial = super().get_initial()
        partnership = getattr(self.request, "partnership", None) or None  # a lazy object
        if partnership is None:
            granted = list(Partnership.objects.restrict(self.request.user, "view")[:2])
            partnership = granted[0] if len(granted) == 1 else None
        if partnership is not None:
            initial["partnership"] = partnership.pk
        return initial

    def write(self, form, **arguments) -> Contract:
        return services.contract_create(by=self.request.user, **arguments)

    def success_message(self, contract: Contract) -> str:
        return f"Contract {contract.reference} added"


class ContractUpdateView(ContractWriteMixin, SingleObjectMixin, FormView):
    action = "change"
    context_object_name = "contract"

    def get_queryset(self):
        return super().get_queryset().select_related("partnership")

    def dispatch(self, request, *args, **kwargs):
        self.object = None
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().post(request, *args, **kwargs)

    @property
    def heading(self) -> str:
        return f"Change contract {self.object.reference}"

    def write(self, form, **arguments) -> Contract:
        return services.contract_update(
            contract=self.object, by=self.request.user, version=form.cleaned_data["version"], **arguments
        )

    def success_message(self, contract: Contract) -> str:
        return f"Contract {contract.reference} updated"
