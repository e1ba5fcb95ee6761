"""What the governance pages share on the generic layer (``commissioning.generic``).

- ``GovernanceFormView``: a page with one form (the generic form page, with the governance
  breadcrumbs).
- ``FormOnPage``: a form shown on an object's page (a meeting's agenda, an item's decision): it
  posts here, and its errors show on that page again.
- ``ButtonForm``: a small form behind a button (a pack's audience, an action's status): its errors
  come back as a message on the page it was pressed on.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import redirect

from commissioning.generic import ConfirmStep as GenericConfirmStep
from commissioning.generic import ObjectView, ServiceFormView


class GovernanceFormView(ServiceFormView):
    template_name = "governance/form.html"


class FormOnPage(ServiceFormView):
    """POST only. ``page_object()`` is the object whose page shows the form (fetched through the
    gate before the form is read); ``page_view`` renders that page, with this form in its context
    as ``form_name``, when the form or the service refuses the input."""

    http_method_names = ["post"]
    page_view: type[ObjectView] | None = None
    form_name = "form"

    def page_object(self):
        raise ImproperlyConfigured(f"{type(self).__name__} must say which object's page shows its form.")

    def post(self, request, *args, **kwargs):
        self.page_object()  # the role, then the scope: 403 or 404 before the input is read
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        obj = self.page_object()
        page = self.page_view()
        page.setup(self.request, pk=obj.pk)
        page.object = obj
        return page.render_to_response(page.get_context_data(**{self.form_name: form}))


class ButtonForm(ServiceFormView):
    """POST only. ``target()`` is the object the button acts on (fetched through the gate before
    the choice is read); an invalid choice says ``invalid_message`` and goes back to ``back()``."""

    http_method_names = ["post"]
    invalid_message = ""

    def target(self):
        raise ImproperlyConfigured(f"{type(self).__name__} must say what its button acts on.")

    def post(self, request, *args, **kwargs):
        self.target()  # the role, then the scope: 403 or 404 before the input is read
        return super().post(request, *args, **kwargs)

    def back(self) -> str:
        raise ImproperlyConfigured(f"{type(self).__name__} must say where to go back to.")

    def form_invalid(self, form):
        messages.error(self.request, self.invalid_message)
        return redirect(self.back())

    def get_success_url(self, result=None) -> str:
        return self.back()


class ConfirmStep(GenericConfirmStep):
    """The generic "Are you sure?" step (``commissioning.generic.confirm``) with the governance
    breadcrumbs."""

    confirm_template = "governance/confirm.html"
