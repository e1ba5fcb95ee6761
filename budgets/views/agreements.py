"""The budgets landing page, and section 75 agreements: their page with their terms, added and
changed, and their signed document."""

from __future__ import annotations

import re

from django.core.paginator import InvalidPage, Paginator
from django.db.models import Count
from django.http import FileResponse, Http404
from django.utils import timezone
from django.views import View
from django.views.generic import ListView

from budgets import selectors, services
from budgets.agreement_forms import AgreementForm
from budgets.models import (
    ContributionPlan,
    FundingStream,
    Review,
    Schedule,
    Section75Agreement,
    Variation,
    financial_year_of,
    year_label,
)
from commissioning.generic import GateMixin, ObjectView, ServiceFormView
from commissioning.models import Partnership
from commissioning.uploads import display_name


def pdf_response(field_file, name: str, fallback: str) -> FileResponse:
    """A kept PDF, offered under its display name sanitised again for a header."""
    if not field_file:
        raise Http404("No signed document is kept.")
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The file is missing.") from exc
    text = re.sub(r"[^\w .()-]", "_", display_name(name, fallback=fallback)).strip(" .") or "document"
    if not text.lower().endswith(".pdf"):
        text = f"{text[:96]}.pdf"
    return FileResponse(handle, as_attachment=True, filename=text, content_type="application/pdf")


class IndexView(GateMixin, ListView):
    """Every agreement of the header's partnership (or of all granted ones), with its schedules."""

    model = Section75Agreement
    template_name = "budgets/index.html"
    context_object_name = "agreements"

    def get_queryset(self):
        return (
            self.scoped_queryset()
            .select_related("partnership", "host")
            .prefetch_related("schedules")
            .order_by("partnership__name", "reference")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, partnership = self.request.user, self.request.partnership
        context.update(
            {
                "page_title": "Section 75 budgets",
                "can_add": self.user_can("add"),
                "partnerships": list(self.restricted("view", Partnership).in_partnership(partnership)),
                "current_year": financial_year_of(timezone.localdate()),
                "overspending": selectors.overspending_schedules(user, partnership),
            }
        )
        return context


class AgreementDetailView(ObjectView):
    """An agreement: its schedules' figures this year, its partnership's funding streams, the
    decisions behind it and who changed it."""

    model = Section75Agreement
    template_name = "budgets/agreement_detail.html"
    context_object_name = "agreement"

    def object_queryset(self, model, action):
        return (
            super()
            .object_queryset(model, action)
            .select_related("partnership__council", "partnership__nhs_commissioner", "host", "decision")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agreement = self.object
        user = self.request.user
        schedules = list(
            selectors.with_related(self.restricted("view", Schedule).filter(agreement=agreement))
        )
        year = min(max(financial_year_of(timezone.localdate()), agreement.years[0]), agreement.years[-1])
        monitored = selectors.monitor_many(schedules, year)
        variations = list(
            self.restricted("view", Variation).filter(agreement=agreement).prefetch_related("schedules")
        )
        variation_refs = selectors.decision_refs(user, variations)
        reviews = list(
            self.restricted("view", Review)
            .filter(agreement=agreement)
            .select_related("paper")
            .order_by("-due")
        )
        review_refs = selectors.decision_refs(user, reviews)
        context.update(
            {
                "page_title": f"{agreement.reference}: {agreement.title}",
                "schedules": [monitored[s.pk] for s in schedules],
                "year_label": year_label(year),
                "streams": self.restricted("view", FundingStream)
                .filter(partnership=agreement.partnership)
                .select_related("organisation")
                .annotate(line_count=Count("lines"))
                .order_by("name"),
                "can_change_stream": self.user_can("change", FundingStream),
                "decision_refs": selectors.decision_refs(user, [agreement])[agreement.pk],
                "history": selectors.agreement_history(agreement),
                "earliest_exit": agreement.earliest_exit(timezone.localdate()),
                "can_change": self.may("change", agreement),
                "variations": [(v, variation_refs.get(v.pk, [])) for v in variations],
                "reviews": [(r, review_refs.get(r.pk, [])) for r in reviews],
                "can_add_variation": self.user_can("add", Variation),
                "can_add_review": self.user_can("add", Review),
                "can_change_review": self.user_can("change", Review),
                "can_add_schedule": self.user_can("add", Schedule),
                "can_add_stream": self.user_can("add", FundingStream),
                "contributions": selectors.plan_rows(schedules, year),
                "can_raise_contributions": self.user_can("add", ContributionPlan),
                "can_change_plans": self.user_can("change", ContributionPlan),
            }
        )
        return context


class AgreementWriteView(ServiceFormView):
    model = Section75Agreement
    form_class = AgreementForm
    template_name = "budgets/agreement_form.html"

    def agreement(self) -> Section75Agreement | None:
        return None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        kwargs["instance"] = self.agreement() or Section75Agreement()
        return kwargs

    def get_success_message(self, agreement) -> str:
        return f"Agreement {agreement.reference} saved"

    def get_context_data(self, **kwargs):
        return super().get_context_data(agreement=self.agreement(), **kwargs)


class AgreementCreateView(AgreementWriteView):
    action = "add"
    heading = "Add a section 75 agreement"

    def get_initial(self):
        partnership = self.request.partnership
        if partnership is None:
            granted = list(self.restricted("view", Partnership)[:2])
            partnership = granted[0] if len(granted) == 1 else None
        return {"partnership": partnership.pk} if partnership else {}

    def perform(self, form) -> Section75Agreement:
        return services.agreement_create(by=self.request.user, **form.service_arguments())


class AgreementUpdateView(AgreementWriteView):
    action = "change"

    def agreement(self) -> Section75Agreement:
        return self.get_object("change")

    def get_heading(self) -> str:
        return f"Change agreement {self.agreement().reference}"

    def perform(self, form) -> Section75Agreement:
        return services.agreement_update(
            agreement=self.agreement(),
            by=self.request.user,
            version=form.cleaned_data["version"],
            **form.service_arguments(),
        )


class AgreementDocumentView(GateMixin, View):
    """The signed agreement (PDF), served only through the permission check: out of scope, 404."""

    model = Section75Agreement

    def get(self, request, pk):
        agreement = self.get_object("view")
        return pdf_response(agreement.signed_document, agreement.signed_document_name, "agreement.pdf")


TIMELINE_PAGE_SIZE = 25


class AgreementTimelineView(ObjectView):
    """The agreement's story, newest first: signature, variations, decisions, reviews, schedules
    added, lines approved and its own changes, with names; ``TIMELINE_PAGE_SIZE`` a page."""

    model = Section75Agreement
    template_name = "budgets/agreement_timeline.html"
    context_object_name = "agreement"

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("partnership", "host", "decision")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agreement = self.object
        entries = selectors.agreement_timeline(agreement, self.request.user)
        try:
            page = Paginator(entries, TIMELINE_PAGE_SIZE).page(self.request.GET.get("page") or 1)
        except (InvalidPage, ValueError) as error:
            raise Http404("No such page of the timeline") from error
        context.update(
            {
                "page_title": f"Timeline of {agreement.reference}: {agreement.title}",
                "page_obj": page,
                "entries": page.object_list,
            }
        )
        return context
