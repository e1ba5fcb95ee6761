"""Reusable serializer fields of api.md: money as strings with two places, organisations by code,
and related objects chosen only among those the requesting user may see."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from django.db import models
from django.utils.encoding import smart_str
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from commissioning.choices import OrganisationKind, ServiceType
from commissioning.models import Organisation
from commissioning.money import MONEY_MAX, money_text


def _request_user(field: serializers.Field):
    request = field.context.get("request")
    return getattr(request, "user", None)


MONEY_TEXT = re.compile(r"^-?\d+(?:\.\d{1,2})?$")


class MoneyField(serializers.DecimalField):
    """Money: a string with exactly two decimals out (``"1552.02"``, rounded half up); in, a string
    of digits with at most two decimals (``"1.10"``, ``"1552.02"``: no JSON numbers, which clients
    round in binary, no exponents, no thousands separators), bounded, and non-negative unless
    ``non_negative=False``."""

    default_error_messages = {
        "not_text": 'Give money as a string with at most two decimals, e.g. "1552.02" (not a JSON number).',
        "not_money": 'Give money as digits with at most two decimals, e.g. "1552.02".',
    }

    def __init__(self, *, non_negative: bool = True, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs["coerce_to_string"] = True
        kwargs.setdefault("max_value", MONEY_MAX)
        kwargs.setdefault("min_value", Decimal("0.00") if non_negative else -MONEY_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str):
            self.fail("not_text")
        if not MONEY_TEXT.match(data.strip()):
            self.fail("not_money")
        return super().to_internal_value(data.strip())

    def to_representation(self, value) -> str:
        # Rounded half up to the penny like every amount shown (commissioning.money), not half even.
        return money_text(value)


class VisiblePrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by id, chosen among those the user may see (``restrict``).

    An id the user may not see is refused exactly like an id that does not exist, so ids cannot be
    probed through validation messages.
    """

    def __init__(self, *, model: type[models.Model], action: str = "view", **kwargs):
        self.model = model
        self.restrict_action = action
        if not kwargs.get("read_only"):
            # Only for the schema (the pk's type); choices always come from get_queryset().
            kwargs["queryset"] = model._default_manager.all()
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.restrict(_request_user(self), self.restrict_action)


@extend_schema_field(OpenApiTypes.STR)
class OrganisationCodeField(serializers.SlugRelatedField):
    """An organisation by its ``code`` (api.md), among the organisations the user may see;
    ``kinds`` narrows to e.g. councils."""

    default_error_messages = {
        "does_not_exist": "There is no organisation with the code {value}.",
        "invalid": "Give an organisation code, e.g. LBB.",
        "wrong_kind": "{value} is a {actual}, not a {wanted}.",
    }

    def __init__(self, *, kinds: Iterable[str] = (), **kwargs):
        self.kinds = tuple(kinds)
        kwargs["slug_field"] = "code"
        if not kwargs.get("read_only"):
            kwargs["queryset"] = Organisation.objects.all()  # for the schema; see get_queryset
        super().__init__(**kwargs)

    def get_queryset(self):
        return Organisation.objects.restrict(_request_user(self), "view")

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        code = data.strip()
        if code and "\x00" not in code:  # codes in any case (api.md): ``lbb`` is ``LBB``
            code = (
                self.get_queryset().filter(code__iexact=code).values_list("code", flat=True).first() or code
            )
        organisation = super().to_internal_value(code)
        if self.kinds and organisation.kind not in self.kinds:
            self.fail(
                "wrong_kind",
                value=smart_str(data),
                actual=OrganisationKind(organisation.kind).label,
                wanted=" or ".join(OrganisationKind(k).label for k in self.kinds),
            )
        return organisation


@extend_schema_field(
    # The same enum component as every single ``service_type`` field (e.g. a contract's), so the
    # schema has one ServiceTypeEnum rather than a second copy named after this field. Once
    # SPECTACULAR_SETTINGS has ENUM_NAME_OVERRIDES {"ServiceTypeEnum": "commissioning.choices.ServiceType"}
    # a plain ListField would do.
    {"type": "array", "items": {"$ref": "#/components/schemas/ServiceTypeEnum"}}
)
class ServiceTypesField(serializers.ListField):
    """A list of service types (api.md enumeration), each at most once."""

    def __init__(self, **kwargs):
        kwargs["child"] = serializers.ChoiceField(choices=ServiceType.choices)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return list(dict.fromkeys(super().to_internal_value(data)))
