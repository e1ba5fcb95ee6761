"""The API side of the one permission gate. Domain viewsets declare ``model``, a serializer and a
filterset; the queryset always comes through ``restrict`` (hidden objects: 404) and the role's
model permission decides 403 (``RolePermission``).

Writes: a viewset whose writes go through services overrides ``create_object`` and
``update_object`` (and ``destroy_object``) to call them; the base runs each write in one
transaction and, before it commits, checks that the record is still in the user's scope.
"""

from __future__ import annotations

from django.db import transaction
from rest_framework import exceptions, mixins, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from commissioning.api import versions
from commissioning.api.permissions import required_action
from commissioning.api.rows import RowSerializerMixin
from commissioning.api.strict import StrictQueryMixin


class RestrictedViewSetMixin(StrictQueryMixin):
    model = None
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()
    # api.md: POST, GET, PATCH, DELETE. No PUT: a full replace would silently blank fields that a
    # client's older copy of the schema does not know about.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # The version an edit of a versioned object was made from (``commissioning.api.versions``).
    edit_version: int | None = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, no rows
            return self.model.objects.none()
        # Always the *view* scope: an object the user cannot see is 404 for every method; whether
        # they may change a visible one is decided in get_object (403).
        qs = self.model.objects.restrict(self.request.user, "view")
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def list(self, request, *args, **kwargs):
        # A serializer with ``RowSerializerMixin`` builds a page from ``.values()`` rows: no model
        # object per row, nor per related row (a page of 100 packages was 300 of them, most of its
        # time). Its ``to_representation(instance)`` goes through ``represent_row`` too, so both
        # ways give the same JSON. Every row at once (``?format=csv``: no page) is DRF's list.
        serializer_class = self.get_serializer_class()
        if not issubclass(serializer_class, RowSerializerMixin):
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset.prefetch_related(None).values(*serializer_class.row_values()))
        if page is None:
            return Response(self.get_serializer(queryset, many=True).data)
        represent = self.get_serializer().represent_row
        return self.get_paginated_response([represent(row) for row in page])

    def get_object(self):
        # Fetch what the user may see (else 404) ...
        obj = super().get_object()
        # ... then, for a write, what they may change. The role's model permission has already been
        # checked (RolePermission), but object grants can differ by action: a django-guardian grant
        # to *view* one contract of another partnership must not let a commissioner change it.
        if self.request.method not in SAFE_METHODS:
            action = required_action(self.request, self)
            if not self.model.objects.restrict(self.request.user, action).filter(pk=obj.pk).exists():
                raise exceptions.PermissionDenied(
                    f"You may see this {self.model._meta.verbose_name} but not {action} it."
                )
            if self.is_versioned_edit():
                # After the 404 and 403, before the body is read: missing 428, stale 409.
                self.edit_version = versions.required_version(self.request)
                versions.check(obj, self.edit_version)
        return obj

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        version = response.data.get(versions.VERSION) if isinstance(response.data, dict) else None
        if versions.is_versioned(self.model) and isinstance(version, int):
            response["ETag"] = f'"{version}"'  # what a change sends back as If-Match
        return response

    # POST actions on one object that record something beside it (a link row) without changing it,
    # so they need no version. The schema and the versions test read this too.
    unversioned_actions: frozenset[str] = frozenset()

    def is_versioned_edit(self) -> bool:
        """A change to one object that keeps a version: PATCH/PUT, or a POST action on it."""
        if not versions.is_versioned(self.model) or self.action in self.unversioned_actions:
            return False
        method = self.request.method
        return method in ("PATCH", "PUT") or (method == "POST" and bool(getattr(self, "detail", False)))


class RestrictedModelViewSet(RestrictedViewSetMixin, viewsets.ModelViewSet):
    # Read and write. Writes run in one transaction and re-check scope before commit.
    # (No docstring: drf-spectacular would publish it as the description of every subclass's
    # operations that lack their own.)

    def create_object(self, serializer):
        """Write the new record (default: ``serializer.save()``); return the instance."""
        return serializer.save()

    def update_object(self, serializer):
        """Write the change to ``serializer.instance`` (default: ``serializer.save()``)."""
        return serializer.save()

    def destroy_object(self, instance) -> None:
        instance.delete()

    def perform_create(self, serializer):
        with transaction.atomic():
            serializer.instance = self.create_object(serializer)
            self._check_still_visible(serializer.instance)
            serializer.data  # noqa: B018 - the answer is built (and kept) before the commit

    def perform_update(self, serializer):
        with transaction.atomic():
            if self.edit_version is not None:
                versions.check_locked(serializer.instance, self.edit_version)
                field = serializer.fields.get(versions.VERSION)
                if field is not None and not field.read_only:  # a service that checks it too gets it
                    serializer.validated_data[versions.VERSION] = self.edit_version
            serializer.instance = self.update_object(serializer)
            self._check_still_visible(serializer.instance)
            if getattr(serializer.instance, "_prefetched_objects_cache", None):
                serializer.instance._prefetched_objects_cache = {}  # as DRF's update() does, earlier
            serializer.data  # noqa: B018 - the answer is built (and kept) before the commit

    def perform_destroy(self, instance):
        with transaction.atomic():
            self.destroy_object(instance)

    def respond_to_write(self, write, represent, *, status_code: int = 200):
        """Run an action's write and build its answer in one transaction: if the answer cannot be
        built (an amount that does not fit, a row that vanished), the write is rolled back too, so
        no response fails after a commit. ``write()`` returns the record; ``represent(record)``
        its data."""
        from rest_framework.response import Response

        with transaction.atomic():
            data = represent(write())
        return Response(data, status=status_code)

    def _check_still_visible(self, instance):
        if not self.model.objects.restrict(self.request.user, "view").filter(pk=instance.pk).exists():
            raise exceptions.ValidationError(
                {
                    "non_field_errors": [
                        "You cannot put a record into a partnership you have not been granted."
                    ]
                }
            )


class RestrictedReadOnlyViewSet(RestrictedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


__all__ = ["RestrictedModelViewSet", "RestrictedReadOnlyViewSet", "mixins"]
