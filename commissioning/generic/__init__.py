"""The generic page layer every app's views stand on (NetBox's ``netbox/views/generic``).

- ``GateMixin`` (``base``): sign-in, the role check before any lookup (403), the scoped lookup
  through ``restrict`` (404 when hidden), the header's partnership, and ``get_object(action)``.
- ``ObjectView`` (``object``): a page about one object.
- ``ObjectListView`` and ``ObjectExportView`` (``list``): one FilterSet for the page, its CSV/XLSX
  export and (in the API) the list endpoint; sorting and pagination.
- ``ServiceFormView`` and ``ServiceActionView`` (``edit``): a form or a button whose valid input goes
  to one service, run in one transaction with the scope re-checked before it commits; the service's
  ``ValidationError`` and stale-version errors come back onto the form (or as an error message).
- ``ConfirmStep`` (``confirm``): the GOV.UK "Are you sure?" page in front of such a button.

Views built on these hold no ``transaction.atomic`` and no permission ``if`` after a fetch.
"""

from commissioning.generic.base import GateMixin
from commissioning.generic.confirm import ConfirmStep
from commissioning.generic.edit import OutOfScope, ServiceActionView, ServiceFormView, write_in_scope
from commissioning.generic.list import ObjectExportView, ObjectListMixin, ObjectListView
from commissioning.generic.object import ObjectView

__all__ = [
    "ConfirmStep",
    "GateMixin",
    "ObjectExportView",
    "ObjectListMixin",
    "ObjectListView",
    "ObjectView",
    "OutOfScope",
    "ServiceActionView",
    "ServiceFormView",
    "write_in_scope",
]
