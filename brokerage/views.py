"""Brokerage pages: the broker's queue, the case page, offers and approval, packages with their
cost and funding history, the joint funding panel, clients, rate cards, the market and timeliness.

Each view fetches through the permission gate (``RestrictedViewMixin``: hidden is 404, a role
without the permission is 403), validates with a form, calls one service and responds."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, TemplateView

from commissioning.audit import log_access
from commissioning.forms import add_service_errors, style_filter_form
from commissioning.money import format_money
from commissioning.permissions import has_model_permission
from commissioning.services import StaleEdit
from commissioning.views.mixins import RestrictedViewMixin

from . import forms, rates, selectors, services
from .api.serializers import sees_personal_details
from .filtersets import ClientFilterSet, PanelDecisionFilterSet, RateCardFilterSet, ReferralFilterSet
from .models import (
    OPEN_STATUSES,
    Client,
    FundingShare,
    Offer,
    Package,
    PackageStatus,
    PanelDecision,
    RateCard,
    Referral,
)

PAGE_SIZE = 25


def is_manager(user) -> bool:
    return user.is_superuser or user.has_perm(services.APPROVE_PERMISSION)


class BrokerageMixin(RestrictedViewMixin):
    """The gate, plus: the header's partnership resolved once, and the section's sub-navigation."""

    section = ""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        request.partnership = getattr(request, "partnership", None) or None

    def get_object_or_404(self, model=None, pk=None, action=None, select_related=()):
        # Subclasses fetch in dispatch() before RestrictedViewMixin checks the role: check it here
        # first, so a role without the permission gets 403 whatever the id (not a 404).
        self.require_role()
        model = model or self.model
        qs = model.objects.restrict(self.request.user, action or "view")
        if select_related:
            qs = qs.select_related(*select_related)
        try:
            return qs.get(pk=pk if pk is not None else self.kwargs["pk"])
        except model.DoesNotExist:
            if (
                action
                and action != "view"
                and model.objects.restrict(self.request.user, "view")
                .filter(pk=pk if pk is not None else self.kwargs["pk"])
                .exists()
            ):
                raise PermissionDenied(
                    f"You may see this {model._meta.verbose_name} but not change it."
                ) from None
            raise Http404(f"No {model._meta.verbose_name} found") from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        links = [
            ("queue", "Referral queue", "brokerage:index", Referral),
            ("clients", "Clients", "brokerage:clients", Client),
            ("packages", "Packages", "brokerage:packages", Package),
            ("panel", "Funding panel", "brokerage:panel-decisions", PanelDecision),
            ("rate-cards", "Rate cards", "brokerage:rate-cards", RateCard),
            ("market", "Market", "brokerage:market", RateCard),
        ]
        subnav = [
            {"label": label, "url": reverse(name), "current": key == self.section}
            for key, label, name, model in links
            if has_model_permission(user, model, "view")
        ]
        if has_model_permission(user, Referral, "view"):
            subnav.append(
                {
                    "label": "Timeliness",
                    "url": reverse("brokerage:timeliness"),
                    "current": self.section == "timeliness",
                }
            )
        context["subnav"] = subnav
        return context


class ServiceFormView(BrokerageMixin, FormView):
    """A form whose valid input goes to one service; its errors come back onto the form."""

    template_name = "brokerage/form.html"
    heading = ""
    submit = "Save"
    success_message = ""

    def perform(self, form):
        raise NotImplementedError

    def success_url_for(self, result) -> str:
        return result.get_absolute_url()

    def cancel_url(self) -> str:
        return reverse("brokerage:index")

    def form_valid(self, form):
        try:
            with transaction.atomic():
                result = self.perform(form)
        except StaleEdit as error:
            for message in error.messages:
                form.add_error(None, message)
            return self.form_invalid(form)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, self.get_success_message(result))
        return redirect(self.success_url_for(result))

    def get_success_message(self, result) -> str:
        return self.success_message

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context.update(
            {
                "page_title": ("Error: " if form.errors else "") + self.heading,
                "heading": self.heading,
                "submit": self.submit,
                "cancel_url": self.cancel_url(),
                "breadcrumbs": self.breadcrumbs(),
            }
        )
        return context

    def breadcrumbs(self) -> list[tuple[str, str]]:
        return [("Brokerage", reverse("brokerage:index"))]


class ActionView(BrokerageMixin, View):
    """A button on a page (POST only): call a service, tell the user, go back."""

    http_method_names = ["post"]
    action = "change"

    def act(self, obj):
        raise NotImplementedError

    def post(self, request, pk):
        obj = self.get_object_or_404(action=self.action)
        try:
            with transaction.atomic():
                message = self.act(obj)
        except StaleEdit as error:
            messages.error(request, " ".join(error.messages))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, message)
        return redirect(self.back(obj))

    def back(self, obj) -> str:
        return obj.get_absolute_url()


# --- The queue and the case page -------------------------------------------------------------------


class QueueView(BrokerageMixin, TemplateView):
    """The broker's queue: open referrals of their partnership, urgent and oldest first."""

    model = Referral
    template_name = "brokerage/queue.html"
    section = "queue"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        data = self.request.GET.copy()
        if "status" not in data:
            data.setlist("status", list(OPEN_STATUSES))
        base = self.get_queryset().select_related("client", "proposed_funder", "assigned_to").queue_order()
        filterset = ReferralFilterSet(data, queryset=base, request=self.request)
        style_filter_form(filterset.form, checkboxes=("status", "urgency"))
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        without_page = self.request.GET.copy()
        without_page.pop("page", None)
        today = timezone.localdate()
        for referral in page.object_list:
            referral.age_days = (today - timezone.localtime(referral.received_at).date()).days
        context.update(
            {
                "page_title": "Referral queue",
                "filter_form": filterset.form,
                "page_obj": page,
                "referrals": page.object_list,
                "querystring_without_page": (without_page.urlencode() + "&") if without_page else "",
                "can_add_client": has_model_permission(self.request.user, Client, "add"),
            }
        )
        return context


class ReferralDetailView(BrokerageMixin, TemplateView):
    """The case page: the client, the need, every offer and the timeline."""

    model = Referral
    template_name = "brokerage/referral.html"
    section = "queue"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        referral = self.get_object_or_404()
        referral = Referral.objects.select_related(
            "client__partnership__council",
            "client__partnership__nhs_commissioner",
            "proposed_funder",
            "assigned_to",
        ).get(pk=referral.pk)
        log_access(request=self.request, obj=referral.client)
        offers = list(
            Offer.objects.with_rate_card()
            .filter(referral=referral)
            .select_related("provider__organisation", "approved_by")
        )
        can_change = Referral.objects.restrict(user, "change").filter(pk=referral.pk).exists()
        context.update(
            {
                "page_title": f"Referral {referral.reference}",
                "referral": referral,
                "client": referral.client,
                "offers": offers,
                "timeline": referral.activities.select_related("by").order_by("-at", "-pk"),
                "can_change": can_change and referral.is_open,
                "can_approve": is_manager(user),
                "can_accept": can_change and has_model_permission(user, Package, "add"),
                "assign_form": forms.AssignForm(referral=referral)
                if can_change and is_manager(user)
                else None,
                "cancel_form": forms.CancelForm() if can_change and referral.is_open else None,
                "package": getattr(referral, "package", None),
                "show_personal": sees_personal_details(user),
            }
        )
        return context


class ReferralCreateView(ServiceFormView):
    model = Referral
    action = "add"
    form_class = forms.ReferralForm
    heading = "New referral"
    submit = "Save referral"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            pk = request.GET.get("client") or request.POST.get("client") or ""
            if not pk.isdigit():
                raise Http404("Choose the client first")
            self.client = self.get_object_or_404(Client, pk=int(pk))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, client=self.client, initial={"client": self.client.pk})
        return kwargs

    def perform(self, form):
        return services.referral_create(by=self.request.user, **form.service_arguments())

    def get_success_message(self, result):
        return f"Referral {result.reference} received for {self.client.name}"

    def cancel_url(self):
        return self.client.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["caption"] = f"{self.client.name} ({self.client.case_reference})"
        return context


class ReferralClaimView(ActionView):
    model = Referral

    def act(self, referral):
        services.referral_claim(referral=referral, by=self.request.user)
        return f"You are now working on referral {referral.reference}"


class ReferralSourcingView(ActionView):
    model = Referral

    def act(self, referral):
        services.referral_start_sourcing(referral=referral, by=self.request.user)
        return f"Sourcing started for referral {referral.reference}"


class ReferralAssignView(ActionView):
    model = Referral

    def act(self, referral):
        if not is_manager(self.request.user):
            raise PermissionDenied("Only a brokerage manager assigns referrals to others.")
        form = forms.AssignForm(self.request.POST, referral=referral)
        if not form.is_valid():
            raise ValidationError(form.errors["assigned_to"])
        to = form.cleaned_data["assigned_to"]
        services.referral_assign(referral=referral, to=to, by=self.request.user)
        return (
            f"Referral {referral.reference} assigned to {to}"
            if to
            else f"Referral {referral.reference} unassigned"
        )


class ReferralCancelView(ActionView):
    model = Referral

    def act(self, referral):
        form = forms.CancelForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError("Enter why the referral is cancelled.")
        services.referral_cancel(referral=referral, by=self.request.user, reason=form.cleaned_data["reason"])
        return f"Referral {referral.reference} cancelled"


# --- Offers ------------------------------------------------------------------------------------------


class OfferCreateView(ServiceFormView):
    model = Offer
    action = "add"
    form_class = forms.OfferForm
    heading = "Record an offer"
    submit = "Save offer"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.referral = self.get_object_or_404(Referral, action="change")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, referral=self.referral)
        if self.referral.required_start and "data" not in kwargs:
            kwargs["initial"] = {"earliest_start": self.referral.required_start}
        return kwargs

    def perform(self, form):
        return services.offer_record(referral=self.referral, by=self.request.user, **form.cleaned_data)

    def success_url_for(self, result):
        return self.referral.get_absolute_url()

    def get_success_message(self, offer):
        return f"Offer from {offer.provider} recorded: {format_money(offer.weekly_cost)} a week"

    def cancel_url(self):
        return self.referral.get_absolute_url()

    def breadcrumbs(self):
        return [
            *super().breadcrumbs(),
            (f"Referral {self.referral.reference}", self.referral.get_absolute_url()),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["caption"] = f"Referral {self.referral.reference}: {self.referral.get_service_type_display()}"
        return context


class OfferApproveView(ActionView):
    model = Offer

    def act(self, offer):
        if not is_manager(self.request.user):
            raise PermissionDenied("Only a brokerage manager can approve offers above the rate card.")
        services.offer_approve(offer=offer, by=self.request.user)
        return f"Offer from {offer.provider} approved"

    def back(self, offer):
        return offer.referral.get_absolute_url()


class OfferDeclineView(ActionView):
    model = Offer

    def act(self, offer):
        services.offer_decline(offer=offer, by=self.request.user, reason=self.request.POST.get("reason", ""))
        return f"Offer from {offer.provider} declined"

    def back(self, offer):
        return offer.referral.get_absolute_url()


class OfferAcceptView(ServiceFormView):
    model = Offer
    action = "change"
    form_class = forms.AcceptForm
    heading = "Accept the offer and start the package"
    submit = "Start the package"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if not has_model_permission(request.user, Package, "add"):
                raise PermissionDenied("Your role does not allow you to start packages.")
            self.offer = self.get_object_or_404(action="change")
            self.offer = (
                Offer.objects.with_rate_card()
                .select_related(
                    "referral__client__partnership__council",
                    "referral__client__partnership__nhs_commissioner",
                    "provider__organisation",
                )
                .get(pk=self.offer.pk)
            )
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        referral = self.offer.referral
        kwargs["partnership"] = referral.client.partnership
        kwargs["initial"] = {
            "start": max(self.offer.earliest_start, referral.required_start or self.offer.earliest_start),
            "paying_organisation": referral.client.partnership.council_id,
        }
        return kwargs

    def perform(self, form):
        return services.offer_accept(offer=self.offer, by=self.request.user, **form.cleaned_data)

    def get_success_message(self, package):
        return f"Package {package.reference} started with {package.provider}"

    def cancel_url(self):
        return self.offer.referral.get_absolute_url()

    def breadcrumbs(self):
        referral = self.offer.referral
        return [*super().breadcrumbs(), (f"Referral {referral.reference}", referral.get_absolute_url())]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["caption"] = f"Referral {self.offer.referral.reference}"
        context["offer"] = self.offer
        context["intro_template"] = "brokerage/_offer_summary.html"
        return context


# --- Packages ----------------------------------------------------------------------------------------


class PackageListView(BrokerageMixin, TemplateView):
    model = Package
    template_name = "brokerage/packages.html"
    section = "packages"

    def get_context_data(self, **kwargs):
        from .filtersets import PackageFilterSet

        context = super().get_context_data(**kwargs)
        data = self.request.GET.copy()
        if "status" not in data:
            data.setlist("status", [PackageStatus.ACTIVE, PackageStatus.SUSPENDED])
        qs = self.get_queryset().select_related("client", "provider__organisation", "paying_organisation")
        filterset = PackageFilterSet(data, queryset=qs.order_by("-start", "-pk"), request=self.request)
        style_filter_form(filterset.form, checkboxes=("status",))
        for name in ("client", "provider", "live_on"):
            filterset.form.fields.pop(name, None)
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        without_page = self.request.GET.copy()
        without_page.pop("page", None)
        context.update(
            {
                "page_title": "Packages",
                "filter_form": filterset.form,
                "page_obj": page,
                "packages": page.object_list,
                "querystring_without_page": (without_page.urlencode() + "&") if without_page else "",
                "show_client": has_model_permission(self.request.user, Client, "view"),
            }
        )
        return context


class PackageDetailView(BrokerageMixin, TemplateView):
    model = Package
    template_name = "brokerage/package.html"
    section = "packages"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        package = self.get_object_or_404(
            select_related=(
                "client__partnership",
                "provider__organisation",
                "paying_organisation",
                "referral",
            )
        )
        show_client = has_model_permission(user, Client, "view")
        if show_client:
            log_access(request=self.request, obj=package.client)
        costs = list(package.costs.order_by("-effective_from"))
        splits = list(
            package.splits.order_by("-effective_from").prefetch_related(
                Prefetch("shares", queryset=FundingShare.objects.select_related("organisation"))
            )
        )
        today = timezone.localdate()
        can_change = Package.objects.restrict(user, "change").filter(pk=package.pk).exists()
        decisions = []
        if has_model_permission(user, PanelDecision, "view"):
            decisions = list(
                PanelDecision.objects.restrict(user, "view").filter(
                    client=package.client, applied_at__isnull=True
                )
            )
        context.update(
            {
                "page_title": f"Package {package.reference}",
                "package": package,
                "costs": costs,
                "current_cost": next(
                    (
                        c
                        for c in costs
                        if c.effective_from <= today and (c.effective_to is None or c.effective_to >= today)
                    ),
                    None,
                ),
                "splits": splits,
                "unfunded": selectors.unfunded_periods(package, splits, today=today),
                "today": today,
                "can_change": can_change and package.status != PackageStatus.ENDED,
                "show_client": show_client,
                "pending_decisions": decisions,
                "can_apply_decisions": is_manager(user) and can_change,
            }
        )
        return context


class PackageFormMixin:
    model = Package
    action = "change"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.package = self.get_object_or_404(action="change")
            self.package = Package.objects.select_related(
                "client__partnership__council",
                "client__partnership__nhs_commissioner",
                "provider__organisation",
            ).get(pk=self.package.pk)
        return super().dispatch(request, *args, **kwargs)

    def cancel_url(self):
        return self.package.get_absolute_url()

    def success_url_for(self, result):
        return self.package.get_absolute_url()

    def breadcrumbs(self):
        return [
            ("Brokerage", reverse("brokerage:index")),
            ("Packages", reverse("brokerage:packages")),
            (f"Package {self.package.reference}", self.package.get_absolute_url()),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["caption"] = (
            f"Package {self.package.reference}: "
            f"{self.package.get_service_type_display()}, {self.package.provider}"
        )
        return context


class PackageChangeCostView(PackageFormMixin, ServiceFormView):
    form_class = forms.CostChangeForm
    heading = "Change the price"
    submit = "Change the price"

    def get_initial(self):
        current = self.package.costs.order_by("-effective_from").first()
        initial = {"version": self.package.version}
        if current:
            initial.update(unit=current.unit, units_per_week=current.units_per_week)
        return initial

    def perform(self, form):
        return services.package_change_cost(package=self.package, by=self.request.user, **form.cleaned_data)

    def get_success_message(self, cost):
        return f"Price changed from {cost.effective_from:%-d %B %Y}: {format_money(cost.weekly_cost)} a week"


class PackageChangeFundingView(PackageFormMixin, ServiceFormView):
    form_class = forms.FundingChangeForm
    heading = "Change the funding"
    submit = "Change the funding"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["partnership"] = self.package.client.partnership
        return kwargs

    def get_initial(self):
        return {"version": self.package.version}

    def perform(self, form):
        data = form.cleaned_data
        return services.package_change_funding(
            package=self.package,
            effective_from=data["effective_from"],
            effective_to=data["effective_to"],
            shares=form.shares(),
            basis=data["basis"],
            decision_reference=data["decision_reference"],
            version=data["version"],
            by=self.request.user,
        )

    def get_success_message(self, split):
        return f"Funding changed from {split.effective_from:%-d %B %Y}"


class PackageEndView(PackageFormMixin, ServiceFormView):
    form_class = forms.EndForm
    heading = "End the package"
    submit = "End the package"

    def get_initial(self):
        return {"version": self.package.version}

    def perform(self, form):
        return services.package_end(package=self.package, by=self.request.user, **form.cleaned_data)

    def get_success_message(self, package):
        return f"Package {package.reference} ends on {package.end:%-d %B %Y}"


class PackageStatusView(ActionView):
    model = Package

    def act(self, package):
        wanted = self.request.POST.get("status")
        if wanted not in (PackageStatus.ACTIVE, PackageStatus.SUSPENDED):
            raise ValidationError("Choose to suspend or resume the package.")
        version = self.request.POST.get("version") or ""
        if not version.isdigit():
            raise ValidationError(
                "The form did not say which version of the package you changed: reload the page."
            )
        services.package_set_status(
            package=package, status=wanted, by=self.request.user, version=int(version)
        )
        return (
            f"Package {package.reference} {'suspended' if wanted == PackageStatus.SUSPENDED else 'resumed'}"
        )


# --- Joint funding panel -----------------------------------------------------------------------------


class PanelDecisionListView(BrokerageMixin, TemplateView):
    model = PanelDecision
    template_name = "brokerage/panel_decisions.html"
    section = "panel"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        qs = self.get_queryset().select_related("client", "package").prefetch_related("shares__organisation")
        filterset = PanelDecisionFilterSet(self.request.GET or None, queryset=qs)
        decisions = filterset.qs
        due = self.request.GET.get("due") == "true"
        if due:
            decisions = decisions.order_by("review_date")
        context.update(
            {
                "page_title": "Panel decisions due for review" if due else "Joint funding panel decisions",
                "decisions": decisions[:200],
                "due": due,
                "today": timezone.localdate(),
            }
        )
        return context


class PanelDecisionDetailView(BrokerageMixin, FormView):
    model = PanelDecision
    template_name = "brokerage/panel_decision.html"
    form_class = forms.PanelApplyForm
    section = "panel"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.decision = self.get_object_or_404()
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, client=self.decision.client)
        return kwargs

    def post(self, request, *args, **kwargs):
        if not is_manager(request.user) or not has_model_permission(request.user, PanelDecision, "change"):
            raise PermissionDenied("Only a brokerage manager applies panel decisions.")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            with transaction.atomic():
                services.panel_decision_apply(
                    decision=self.decision, package=form.cleaned_data["package"], by=self.request.user
                )
        except (StaleEdit, ValidationError) as error:
            add_service_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request, f"Panel decision {self.decision.reference} applied to the package's funding"
        )
        return redirect(form.cleaned_data["package"].get_absolute_url())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        log_access(request=self.request, obj=self.decision.client)
        context.update(
            {
                "page_title": f"Panel decision {self.decision.reference}",
                "decision": self.decision,
                "shares": self.decision.shares.select_related("organisation"),
                "can_apply": is_manager(self.request.user) and self.decision.applied_at is None,
            }
        )
        return context


class PanelDecisionCreateView(ServiceFormView):
    model = PanelDecision
    action = "add"
    form_class = forms.PanelDecisionForm
    heading = "Record a panel decision"
    submit = "Save decision"
    section = "panel"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            pk = request.GET.get("client") or ""
            if not pk.isdigit():
                raise Http404("Choose the client first")
            self.client = self.get_object_or_404(Client, pk=int(pk))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["partnership"] = self.client.partnership
        return kwargs

    def perform(self, form):
        data = dict(form.cleaned_data)
        data.pop("council_percent")
        data.pop("nhs_percent")
        return services.panel_decision_record(
            client=self.client, shares=form.shares(), by=self.request.user, **data
        )

    def get_success_message(self, decision):
        return f"Panel decision {decision.reference} recorded"

    def cancel_url(self):
        return self.client.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["caption"] = f"{self.client.name} ({self.client.case_reference})"
        return context


# --- Clients -----------------------------------------------------------------------------------------


class ClientSearchView(BrokerageMixin, TemplateView):
    model = Client
    template_name = "brokerage/clients.html"
    section = "clients"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = ClientFilterSet(self.request.GET or None, queryset=self.get_queryset())
        style_filter_form(filterset.form)
        for name in ("nhs_number", "case_reference", "partnership"):
            filterset.form.fields.pop(name, None)
        searched = bool(self.request.GET.get("q") or self.request.GET.get("cohort"))
        page = Paginator(filterset.qs if searched else Client.objects.none(), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        without_page = self.request.GET.copy()
        without_page.pop("page", None)
        context.update(
            {
                "page_title": "Find a client",
                "filter_form": filterset.form,
                "searched": searched,
                "page_obj": page,
                "clients": page.object_list,
                "querystring_without_page": (without_page.urlencode() + "&") if without_page else "",
                "can_add": has_model_permission(self.request.user, Client, "add"),
                "show_personal": sees_personal_details(self.request.user),
            }
        )
        return context


class ClientDetailView(BrokerageMixin, TemplateView):
    """A client's page. Special category data: every view is written to the access log."""

    model = Client
    template_name = "brokerage/client.html"
    section = "clients"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        client = self.get_object_or_404()
        log_access(request=self.request, obj=client)
        context.update(
            {
                "page_title": client.name,
                "client": client,
                "show_personal": sees_personal_details(user),
                "referrals": Referral.objects.restrict(user, "view")
                .filter(client=client)
                .order_by("-received_at")
                if has_model_permission(user, Referral, "view")
                else None,
                "packages": Package.objects.restrict(user, "view")
                .filter(client=client)
                .select_related("provider__organisation"),
                "decisions": PanelDecision.objects.restrict(user, "view").filter(client=client)
                if has_model_permission(user, PanelDecision, "view")
                else None,
                "can_change": Client.objects.restrict(user, "change").filter(pk=client.pk).exists(),
                "can_refer": has_model_permission(user, Referral, "add"),
                "can_record_decision": has_model_permission(user, PanelDecision, "add"),
            }
        )
        return context


class ClientCreateView(ServiceFormView):
    model = Client
    action = "add"
    form_class = forms.ClientForm
    heading = "Add a client"
    submit = "Save client"
    section = "clients"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, instance=Client())
        partnership = self.request.partnership
        if partnership is None:
            granted = list(self.request.user.grants.values_list("partnership", flat=True)[:2])
            partnership = granted[0] if len(granted) == 1 else None
        if partnership is not None:
            kwargs.setdefault("initial", {})["partnership"] = getattr(partnership, "pk", partnership)
        return kwargs

    def perform(self, form):
        client = services.client_create(by=self.request.user, **form.service_arguments())
        if not Client.objects.restrict(self.request.user, "add").filter(pk=client.pk).exists():
            raise ValidationError({"partnership": ["Choose one of your own partnerships"]})
        return client

    def get_success_message(self, client):
        return f"{client.name} added"

    def cancel_url(self):
        return reverse("brokerage:clients")


class ClientUpdateView(ServiceFormView):
    model = Client
    action = "change"
    form_class = forms.ClientForm
    submit = "Save changes"
    section = "clients"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.client = self.get_object_or_404(action="change")
            self.heading = f"Change {self.client.name}"
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, instance=self.client)
        return kwargs

    def perform(self, form):
        return services.client_update(client=self.client, by=self.request.user, **form.service_arguments())

    def get_success_message(self, client):
        return f"{client.name} updated"

    def cancel_url(self):
        return self.client.get_absolute_url()


# --- Rate cards, market, timeliness ------------------------------------------------------------------


class RateCardListView(BrokerageMixin, TemplateView):
    model = RateCard
    template_name = "brokerage/rate_cards.html"
    section = "rate-cards"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = RateCardFilterSet(
            self.request.GET or None, queryset=self.get_queryset().select_related("partnership")
        )
        style_filter_form(filterset.form)
        filterset.form.fields.pop("partnership", None)
        context.update(
            {
                "page_title": "Rate cards",
                "filter_form": filterset.form,
                "cards": filterset.qs.order_by("-year", "partnership__name", "service_type"),
                "can_add": has_model_permission(self.request.user, RateCard, "add"),
                "can_change": has_model_permission(self.request.user, RateCard, "change"),
            }
        )
        return context


class RateCardCreateView(ServiceFormView):
    model = RateCard
    action = "add"
    form_class = forms.RateCardForm
    heading = "Add a rate card"
    submit = "Save rate card"
    section = "rate-cards"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, instance=RateCard())
        kwargs.setdefault("initial", {})["year"] = rates.financial_year(timezone.localdate())
        return kwargs

    def perform(self, form):
        return services.rate_card_save(by=self.request.user, **form.service_arguments())

    def success_url_for(self, result):
        return reverse("brokerage:rate-cards")

    def get_success_message(self, card):
        return f"Rate card saved: {card}"

    def cancel_url(self):
        return reverse("brokerage:rate-cards")


class RateCardUpdateView(RateCardCreateView):
    action = "change"
    heading = "Change a rate card"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.card = self.get_object_or_404(action="change")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = self.card
        kwargs["initial"] = {}
        return kwargs

    def perform(self, form):
        return services.rate_card_save(rate_card=self.card, by=self.request.user, **form.service_arguments())


class MarketView(BrokerageMixin, TemplateView):
    model = RateCard
    template_name = "brokerage/market.html"
    section = "market"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not has_model_permission(request.user, Package, "view"):
            raise PermissionDenied("Your role does not allow you to see packages.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        on = timezone.localdate()
        raw = self.request.GET.get("on", "")
        try:
            on = date.fromisoformat(raw) if raw else on
        except ValueError:
            messages.error(self.request, "The date must look like 2024-06-30; showing today instead.")
        context.update(
            {
                "page_title": "Market: prices against the rate card",
                "market": selectors.market(self.request.user, self.request.partnership, on=on),
                "show_client": has_model_permission(self.request.user, Client, "view"),
            }
        )
        return context


class TimelinessView(BrokerageMixin, TemplateView):
    model = Referral
    template_name = "brokerage/timeliness.html"
    section = "timeliness"

    def get_context_data(self, **kwargs):
        from .models import Urgency

        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            {
                "page_title": "Timeliness",
                "rows": selectors.timeliness(user, self.request.partnership),
                "ages": selectors.open_referrals_by_age(user, self.request.partnership),
                "urgencies": Urgency.labels,
            }
        )
        return context
