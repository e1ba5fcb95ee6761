"""Board packs from a meeting's page: asking for a new version (the members' pack only by the
board's members and secretaries) and downloading a ready one."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View

from commissioning import jobs
from commissioning.generic import GateMixin
from governance import downloads, services
from governance.forms import PackRequestForm
from governance.models import BoardPack, Meeting
from governance.views.base import ButtonForm


class PackRequestView(ButtonForm):
    model = BoardPack
    action = "add"
    form_class = PackRequestForm
    invalid_message = "Choose the members' or the public pack."

    def target(self) -> Meeting:
        return self.get_object("view", model=Meeting)

    def perform(self, form) -> BoardPack:
        # The service refuses the members' pack (403) to anyone but the board's members and secretaries.
        return services.pack_request(
            meeting=self.target(), audience=form.cleaned_data["audience"], by=self.request.user
        )

    def get_success_message(self, pack: BoardPack) -> str:
        what = f"{pack.get_audience_display()} pack version {pack.version}"
        if jobs.deferred():  # the broker is down: the version is recorded and renders when it is back
            messages.warning(self.request, jobs.deferred_message(what))
            return ""
        return f"{what} is being generated."

    def back(self) -> str:
        return reverse("governance:meeting", args=[self.target().pk]) + "#packs"

    def form_invalid(self, form):
        messages.error(self.request, self.invalid_message)
        return redirect(self.target())


class PackDownloadView(GateMixin, View):
    model = BoardPack

    def object_queryset(self, model, action):
        return super().object_queryset(model, action).select_related("meeting__board")

    def get(self, request, pk):
        pack = self.get_object()
        try:
            return downloads.pack_response(request, pack)
        except downloads.PackNotReady as not_ready:
            messages.error(request, str(not_ready))
            return redirect(pack.meeting)
