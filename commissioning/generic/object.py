"""A page about one object, fetched through the gate (``GateMixin.get_object``)."""

from __future__ import annotations

from django.views.generic import DetailView

from commissioning.generic.base import GateMixin


class ObjectView(GateMixin, DetailView):
    """``DetailView`` whose object comes from ``get_object(action)``: the role first (403), then
    the scoped lookup (404). Add ``select_related`` by overriding ``object_queryset``."""

    def get_object(self, action=None, **kwargs):  # DetailView calls it with no arguments
        return super().get_object(action, **kwargs)
