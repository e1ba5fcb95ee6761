"""Forms of the shared core, and the GOV.UK form pieces every app's forms use.

Forms check the shape of the input only (a date is a real date, a choice is one of the list);
the rules live in the services, whose ``ValidationError`` the views put back on the form's fields
with ``add_service_errors``. Every message names its field, as the GOV.UK pattern asks.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

import django_filters.fields
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.forms.utils import pretty_name
from django.utils.html import format_html, format_html_join

from commissioning import choices
from commissioning.constraints import message_for
from commissioning.models import Contract, ContractReview, Organisation, Partnership, Provider, User
from commissioning.money import MONEY_MAX

# --- GOV.UK form pieces -------------------------------------------------------------------------

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
# Commas only as thousands separators: "2,750.00" is £2,750, but "27,50" (a decimal comma) is refused.
_GROUPED_AMOUNT = re.compile(r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?\Z")


class GovukDateInput(forms.MultiWidget):
    """The GOV.UK date input: day, month and year boxes inside a fieldset (see includes/field.html).

    Posted as ``<name>_day``, ``<name>_month`` and ``<name>_year``. With ``iso_fallback`` (the list
    filters, whose FilterSet also serves the API) a request naming none of the three parts but
    ``<name>`` itself gives that one ISO text (``2026-03-31``) to the field instead."""

    parts = (("day", "Day", 2), ("month", "Month", 2), ("year", "Year", 4))
    iso_fallback = False

    def __init__(self, attrs=None, *, iso_fallback: bool | None = None):
        super().__init__({key: forms.TextInput() for key, _label, _width in self.parts}, attrs)
        if iso_fallback is not None:
            self.iso_fallback = iso_fallback

    def value_from_datadict(self, data, files, name):
        if (
            self.iso_fallback
            and name in data
            and not any(f"{name}_{key}" in data for key, _l, _w in self.parts)
        ):
            return data.get(name)
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data, files, name):
        omitted = super().value_omitted_from_data(data, files, name)
        return omitted and not (self.iso_fallback and name in data)

    def decompress(self, value):
        if isinstance(value, date):
            return [value.day, value.month, value.year]
        if isinstance(value, str) and _ISO_DATE.match(value.strip()):
            year, month, day = value.strip().split("-")
            return [day, month, year]
        return [None, None, None]

    def id_for_label(self, id_):
        # The error summary links to the day box.
        return f"{id_}_day" if id_ else ""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        values = value if isinstance(value, list | tuple) else self.decompress(value)
        base_id = attrs.get("id") or f"id_{name}"
        error = " govuk-input--error" if attrs.get("aria-invalid") == "true" else ""
        items = format_html_join(
            "",
            '<div class="govuk-date-input__item"><div class="govuk-form-group">'
            '<label class="govuk-label govuk-date-input__label" for="{}">{}</label>'
            '<input class="govuk-input govuk-date-input__input govuk-input--width-{}{}" id="{}" name="{}" '
            'type="text" inputmode="numeric" value="{}"></div></div>',
            (
                (f"{base_id}_{key}", label, width, error, f"{base_id}_{key}", f"{name}_{key}", part or "")
                for (key, label, width), part in zip(self.parts, values, strict=True)
            ),
        )
        return format_html('<div class="govuk-date-input" id="{}">{}</div>', base_id, items)


class GovukDateField(forms.Field):
    """A date typed as day, month and year, with GOV.UK's messages ("Start date must include a year")."""

    widget = GovukDateInput

    def __init__(self, *, label: str, **kwargs):
        kwargs.setdefault("help_text", "For example, 27 3 2025")
        super().__init__(label=label, **kwargs)
        self.error_messages["required"] = f"Enter the {_noun(label)}"

    def to_python(self, value):
        if value is None or isinstance(value, date):
            return value
        day, month, year = (str(v or "").strip() for v in value)
        if not (day or month or year):
            return None
        missing = [name for name, part in (("day", day), ("month", month), ("year", year)) if not part]
        if missing:
            raise ValidationError(f"{self.label} must include a {' and a '.join(missing)}", code="incomplete")
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise ValidationError(f"{self.label} must be a real date, with a 4-digit year", code="invalid")
        try:
            return date(int(year), int(month), int(day))
        except ValueError:
            raise ValidationError(f"{self.label} must be a real date", code="invalid") from None


class GovukDateFilterField(GovukDateField):
    """A list filter's date: typed on the page as day, month and year (``GovukDateInput``), given to
    the API as ISO text (``2026-03-31``, api.md), the one FilterSet serving both. Empty is no filter."""

    def __init__(self, *, label: str, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", GovukDateInput(iso_fallback=True))
        super().__init__(label=label, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if not _ISO_DATE.match(text):
                raise ValidationError(
                    f"{self.label} must be a date written YYYY-MM-DD, like 2026-03-31", code="invalid"
                )
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise ValidationError(f"{self.label} must be a real date", code="invalid") from None
        return super().to_python(value)


class MoneyField(forms.DecimalField):
    """Pounds and pence, typed as text: accepts 250000, 250,000.00 or £250,000."""

    def __init__(self, *, label: str, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0.00"))
        kwargs.setdefault("max_value", MONEY_MAX)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "class": "govuk-input--width-10",
                    "inputmode": "decimal",
                    "spellcheck": "false",
                    "autocomplete": "off",
                }
            ),
        )
        super().__init__(label=label, **kwargs)
        self.govuk_prefix = "£"
        noun = _noun(label)
        self.error_messages.update(
            {
                "required": f"Enter the {noun}",
                "invalid": f"{label} must be an amount of money, like 250000 or 250000.50",
                "max_decimal_places": f"{label} must not have more than 2 decimal places (pence)",
                "max_digits": f"{label} must be less than £1 trillion",
                "max_whole_digits": f"{label} must be less than £1 trillion",
                "min_value": f"{label} cannot be negative",
                "max_value": f"{label} must be less than £1 trillion",
            }
        )

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace("£", "").replace(" ", "")
            if "," in value:
                if not _GROUPED_AMOUNT.match(value):
                    raise ValidationError(
                        f"{self.label} has a comma in the wrong place: use a full stop for pence, "
                        "like 27.50, and commas only between thousands, like 2,750.00",
                        code="invalid",
                    )
                value = value.replace(",", "")
        try:
            return super().to_python(value)
        except (InvalidOperation, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


def _noun(label: str) -> str:
    """ "Start date" -> "start date"; "CQC rating" and "RAG rating" keep their capitals."""
    label = str(label)
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


_CHOOSE_WIDGETS = (forms.Select, forms.RadioSelect, forms.CheckboxSelectMultiple, forms.SelectMultiple)


def govuk_style(form: forms.BaseForm) -> None:
    """Give each widget its GOV.UK class and each field messages that name it."""
    for name, field in form.fields.items():
        widget = field.widget
        label = field.label or pretty_name(name)
        field.label = label
        noun = _noun(label)
        if isinstance(widget, forms.HiddenInput | GovukDateInput):
            css = ""
        elif isinstance(widget, forms.CheckboxSelectMultiple):
            css = "govuk-checkboxes__input"
        elif isinstance(widget, forms.RadioSelect):
            css = "govuk-radios__input"
        elif isinstance(widget, forms.CheckboxInput):
            css = "govuk-checkboxes__input"
        elif isinstance(widget, forms.Select):  # also SelectMultiple
            css = "govuk-select"
        elif isinstance(widget, forms.Textarea):
            css = "govuk-textarea"
            widget.attrs.setdefault("rows", 4)
        else:
            css = "govuk-input"
        if css:
            existing = widget.attrs.get("class", "")
            widget.attrs["class"] = f"{css} {existing}".strip()
        choose = isinstance(widget, _CHOOSE_WIDGETS)
        messages = {
            "required": (f"Select the {noun}" if choose else f"Enter the {noun}"),
            "invalid_choice": f"Choose a {noun} from the list",
            "invalid_pk_value": f"Choose a {noun} from the list",
            "invalid_list": f"Choose {noun} from the list",
            "max_length": f"{label} must be %(limit_value)d characters or fewer",
        }
        for code, message in messages.items():
            if code == "required" and code in field.error_messages and _custom(field, code):
                continue
            field.error_messages[code] = message
        if isinstance(field, forms.ChoiceField) and not hasattr(field, "empty_label"):
            # Django's own choice fields carry the blank choice in their list (django-filter's and
            # model choice fields have an empty_label instead, set below).
            # A blank choice the form named itself ("Any") keeps its name; Django's dashes do not.
            field.choices = [
                ("", _blank_label(field, text)) if value == "" else (value, text)
                for value, text in field.choices
            ]
        if getattr(field, "empty_label", None) is not None:
            field.empty_label = _blank_label(field, field.empty_label)
        _sync_widget_choices(field)


def _blank_label(field: forms.Field, label) -> str:
    """The label of a choice field's blank choice: the form's own, else "Select one" (required) or
    "None" (optional)."""
    if label and str(label).strip("-"):
        return str(label)
    return "Select one" if field.required else "None"


class OneQueryChoiceIterator(forms.models.ModelChoiceIterator):
    """The choices read in one plain query. Django's ``ModelChoiceIterator`` reads them with
    ``QuerySet.iterator()`` (so as not to fill the queryset's cache), which on PostgreSQL is a
    server-side cursor: DECLARE ... WITH HOLD, a FETCH and a CLOSE (three round trips, the rows
    materialised when the statement's transaction ends) for a handful of options. Every page form
    and filter form uses it (``one_query_choices``). A field whose ``options`` were set (kept by a
    FilterSet, e.g. the referral queue's funders) draws those after its blank choice instead."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if getattr(self.field, "null_label", None) is not None:  # django-filter's "none" choice
            yield (self.field.null_value, self.field.null_label)
        options = getattr(self.field, "options", None)  # (value, label) pairs read before, or None
        if options is not None:
            yield from options
            return
        for obj in self.queryset.all():
            yield self.choice(obj)

    def __len__(self):
        null = getattr(self.field, "null_label", None) is not None
        return super().__len__() + (1 if null else 0)


# The iterators that read choices through ``QuerySet.iterator()``: Django's, and django-filter's
# (its model filters' fields: the same, with its "none" choice, which OneQueryChoiceIterator draws).
_CURSOR_ITERATORS = (forms.models.ModelChoiceIterator, django_filters.fields.ModelChoiceIterator)


def one_query_choices(form: forms.BaseForm) -> None:
    """Every model drop-down of the form (``ModelChoiceField``, ``ModelMultipleChoiceField``, a
    ModelForm's foreign keys, a FilterSet's model filters) reads its choices with
    ``OneQueryChoiceIterator``. A queryset set later (a form's own ``__init__``) keeps it: the field
    makes its choices with its iterator."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField) and field.iterator in _CURSOR_ITERATORS:
            field.iterator = OneQueryChoiceIterator
            field.widget.choices = field.choices


def _sync_widget_choices(field: forms.Field) -> None:
    """Point the widget at this field's choices again. A form's fields are deep copies, but a
    copied widget keeps django-filter's choice iterator of the class-level field, so a changed
    empty_label would not show."""
    if isinstance(field, forms.ChoiceField):
        field.widget.choices = field.choices


def _custom(field: forms.Field, code: str) -> bool:
    """Has the field already been given a message of its own (e.g. GovukDateField)?"""
    return not str(field.error_messages[code]).startswith("This field")


def mark_errors(form: forms.BaseForm) -> None:
    """Add GOV.UK's error class to the widgets of fields in error (the date input does its own)."""
    suffix = {
        "govuk-input": "govuk-input--error",
        "govuk-select": "govuk-select--error",
        "govuk-textarea": "govuk-textarea--error",
    }
    for name in form.errors:
        field = form.fields.get(name)
        if field is None:
            continue
        classes = field.widget.attrs.get("class", "").split()
        for base, error in suffix.items():
            if base in classes and error not in classes:
                classes.append(error)
        field.widget.attrs["class"] = " ".join(classes)


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: field errors on their fields, the rest on top.

    A database constraint's refusal arrives in words already (``commissioning.constraints``); when
    its field is not on this form it goes on top as it is. Other errors of a field the form does not
    show are prefixed with the field's name."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        mark_errors(form)
        return
    for field, errors in error.error_dict.items():
        for item in errors:
            target = field if field in form.fields else None
            messages = item.messages
            if target is None and field != NON_FIELD_ERRORS and message_for(item.code or "") is None:
                messages = [f"{pretty_name(field)}: {message}" for message in messages]
            for message in messages:
                form.add_error(target, message)
    mark_errors(form)


class GovukFormMixin:
    """GOV.UK classes and messages on every field; error classes after validation."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        one_query_choices(self)
        govuk_style(self)

    def full_clean(self):
        super().full_clean()
        mark_errors(self)


class ServiceModelForm(GovukFormMixin, forms.ModelForm):
    """A ModelForm whose model rules are left to the service it feeds (conventions.md: no business
    rules in forms). It reads initial values from the instance and checks each field's input, but
    does not build or validate the instance: the service does, and its errors come back through
    ``add_service_errors``."""

    def _post_clean(self):
        pass


# --- Filter forms -------------------------------------------------------------------------------


def style_filter_form(form: forms.BaseForm, *, checkboxes: tuple[str, ...] = ()) -> forms.BaseForm:
    """GOV.UK styling for a FilterSet's form; ``checkboxes`` turn multiple choices into checkboxes."""
    for name in checkboxes:
        field = form.fields.get(name)
        if field is not None:
            field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
    one_query_choices(form)
    govuk_style(form)
    for field in form.fields.values():
        if getattr(field, "empty_label", None) is not None:
            field.empty_label = "Any"
            _sync_widget_choices(field)
    if form.is_bound:
        mark_errors(form)
    return form


# --- Contracts ----------------------------------------------------------------------------------


class ContractForm(ServiceModelForm):
    start = GovukDateField(label="Start date")
    end = GovukDateField(label="End date")
    annual_value = MoneyField(label="Annual value")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Contract
        fields = [
            "partnership",
            "reference",
            "service",
            "service_type",
            "provider",
            "lead_commissioner",
            "associate_commissioners",
            "annual_value",
            "start",
            "end",
            "extension_options",
            "procurement_route",
            "contract_manager",
            "status",
            "notes",
        ]
        widgets = {
            "associate_commissioners": forms.CheckboxSelectMultiple,
            "reference": forms.TextInput(attrs={"class": "govuk-input--width-20", "spellcheck": "false"}),
        }
        labels = {
            "reference": "Contract reference",
            "service": "Service",
            "provider": "Provider",
            "lead_commissioner": "Lead commissioner",
            "associate_commissioners": "Associate commissioners",
            "extension_options": "Extension options",
            "procurement_route": "Procurement route",
            "contract_manager": "Contract manager",
            "status": "Status",
            "notes": "Notes",
        }
        help_texts = {
            "reference": "Unique within the partnership, for example LBB-HC-2023-01",
            "lead_commissioner": "One of the two partners of the partnership",
            "associate_commissioners": "Other commissioners who are party to the contract",
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        # Choices offer only what the user may see, through the permission gate (plus the values
        # the contract already has, so an edit never silently drops them).
        granted = Partnership.objects.restrict(user, "view")
        partnerships = Partnership.objects.filter(
            Q(pk__in=granted.values("pk")) | Q(pk=instance.partnership_id)
        )
        self.fields["partnership"].queryset = partnerships.order_by("name")
        # Only the partners of the user's partnerships (and of the contract's own), never another
        # partnership's bodies; an edit keeps the associates the contract already has.
        organisations = Organisation.objects.restrict(user, "view")
        partners = organisations.partners_of(partnerships)
        self.fields["lead_commissioner"].queryset = partners
        current_associates = (
            list(instance.associate_commissioners.values_list("pk", flat=True)) if instance.pk else []
        )
        self.fields["associate_commissioners"].queryset = organisations.filter(
            Q(pk__in=partners.filter(active=True).values("pk")) | Q(pk__in=current_associates)
        )
        self.fields["provider"].queryset = Provider.objects.restrict(user, "view").select_related(
            "organisation"
        )
        self.fields["contract_manager"].queryset = (
            User.objects.filter(
                Q(is_active=True, grants__partnership__in=partnerships) | Q(pk=instance.contract_manager_id)
            )
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        self.fields["contract_manager"].empty_label = "Not assigned"
        if instance.pk:
            self.fields["version"].required = True
            self.fields["version"].initial = instance.version

    def service_arguments(self) -> dict:
        """The keyword arguments of ``contract_create`` / ``contract_update``."""
        data = {
            name: self.cleaned_data[name] for name in self._meta.fields if name != "associate_commissioners"
        }
        data["associate_commissioners"] = list(self.cleaned_data["associate_commissioners"])
        return data


class ContractReviewForm(ServiceModelForm):
    review_date = GovukDateField(label="Review date")
    rag_rating = forms.ChoiceField(label="RAG rating", choices=choices.RAG.choices, widget=forms.RadioSelect)

    class Meta:
        model = ContractReview
        fields = ["review_date", "rag_rating", "notes"]
        labels = {"notes": "Notes"}
        help_texts = {"notes": "Performance, quality and any actions agreed"}
