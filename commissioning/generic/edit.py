"""Writes from pages: a form (``ServiceFormView``) or a button (``ServiceActionView``) whose valid
input goes to one service.

``write_in_scope`` runs the service in one transaction and, before it commits, checks that what was
written is still in the user's scope (NetBox ``ObjectEditView``): a commissioner who moves a record
into a partnership they were not granted rolls the whole write back. The service's
``ValidationError`` (a stale version included), or a database constraint's refusal in words
(``commissioning.constraints``), comes back onto the form's fields or, for a button, as an error
message; nothing is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, models, transaction
from django.shortcuts import redirect
from django.views import View
from django.views.generic import FormView

from commissioning.constraints import integrity_error_as_validation
from commissioning.forms import add_service_errors
from commissioning.generic.base import GateMixin

OUT_OF_SCOPE = "You can only change records of your own partnerships."


class OutOfScope(Exception):
    """What was written is outside the user's scope: the transaction is rolled back."""


def write_in_scope(
    user, write: Callable[[], Any], *, scope: Callable[[Any], models.Model | None], action: str
):
    """Run ``write()`` in one transaction; before it commits, the object ``scope(result)`` (if any)
    must be one ``user`` may ``action``, else everything is rolled back and ``OutOfScope`` raised."""
    with transaction.atomic():
        result = write()
        obj = scope(result)
        if (
            obj is not None
            and not type(obj).objects.restrict(user, action).filter(pk=obj.pk).exists()
            # A service that deleted the object (a draft removed) leaves nothing to be out of scope.
            and type(obj)._default_manager.filter(pk=obj.pk).exists()
        ):
            raise OutOfScope
    return result


class _ServiceWrite(GateMixin):
    """What the form view and the action view share: the write, in scope."""

    # The model and action the written object is checked against after the write (defaults: the
    # view's own ``model`` and ``action``; an ``add`` of a child checks the child).
    scope_model: type[models.Model] | None = None
    scope_action: str | None = None
    out_of_scope_message = OUT_OF_SCOPE

    def written_object(self, result) -> models.Model | None:
        """The object whose scope is checked after the write: the service's result when it is a
        model instance of ``scope_model`` (or the view's model), else nothing to check."""
        model = self.scope_model or self.model
        return result if model is not None and isinstance(result, model) else None

    def write(self, perform: Callable[[], Any]):
        return write_in_scope(
            self.request.user,
            perform,
            scope=self.written_object,
            action=self.scope_action or self.action,
        )


class ServiceFormView(_ServiceWrite, FormView):
    """GET shows the form; a valid POST calls ``perform(form)`` (one service) in ``write``, then says
    ``get_success_message(result)`` and redirects to ``get_success_url(result)``."""

    template_name = "generic/form.html"
    heading = ""
    caption = ""
    submit = "Save"
    success_message = ""
    out_of_scope_field: str | None = None

    def perform(self, form):
        raise ImproperlyConfigured(f"{type(self).__name__} must define perform(form) to call its service.")

    def form_valid(self, form):
        try:
            result = self.write(lambda: self.perform(form))
        except ValidationError as error:  # StaleEdit is one: its message goes on top of the form
            add_service_errors(form, error)
            return self.form_invalid(form)
        except IntegrityError as error:  # a database constraint refused it: its words, on its field
            add_service_errors(form, integrity_error_as_validation(error))
            return self.form_invalid(form)
        except OutOfScope:
            form.add_error(
                self.out_of_scope_field if self.out_of_scope_field in form.fields else None,
                self.out_of_scope_message,
            )
            return self.form_invalid(form)
        message = self.get_success_message(result)
        if message:
            messages.success(self.request, message)
        return redirect(self.get_success_url(result))

    def get_success_message(self, result) -> str:
        return self.success_message

    def get_success_url(self, result=None) -> str:
        if result is not None and hasattr(result, "get_absolute_url"):
            return result.get_absolute_url()
        return super().get_success_url()

    def get_heading(self) -> str:
        return self.heading

    def get_caption(self) -> str:
        return self.caption

    def cancel_url(self) -> str | None:
        return None

    def breadcrumbs(self) -> list[tuple[str, str]]:
        return []

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        heading = self.get_heading()
        context.update(
            {
                "page_title": ("Error: " if form.errors else "") + heading,
                "heading": heading,
                "caption": self.get_caption(),
                "submit": self.submit,
                "cancel_url": self.cancel_url(),
                "breadcrumbs": self.breadcrumbs(),
            }
        )
        return context


class ServiceActionView(_ServiceWrite, View):
    """A button on a page (POST only): fetch the object for ``action``, call ``act(obj)`` (one
    service) in ``write``, show its message (or the service's error) and go ``back(obj)``."""

    http_method_names = ["post"]
    action = "change"

    def get_target(self):
        return self.get_object(self.action)

    def act(self, obj) -> str:
        raise ImproperlyConfigured(f"{type(self).__name__} must define act(obj) to call its service.")

    def written_object(self, result):
        model = self.scope_model or self.model
        return self._target if model is not None and isinstance(self._target, model) else None

    def post(self, request, *args, **kwargs):
        obj = self._target = self.get_target()
        try:
            message = self.write(lambda: self.act(obj))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except IntegrityError as error:
            messages.error(request, " ".join(integrity_error_as_validation(error).messages))
        except OutOfScope:
            messages.error(request, self.out_of_scope_message)
        else:
            if message:
                messages.success(request, message)
        return redirect(self.back(obj))

    def back(self, obj) -> str:
        return obj.get_absolute_url()
