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
        if request.user.is_authenticated and not has_model_permission(request.user, self.model, self.action):
            raise PermissionDenied(
                f"Your role does not allow you to {self.action} {self.model._meta.verbose_name_plural}."
            )
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        qs = self.model.objects.restrict(self.request.user, self.action)
        if self.narrow_to_current_partnership:
            qs = qs.in_partnership(getattr(self.request, "partnership", None))
        return qs

    def user_can(self, action: str, model=None) -> bool:
        return has_model_permission(self.request.user, model or self.model, action)
