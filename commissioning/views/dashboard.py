from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from commissioning import selectors
from commissioning.generic import GateMixin
from commissioning.middleware import SESSION_KEY
from commissioning.models import Partnership


class DashboardView(GateMixin, TemplateView):
    """Home page per role: panels of what needs attention. Each app adds its own panels."""

    template_name = "commissioning/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["page_title"] = "Home"
        context["panels"] = selectors.dashboard_panels(self.request.user, self.request.partnership)
        return context


class SwitchPartnershipView(LoginRequiredMixin, View):
    def post(self, request):
        pk = request.POST.get("partnership") or ""
        if pk.isdigit() and Partnership.objects.restrict(request.user, "view").filter(pk=int(pk)).exists():
            request.session[SESSION_KEY] = int(pk)
        else:
            request.session.pop(SESSION_KEY, None)
        target = request.POST.get("next") or "/"
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "/"
        # A URL, never a view name: ``redirect("anything")`` would try to reverse it (a 500).
        return HttpResponseRedirect(target)
