"""The UI side of the one permission gate: views declare a model and an action; the queryset is
always ``Model.objects.restrict(user, action)``, narrowed to the partnership chosen in the header."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied

from commissioning.permissions import has_model_permission


class RestrictedViewMixin(LoginRequiredMixin):
    """Fetch through ``restrict``: out of scope is 404; a role without the permission is 403."""

    model = None
    action = "view"
    narrow_to_current_partnership = True

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.require_role()
        return super().dispatch(request, *args, **kwargs)

    def require_role(self, action: str | None = None, model=None) -> None:
        """403 unless the user's role holds the model permission: checked before any object is
        looked up, so a role without it is refused whatever the id (never a 404 that leaks scope)."""
        action, model = action or self.action, model or self.model
        if not has_model_permission(self.request.user, model, action):
            raise PermissionDenied(
                f"Your role does not allow you to {action} {model._meta.verbose_name_plural}."
            )

    def get_queryset(self):
        qs = self.model.objects.restrict(self.request.user, self.action)
        if self.narrow_to_current_partnership:
            qs = qs.in_partnership(getattr(self.request, "partnership", None))
        return qs

    def user_can(self, action: str, model=None) -> bool:
        return has_model_permission(self.request.user, model or self.model, action)
