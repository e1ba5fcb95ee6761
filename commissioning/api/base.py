"""The API side of the one permission gate. Domain viewsets declare ``model``, a serializer and a
filterset; the queryset always comes through ``restrict`` (hidden objects: 404) and the role's
model permission decides 403 (``RolePermission``)."""

from __future__ import annotations

from django.db import transaction
from rest_framework import mixins, viewsets


class RestrictedViewSetMixin:
    model = None
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    def get_queryset(self):
        action = {"GET": "view", "HEAD": "view", "OPTIONS": "view"}.get(self.request.method, "view")
        qs = self.model.objects.restrict(self.request.user, action)
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def get_object(self):
        # Fetch what the user may see (else 404); the role decides whether they may change it (403).
        return super().get_object()


class RestrictedModelViewSet(RestrictedViewSetMixin, viewsets.ModelViewSet):
    """Read and write. Writes run in one transaction and re-check scope before commit."""

    def perform_create(self, serializer):
        with transaction.atomic():
            instance = serializer.save()
            self._check_still_visible(instance)

    def perform_update(self, serializer):
        with transaction.atomic():
            instance = serializer.save()
            self._check_still_visible(instance)

    def _check_still_visible(self, instance):
        from rest_framework.exceptions import ValidationError

        if not self.model.objects.restrict(self.request.user, "view").filter(pk=instance.pk).exists():
            raise ValidationError(
                {
                    "non_field_errors": [
                        "You cannot put a record into a partnership you have not been granted."
                    ]
                }
            )


class RestrictedReadOnlyViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


__all__ = ["RestrictedModelViewSet", "RestrictedReadOnlyViewSet", "mixins"]
