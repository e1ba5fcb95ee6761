"""Lists: one FilterSet serves the page, its CSV/XLSX export and the API's list endpoint.

``ObjectListMixin`` builds the filtered, sorted queryset (through the gate, narrowed to the header's
partnership); ``ObjectListView`` pages it; ``ObjectExportView`` writes every row of it (not one
page) with ``commissioning.exports``. A filter value that does not validate (``period=2026-13``)
shows its error above the list and lists nothing, rather than quietly listing every row.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.paginator import Paginator
from django.http import Http404
from django.utils import timezone
from django.views import View
from django.views.generic import ListView

from commissioning import exports
from commissioning.forms import style_filter_form
from commissioning.generic.base import GateMixin


class ObjectListMixin(GateMixin):
    filterset_class = None
    filter_checkboxes: tuple[str, ...] = ()
    # Sort keys offered to the user (``?sort=end`` or ``-end``), each with its ordering; anything
    # else falls back to ``default_sort``.
    sorts: dict[str, tuple[str, ...]] = {}
    default_sort = ""
    list_select_related: Sequence[str] = ()
    list_prefetch_related: Sequence[str] = ()

    def base_queryset(self):
        qs = self.scoped_queryset()
        if self.list_select_related:
            qs = qs.select_related(*self.list_select_related)
        return qs

    def filter_data(self):
        """The query parameters the FilterSet reads (override to add defaults)."""
        return self.request.GET or None

    def filterset_kwargs(self) -> dict:
        return {"request": self.request}

    def get_filterset(self):
        if not hasattr(self, "_filterset"):
            filterset = self.filterset_class(
                self.filter_data(), queryset=self.base_queryset(), **self.filterset_kwargs()
            )
            style_filter_form(filterset.form, checkboxes=self.filter_checkboxes)
            self._filterset = filterset
        return self._filterset

    @property
    def filter_errors(self) -> bool:
        filterset = self.get_filterset()
        return bool(filterset.is_bound and not filterset.form.is_valid())

    def get_sort(self) -> str:
        value = (self.request.GET.get("sort") or "").strip()
        return value if value.lstrip("-") in self.sorts else self.default_sort

    def ordering(self) -> list[str]:
        sort = self.get_sort()
        if not sort:
            return []
        fields = self.sorts[sort.lstrip("-")]
        return [f"-{name}" if sort.startswith("-") else name for name in fields] + ["pk"]

    def filtered_queryset(self):
        filterset = self.get_filterset()
        if self.filter_errors:
            return filterset.queryset.none()
        qs = filterset.qs
        if self.list_prefetch_related:
            qs = qs.prefetch_related(*self.list_prefetch_related)
        ordering = self.ordering()
        return qs.order_by(*ordering) if ordering else qs


class ObjectListView(ObjectListMixin, ListView):
    paginate_by = 25
    title = ""

    def get_queryset(self):
        return self.filtered_queryset()

    def paginate_queryset(self, queryset, page_size):
        # An out-of-range or malformed page shows the nearest page rather than an error.
        paginator = Paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_title(self) -> str:
        return self.title

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.get_filterset()
        without_page = self.request.GET.copy()
        without_page.pop("page", None)
        query = without_page.urlencode()
        context.update(
            {
                "page_title": ("Error: " if self.filter_errors else "") + self.get_title(),
                "filterset": filterset,
                "filter_form": filterset.form,
                "sort": self.get_sort(),
                "querystring_without_page": f"{query}&" if query else "",
                "export_query": f"?{query}" if query else "",
                "filtered": bool(
                    filterset.is_bound
                    and filterset.form.is_valid()
                    and any(v not in (None, "", [], ()) for v in filterset.form.cleaned_data.values())
                ),
            }
        )
        return context


class ObjectExportView(ObjectListMixin, View):
    """Every row of the filtered list as CSV or XLSX (``fmt`` from the URL)."""

    export_columns: Sequence[exports.Column] = ()
    export_name = "export"
    sheet_title = "Export"

    def export_rows(self):
        return self.filtered_queryset()

    def export_filename(self) -> str:
        return f"{self.export_name}-{timezone.localdate():%Y-%m-%d}"

    def get(self, request, fmt: str = "csv", **kwargs):
        if fmt not in exports.FORMATS:
            raise Http404("Unknown export format")
        return exports.export_response(
            fmt,
            columns=self.export_columns,
            rows=self.export_rows(),
            filename=self.export_filename(),
            sheet_title=self.sheet_title,
        )
