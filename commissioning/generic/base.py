"""The gate every page passes (conventions.md, "Permissions: one gate").

A view names the model it is about and the action it performs on it. Before anything is looked up,
the user's role must hold that model permission (403 otherwise, whatever the id, so a role without
it learns nothing about which ids exist). Objects are then fetched through
``Model.objects.restrict(user, action)``: one the user may not see answers 404; one they may see
but not act on answers 403.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from commissioning.permissions import has_model_permission


def role_refusal(model: type[models.Model], action: str) -> str:
    return f"Your role does not allow you to {action} {model._meta.verbose_name_plural}."


class GateMixin(LoginRequiredMixin):
    """Sign-in, the role check, scoped lookups and the header's partnership, for every page."""

    model: type[models.Model] | None = None
    action = "view"
    # Further (model, action) pairs the page's role needs, checked with the view's own before
    # anything is looked up: a page about a schedule that records its monthly positions needs both.
    requires: tuple[tuple[type[models.Model], str], ...] = ()
    # Lists show the partnership chosen in the header's switcher; an object's own page opens from
    # anywhere (a bookmark, a board paper, a link in an e-mail), and the gate alone decides.
    narrow_to_current_partnership = True
    # An object the user may see but not act on: 403 saying so (the default), or 404 where even
    # that is not to be said (a record shown through a one-off object grant).
    hide_refused_objects = False

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        # The middleware's lazy partnership, resolved once: a Partnership or None.
        request.partnership = getattr(request, "partnership", None) or None
        self._objects: dict[tuple, models.Model] = {}

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if self.model is not None:
                self.require_role()
            for model, action in self.requires:
                self.require_role(action, model)
        return super().dispatch(request, *args, **kwargs)

    # --- Roles -----------------------------------------------------------------------------------

    def require_role(self, action: str | None = None, model: type[models.Model] | None = None) -> None:
        """403 unless the user's role holds ``<action>`` on ``model`` (the view's by default)."""
        action, model = action or self.action, model or self.model
        if not has_model_permission(self.request.user, model, action):
            raise PermissionDenied(role_refusal(model, action))

    def user_can(self, action: str, model: type[models.Model] | None = None) -> bool:
        """Does the user's role hold ``<action>`` on ``model``? (For showing buttons and links.)"""
        return has_model_permission(self.request.user, model or self.model, action)

    def may(self, action: str, obj: models.Model) -> bool:
        """May the user ``action`` this very object (role and scope)? One query, or none for the
        page's own object: read through the gate for viewing, it is in the user's partnerships,
        and a model scoped by partnership alone (no object grants, no ``restrict_objects``)
        scopes every action alike, so the role's permission answers."""
        model = type(obj)
        if (
            self._objects.get((model, "view", obj.pk)) is obj
            and not getattr(model, "guardian_object_permissions", False)
            and getattr(model, "restrict_objects", None) is None
        ):
            return has_model_permission(self.request.user, model, action)
        return model.objects.restrict(self.request.user, action).filter(pk=obj.pk).exists()

    # --- Querysets and objects -----------------------------------------------------------------------

    def restricted(self, action: str | None = None, model: type[models.Model] | None = None):
        """``model.objects.restrict(user, action)``: the one way any page reads rows."""
        return (model or self.model).objects.restrict(self.request.user, action or self.action)

    def scoped_queryset(self):
        """The view's model through the gate, narrowed to the header's partnership for lists."""
        qs = self.restricted()
        if self.narrow_to_current_partnership:
            qs = qs.in_partnership(self.request.partnership)
        return qs

    def get_queryset(self):
        return self.scoped_queryset()

    def object_queryset(self, model: type[models.Model], action: str):
        """The queryset an object of ``model`` is looked up in (override to add select_related)."""
        return self.restricted(action, model)

    def get_object(
        self,
        action: str | None = None,
        *,
        model: type[models.Model] | None = None,
        pk=None,
        queryset=None,
    ) -> models.Model:
        """The object named by the URL (``pk``), for ``action``:

        1. the role must hold the model permission for the action (403, before any lookup);
        2. the object is looked up among those the user may ``action`` (``restrict``);
        3. not there: 403 if the user may at least see it, else 404.

        Cached per model, action and id for the request."""
        action = action or self.action
        model = model or (queryset.model if queryset is not None else self.model)
        pk = self.kwargs["pk"] if pk is None else pk
        key = (model, action, pk)
        if key in self._objects:
            return self._objects[key]
        self.require_role(action, model)
        qs = self.object_queryset(model, action) if queryset is None else queryset
        try:
            obj = qs.get(pk=pk)
        except (ValueError, TypeError):
            raise Http404(f"No {model._meta.verbose_name} found") from None
        except model.DoesNotExist:
            if (
                action != "view"
                and not self.hide_refused_objects
                and self.restricted("view", model).filter(pk=pk).exists()
            ):
                raise PermissionDenied(
                    f"You may see this {model._meta.verbose_name} but not {action} it."
                ) from None
            raise Http404(f"No {model._meta.verbose_name} found") from None
        self._objects[key] = obj
        return obj
