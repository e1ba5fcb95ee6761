"""The GOV.UK "Are you sure?" step of a button that cannot be undone (publishing a notice, issuing
an invoice, deleting a draft).

GET on the action's own URL shows what will happen and a button that posts to it; the page's button
is a link here. ``confirm_target()`` fetches the object through the gate (403 or 404 before anything
is shown); ``confirm_context(target)`` says what to show:

- ``heading`` (required), ``caption``, ``explanation`` (paragraphs), ``details`` (label, value pairs),
  ``warning``;
- ``confirm_label`` (the button) and ``warning_button`` (a red button for a deletion);
- ``cancel_url`` (required), ``hidden`` (name, value pairs posted with the button), ``action_url``.

The body is ``templates/generic/_confirm.html``; an app's ``confirm_template`` puts it in its layout.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import render


class ConfirmStep:
    confirm_template = "generic/confirm.html"

    def confirm_target(self):
        raise ImproperlyConfigured(f"{type(self).__name__} must say what is confirmed.")

    def confirm_context(self, target) -> dict:
        raise ImproperlyConfigured(f"{type(self).__name__} must say what the confirmation shows.")

    def get(self, request, *args, **kwargs):
        target = self.confirm_target()
        context = {
            "hidden": (),
            "warning": "",
            "explanation": (),
            "caption": "",
            "details": (),
            "warning_button": False,
        }
        context.update(self.confirm_context(target))
        context.setdefault("action_url", request.path)
        context.setdefault("page_title", context["heading"])
        return render(request, self.confirm_template, context)
