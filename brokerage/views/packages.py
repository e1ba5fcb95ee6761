"""Packages: the list, a package's page with its cost and funding history, and the changes to it
(price, funding, end, suspend or resume), each from the version the editor loaded."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from commissioning import versions
from commissioning.audit import log_access
from commissioning.generic import ObjectListView, ObjectView

from .. import forms, selectors, services
from ..filtersets import PackagePageFilterSet
from ..models import Client, FundingShare, Package, PackageStatus, PanelDecision
from ..roles import is_manager
from .base import PAGE_SIZE, BrokerageActionView, BrokerageFormView, BrokerageMixin

# What a package's page reads (commissioning.versions): the package, its client, costs, funding
# and suspensions, provider and organisations ("packages"), its referral, price changes and panel
# decisions ("brokerage"), and who may see what and the names of who changed what ("permissions").
PAGE_SCOPES = ("packages", "brokerage", "permissions")


class PackageListView(BrokerageMixin, ObjectListView):
    model = Package
    template_name = "brokerage/packages.html"
    context_object_name = "packages"
    section = "packages"
    title = "Packages"
    paginate_by = PAGE_SIZE
    filterset_class = PackagePageFilterSet  # the API's filters, with the page's default statuses
    filter_checkboxes = ("status",)
    list_select_related = ("client", "provider__organisation", "paying_organisation")

    def base_queryset(self):
        packages = super().base_queryset().order_by("-start", "-pk")
        return selectors.with_weekly_cost(packages, timezone.localdate())

    def get_filterset(self):
        filterset = super().get_filterset()
        for name in ("client", "provider"):  # the API's filters, not the page's
            filterset.form.fields.pop(name, None)
        if "status" in filterset.form.fields:  # on the bound field: a bound form has made it already
            filterset.form[
                "status"
            ].help_text = "Status now. None ticked: active and suspended, or any with a live-on date."
        return filterset

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            show_client=self.user_can("view", Client), today=timezone.localdate(), **kwargs
        )


class PackageDetailView(BrokerageMixin, ObjectView):
    """A package with its cost and funding history. Finance and commissioners see packages without
    their client; for the roles that see the client, viewing it is written to the access log."""

    model = Package
    template_name = "brokerage/package.html"
    context_object_name = "package"
    section = "packages"

    def object_queryset(self, model, action):
        # The page's package is read through the gate with its client and partnership alone (the
        # access log names them); the block reads the rest when it is built.
        if model is Package:
            return super().object_queryset(model, action).select_related("client__partnership")
        return super().object_queryset(model, action)

    def get_context_data(self, **kwargs):
        request, package = self.request, self.object
        show_client = self.user_can("view", Client)
        if show_client:
            log_access(request=request, obj=package.client)
        # Everything below the breadcrumbs is one block, cached under the versions of the tables it
        # reads (commissioning.versions) and what else varies it: the user (their role, what they
        # may change, the price changes they proposed) and today (the cost in force, unfunded days).
        html = versions.cached(
            "package-page",
            scopes=PAGE_SCOPES,
            parts=(package.pk, request.user.pk, timezone.localdate()),
            build=lambda: self.page_block(package, show_client),
        )
        return super().get_context_data(
            page_title=f"Package {package.reference}",
            page_block=mark_safe(versions.with_csrf(html, request)),  # noqa: S308 - rendered escaped
            **kwargs,
        )

    def page_block(self, package: Package, show_client: bool) -> str:
        """The page's content as HTML, with no request in it (the CSRF token a placeholder). The
        package is read again here, after the versions: the gate's copy was read before them."""
        user = self.request.user
        package = Package.objects.select_related(
            "client__partnership", "provider__organisation", "paying_organisation", "referral"
        ).get(pk=package.pk)
        costs = list(package.costs.order_by("-effective_from"))
        suspensions = list(package.suspensions.order_by("-effective_from"))
        splits = list(
            package.splits.order_by("-effective_from").prefetch_related(
                Prefetch("shares", queryset=FundingShare.objects.select_related("organisation"))
            )
        )
        price_changes = list(package.price_changes.select_related("proposed_by", "decided_by"))
        pending_price = next((c for c in price_changes if c.is_pending), None)
        # Who wrote each cost and funding row and when (and, for a price, why), and the rows later
        # changes removed: the package's cost and funding history an auditor reads.
        cost_added, split_added, removed = selectors.package_history(package)
        by_cost = {c.cost_id: c for c in price_changes if c.cost_id}
        for cost in costs:
            cost.recorded, cost.price_change = cost_added.get(cost.pk), by_cost.get(cost.pk)
        for split in splits:
            split.recorded = split_added.get(split.pk)
        today = timezone.localdate()
        can_change = self.may("change", self.object)  # the object read through the gate
        decisions = []
        if self.user_can("view", PanelDecision):
            decisions = list(
                self.restricted("view", PanelDecision).filter(client=package.client, applied_at__isnull=True)
            )
        context = {
            "package": package,
            "costs": costs,
            "current_cost": package.cost_in_force_on(today, costs),
            "splits": splits,
            "suspensions": suspensions,
            "unfunded": selectors.unfunded_periods(package, splits, today=today),
            "today": today,
            "can_change": can_change and package.status != PackageStatus.ENDED,
            "show_client": show_client,
            "pending_decisions": decisions,
            "price_changes": price_changes,
            "removed_rows": removed,
            "pending_price": pending_price,
            "own_pending_price": pending_price is not None and pending_price.proposed_by_id == user.pk,
            "can_decide_price": pending_price is not None
            and is_manager(user)
            and can_change
            and pending_price.proposed_by_id != user.pk,
            "can_apply_decisions": is_manager(user) and can_change,
            "csrf_token": versions.CSRF_PLACEHOLDER,
        }
        return render_to_string("brokerage/_package_page.html", context)


class PackageFormView(BrokerageFormView):
    """A change to a package, from the version the editor loaded (a stale one is a form error)."""

    model = Package
    action = "change"
    # The package is the object changed: its scope is checked whatever row the service returns.
    scope_model = Package

    def object_queryset(self, model, action):
        return (
            super()
            .object_queryset(model, action)
            .select_related(
                "client__partnership__council",
                "client__partnership__nhs_commissioner",
                "provider__organisation",
            )
        )

    def package(self) -> Package:
        return self.get_object()

    def written_object(self, result):
        return self.package()

    def get_initial(self):
        return {"version": self.package().version}

    def get_success_url(self, result=None):
        return self.package().get_absolute_url()

    def cancel_url(self):
        return self.package().get_absolute_url()

    def breadcrumbs(self):
        package = self.package()
        return [
            *super().breadcrumbs(),
            ("Packages", reverse("brokerage:packages")),
            (f"Package {package.reference}", package.get_absolute_url()),
        ]

    def get_caption(self) -> str:
        package = self.package()
        return f"Package {package.reference}: {package.get_service_type_display()}, {package.provider}"


class PackageChangeFundingView(PackageFormView):
    form_class = forms.FundingChangeForm
    heading = "Change the funding"
    submit = "Change the funding"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["partnership"] = self.package().client.partnership
        kwargs["decision_references"] = list(
            PanelDecision.objects.filter(client_id=self.package().client_id).values_list(
                "reference", flat=True
            )
        )
        return kwargs

    def perform(self, form):
        data = form.cleaned_data
        return services.package_change_funding(
            package=self.package(),
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


class PackageSuspensionView(PackageFormView):
    """Suspend a package for dated days with what the provider is still paid (rules.md rule 1)."""

    form_class = forms.SuspensionForm
    heading = "Record a suspension"
    submit = "Record the suspension"

    def perform(self, form):
        return services.suspension_add(package=self.package(), by=self.request.user, **form.cleaned_data)

    def get_success_message(self, suspension):
        return (
            f"Suspension recorded from {suspension.effective_from:%-d %B %Y} to "
            f"{suspension.effective_to:%-d %B %Y}: the next recharge run bills it"
        )


class PackageEndView(PackageFormView):
    form_class = forms.EndForm
    heading = "End the package"
    submit = "End the package"

    def perform(self, form):
        return services.package_end(package=self.package(), by=self.request.user, **form.cleaned_data)

    def get_success_message(self, package):
        return f"Package {package.reference} ends on {package.end:%-d %B %Y}"


class PackageStatusView(BrokerageActionView):
    """Suspend or resume a package (a button on its page, with the version it showed)."""

    model = Package

    def act(self, package):
        form = forms.PackageStatusForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError(form.first_error())
        wanted = form.cleaned_data["status"]
        services.package_set_status(
            package=package, status=wanted, by=self.request.user, version=form.cleaned_data["version"]
        )
        done = "suspended" if wanted == PackageStatus.SUSPENDED else "resumed"
        return f"Package {package.reference} {done}"
