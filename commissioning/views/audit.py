"""The auditor's page: the change history and the access log, filterable and exportable as CSV.

Readable by holders of ``commissioning.view_audittrail`` (auditors, administrators); the access
log also needs ``commissioning.view_accesslog``. What each user sees is decided by
``commissioning.audit_selectors`` through the one permission gate.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView
from pghistory.models import Events

from commissioning import audit_selectors as selectors
from commissioning import exports
from commissioning.audit import client_ip
from commissioning.forms import GovukDateFilterField
from commissioning.generic import GateMixin
from commissioning.models import AccessLog, AuditTrail

PAGE_SIZE = 50
TEXT_ATTRS = {"class": "govuk-input govuk-input--width-20"}
SELECT_ATTRS = {"class": "govuk-select"}


# --- Filter forms ---------------------------------------------------------------------------------


class _AuditFilterForm(forms.Form):
    # Day, month and year boxes (the GOV.UK date input); a link may still give ``date_from=2026-03-31``.
    date_from = GovukDateFilterField(label="From date")
    date_to = GovukDateFilterField(label="To date")
    user = forms.CharField(
        label="User",
        required=False,
        max_length=150,
        help_text="Name, username or e-mail",
        widget=forms.TextInput(attrs=TEXT_ATTRS),
    )
    object_id = forms.CharField(
        label="Record ID", required=False, max_length=64, widget=forms.TextInput(attrs=TEXT_ATTRS)
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The ‘to’ date must be the same as or after the ‘from’ date.")
        return cleaned


class HistoryFilterForm(_AuditFilterForm):
    model = forms.ChoiceField(label="Record type", required=False, widget=forms.Select(attrs=SELECT_ATTRS))
    action = forms.ChoiceField(
        label="Event",
        required=False,
        choices=[("", "All events"), *selectors.EVENT_LABELS.items()],
        widget=forms.Select(attrs=SELECT_ATTRS),
    )

    field_order = ["date_from", "date_to", "user", "model", "action", "object_id"]

    def __init__(self, *args, tracked: Iterable[selectors.TrackedModel] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "All record types")] + [
            (t.label, t.verbose_name) for t in tracked
        ]

    def filters(self) -> selectors.HistoryFilters:
        data = self.cleaned_data
        return selectors.HistoryFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            user_query=data.get("user") or "",
            model=data.get("model") or "",
            action=data.get("action") or "",
            object_id=data.get("object_id") or "",
        )


class AccessLogFilterForm(_AuditFilterForm):
    content_type = forms.ModelChoiceField(
        label="Record type",
        required=False,
        queryset=ContentType.objects.none(),
        empty_label="All record types",
        widget=forms.Select(attrs=SELECT_ATTRS),
    )
    action = forms.ChoiceField(
        label="Action",
        required=False,
        choices=[("", "All actions"), *AccessLog.Action.choices],
        widget=forms.Select(attrs=SELECT_ATTRS),
    )

    field_order = ["date_from", "date_to", "user", "content_type", "action", "object_id"]

    def __init__(self, *args, content_types: list[ContentType] = (), **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["content_type"]
        field.queryset = ContentType.objects.filter(pk__in=[ct.pk for ct in content_types])
        # Render the choices already fetched instead of querying again.
        field.choices = [("", field.empty_label)] + [
            (ct.pk, str(ct.name).capitalize()) for ct in content_types
        ]

    def filters(self) -> selectors.AccessLogFilters:
        data = self.cleaned_data
        return selectors.AccessLogFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            user_query=data.get("user") or "",
            content_type=data.get("content_type"),
            action=data.get("action") or "",
            object_id=data.get("object_id") or "",
        )


# --- Views ----------------------------------------------------------------------------------------


class AuditTrailMixin(GateMixin):
    """Anonymous: sign in. Without the audit permission: 403 (the page's existence is no secret)."""

    model = AuditTrail

    @property
    def partnership(self):
        return self.request.partnership


def _querystring_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    encoded = params.urlencode()
    return f"{encoded}&" if encoded else ""


class HistoryView(AuditTrailMixin, TemplateView):
    template_name = "commissioning/audit/history.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        visible = selectors.history_scope(user, partnership=self.partnership)
        visible_labels = {m.pgh_tracked_model._meta.label for m in visible.event_models}
        tracked = [t for t in selectors.tracked_models() if t.label in visible_labels]
        form = HistoryFilterForm(self.request.GET or None, tracked=tracked)
        if form.is_bound and not form.is_valid():
            events = Events.objects.none()
        else:
            filters = form.filters() if form.is_bound else selectors.HistoryFilters()
            events = selectors.history_events(user, filters, partnership=self.partnership)
        page = Paginator(events, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            {
                "page_title": "Audit trail: change history",
                "tab": "history",
                "form": form,
                "page_obj": page,
                "rows": selectors.history_rows(page.object_list),
                "querystring_without_page": _querystring_without_page(self.request),
                "export_query": self.request.GET.urlencode(),
                "show_access_log": selectors.can_read_access_log(user),
                "current_partnership": self.partnership,
            }
        )
        return context


class AccessLogView(AuditTrailMixin, TemplateView):
    template_name = "commissioning/audit/access_log.html"
    requires = ((AccessLog, "view"),)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        content_types = selectors.access_log_content_types(user, partnership=self.partnership)
        form = AccessLogFilterForm(self.request.GET or None, content_types=content_types)
        if form.is_bound and not form.is_valid():
            entries = AccessLog.objects.none()
        else:
            filters = form.filters() if form.is_bound else selectors.AccessLogFilters()
            entries = selectors.access_log_entries(user, filters, partnership=self.partnership)
        page = Paginator(entries, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            {
                "page_title": "Audit trail: access log",
                "tab": "access",
                "form": form,
                "page_obj": page,
                "querystring_without_page": _querystring_without_page(self.request),
                "export_query": self.request.GET.urlencode(),
                "show_access_log": True,
                "current_partnership": self.partnership,
            }
        )
        return context


# --- CSV exports ----------------------------------------------------------------------------------


def _csv_response(filename: str, header: list[str], rows: Iterator[list]) -> StreamingHttpResponse:
    """Streamed (memory flat in the rows), in the one CSV dialect of ``commissioning.exports``."""
    return exports.csv_response(filename, chain([header], rows), stream=True)


def _describe_filters(form: forms.Form) -> str:
    parts = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if value in (None, ""):
            continue
        if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            value = dict(field.choices).get(value, value)
        parts.append(f"{field.label}: {value}")
    return "; ".join(parts) or "no filters"


def _log_export(request, *, model, what: str, form: forms.Form, partnership) -> AccessLog:
    """Record the export in the (append-only) access log: who, when, which filters, from where."""
    return AccessLog.objects.create(
        user=request.user,
        action=AccessLog.Action.EXPORT,
        content_type=ContentType.objects.get_for_model(model),
        object_id="export",
        object_repr=f"{what} ({_describe_filters(form)})"[:200],
        partnership=partnership,
        ip_address=client_ip(request),
        path=request.get_full_path()[:500],
    )


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


class HistoryExportView(AuditTrailMixin, View):
    HEADER = ["When", "User ID", "User", "Record type", "Record ID", "Record", "Event", "Changes", "Values"]

    def get(self, request):
        user = request.user
        partnership = self.partnership
        visible = selectors.history_scope(user, partnership=partnership)
        visible_labels = {m.pgh_tracked_model._meta.label for m in visible.event_models}
        tracked = [t for t in selectors.tracked_models() if t.label in visible_labels]
        form = HistoryFilterForm(request.GET, tracked=tracked)
        if not form.is_valid():  # show the errors on the page the filters came from
            return redirect(f"{reverse('audit:index')}?{request.GET.urlencode()}")
        events = selectors.history_events(user, form.filters(), partnership=partnership)
        _log_export(request, model=AuditTrail, what="Change history CSV", form=form, partnership=partnership)
        rows = (
            [
                _local(row.at),
                row.user_id,
                row.user_name,
                row.model_name,
                row.object_id,
                row.object_name,
                row.label_display,
                row.changes_text,
                row.values_text if row.label != "update" else "",
            ]
            for row in selectors.iter_history_rows(events)
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return _csv_response(f"change-history-{stamp}.csv", self.HEADER, rows)


class AccessLogExportView(AuditTrailMixin, View):
    requires = ((AccessLog, "view"),)
    HEADER = [
        "When",
        "User ID",
        "User",
        "Action",
        "Record type",
        "Record ID",
        "Record",
        "Partnership",
        "IP address",
        "Path",
    ]

    def get(self, request):
        user = request.user
        partnership = self.partnership
        content_types = selectors.access_log_content_types(user, partnership=partnership)
        form = AccessLogFilterForm(request.GET, content_types=content_types)
        if not form.is_valid():
            return redirect(f"{reverse('audit:access-log')}?{request.GET.urlencode()}")
        entries = selectors.access_log_entries(user, form.filters(), partnership=partnership)
        logged = _log_export(
            request, model=AccessLog, what="Access log CSV", form=form, partnership=partnership
        )
        entries = entries.exclude(pk=logged.pk)  # the file holds the log as it was when asked for
        rows = (
            [
                _local(entry.at),
                entry.user_id,
                str(entry.user) if entry.user_id else "",
                entry.get_action_display(),
                str(entry.content_type.name).capitalize(),
                entry.object_id,
                entry.object_repr,
                entry.partnership.name if entry.partnership_id else "",
                entry.ip_address or "",
                entry.path,
            ]
            for entry in entries.iterator(chunk_size=1000)
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return _csv_response(f"access-log-{stamp}.csv", self.HEADER, rows)
