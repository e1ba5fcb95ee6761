"""The broker's queue and the case page: a referral received for a client, claimed or assigned,
sourced, or cancelled."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.generic.base import ContextMixin

from commissioning import versions
from commissioning.audit import log_access
from commissioning.generic import ObjectListView, ObjectView

from .. import forms, services
from ..filtersets import ReferralFilterSet
from ..models import OPEN_STATUSES, Client, Offer, Package, Referral
from ..roles import is_manager, sees_personal_details
from .base import PAGE_SIZE, BrokerageActionView, BrokerageFormView, BrokerageMixin

# What the referral queue reads (commissioning.versions): referrals ("brokerage"), their clients and
# proposed funders ("packages"), the partnerships and organisations its funder filter offers
# ("brokerage", "packages"), and who may see what and the brokers' names ("permissions").
QUEUE_SCOPES = ("brokerage", "packages", "permissions")


class QueueView(BrokerageMixin, ObjectListView):
    """The broker's queue: open referrals of their partnership, urgent and oldest first."""

    model = Referral
    template_name = "brokerage/queue.html"
    context_object_name = "referrals"
    section = "queue"
    title = "Referral queue"
    paginate_by = PAGE_SIZE
    filterset_class = ReferralFilterSet
    filter_checkboxes = ("status", "urgency")
    list_select_related = ("client", "proposed_funder", "assigned_to")

    def filter_data(self):
        data = self.request.GET.copy()
        if "status" not in data:
            data.setlist("status", list(OPEN_STATUSES))
        return data

    def base_queryset(self):
        return super().base_queryset().queue_order()

    def get(self, request, *args, **kwargs):
        # The filters, rows and pagination are one block, cached under the versions of the tables
        # they read (commissioning.versions) and what else varies them: the user (what they may
        # see, their name in the broker filter), the partnership chosen in the header, the query as
        # written (the pagination's links repeat it) and today (how long each has waited, overdue).
        self.object_list = None  # read only when the block is built (``queue_block``)
        partnership = request.partnership
        block = versions.cached(
            "referral-queue",
            scopes=QUEUE_SCOPES,
            parts=(
                request.user.pk,
                partnership.pk if partnership else None,
                list(request.GET.lists()),
                timezone.localdate(),
            ),
            build=self.queue_block,
        )
        context = ContextMixin.get_context_data(
            self,
            page_title=block["page_title"],
            queue_block=mark_safe(versions.with_csrf(block["html"], request)),  # noqa: S308 - rendered escaped
            subnav=self.subnav(),
            can_add_client=self.user_can("add", Client),
        )
        return self.render_to_response(context)

    def queue_block(self) -> dict:
        """The filters, rows and pagination as HTML, with the page's title (no request in them: the
        claim buttons' CSRF token a placeholder)."""
        self.object_list = self.get_queryset()
        context = self.get_context_data()
        context["csrf_input"] = mark_safe(  # noqa: S308 - a constant
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{versions.CSRF_PLACEHOLDER}">'
        )
        return {
            "page_title": context["page_title"],
            "html": render_to_string("brokerage/_queue_block.html", context),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        for referral in context["referrals"]:
            referral.age_days = (today - timezone.localtime(referral.received_at).date()).days
            referral.overdue = referral.is_overdue(today)
        return context


class ReferralDetailView(BrokerageMixin, ObjectView):
    """The case page: the client, the need, every offer and the timeline. Viewing it is a view of
    the client's record: it is written to the access log."""

    model = Referral
    template_name = "brokerage/referral.html"
    context_object_name = "referral"
    section = "queue"

    def object_queryset(self, model, action):
        return (
            super()
            .object_queryset(model, action)
            .select_related(
                "client__partnership__council",
                "client__partnership__nhs_commissioner",
                "proposed_funder",
                "assigned_to",
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, referral = self.request.user, self.object
        log_access(request=self.request, obj=referral.client)
        can_change = self.may("change", referral)
        manager = is_manager(user)
        context.update(
            {
                "page_title": f"Referral {referral.reference}",
                "client": referral.client,
                "offers": list(
                    Offer.objects.with_rate_card()
                    .filter(referral=referral)
                    .select_related("provider__organisation", "approved_by")
                ),
                "timeline": referral.activities.select_related("by").order_by("-at", "-pk"),
                "can_change": can_change and referral.is_open,
                "can_approve": manager,
                "can_accept": can_change and self.user_can("add", Package),
                "assign_form": forms.AssignForm(referral=referral) if can_change and manager else None,
                "cancel_form": forms.CancelForm() if can_change and referral.is_open else None,
                "package": getattr(referral, "package", None),
                "show_personal": sees_personal_details(user),
            }
        )
        return context


class ReferralCreateView(BrokerageFormView):
    """A new referral for a client chosen first (``?client=``)."""

    model = Referral
    action = "add"
    form_class = forms.ReferralForm
    heading = "New referral"
    submit = "Save referral"

    def client(self) -> Client:
        pk = self.request.GET.get("client") or self.request.POST.get("client") or ""
        if not pk.isdigit():
            raise Http404("Choose the client first")
        return self.get_object("view", model=Client, pk=int(pk))

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        client = self.client()
        kwargs.update(user=self.request.user, client=client, initial={"client": client.pk})
        return kwargs

    def perform(self, form):
        return services.referral_create(by=self.request.user, **form.service_arguments())

    def get_success_message(self, referral):
        return f"Referral {referral.reference} received for {self.client().name}"

    def get_caption(self) -> str:
        client = self.client()
        return f"{client.name} ({client.case_reference})"

    def cancel_url(self):
        return self.client().get_absolute_url()


class ReferralClaimView(BrokerageActionView):
    model = Referral

    def act(self, referral):
        version = forms.referral_version(self.request.POST)
        services.referral_claim(referral=referral, by=self.request.user, version=version)
        return f"You are now working on referral {referral.reference}"


class ReferralSourcingView(BrokerageActionView):
    model = Referral

    def act(self, referral):
        version = forms.referral_version(self.request.POST)
        services.referral_start_sourcing(referral=referral, by=self.request.user, version=version)
        return f"Sourcing started for referral {referral.reference}"


class ReferralAssignView(BrokerageActionView):
    model = Referral
    manager_only = "Only a brokerage manager assigns referrals to others."

    def act(self, referral):
        form = forms.AssignForm(self.request.POST, referral=referral)
        if not form.is_valid():
            raise ValidationError(form.errors["assigned_to"])
        to = form.cleaned_data["assigned_to"]
        version = forms.referral_version(self.request.POST)
        services.referral_assign(referral=referral, to=to, by=self.request.user, version=version)
        return (
            f"Referral {referral.reference} assigned to {to}"
            if to
            else f"Referral {referral.reference} unassigned"
        )


class ReferralCancelView(BrokerageActionView):
    model = Referral

    def act(self, referral):
        form = forms.CancelForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError("Enter why the referral is cancelled.")
        version = forms.referral_version(self.request.POST)
        services.referral_cancel(
            referral=referral, by=self.request.user, reason=form.cleaned_data["reason"], version=version
        )
        return f"Referral {referral.reference} cancelled"
