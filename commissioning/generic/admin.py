"""Django admin on the services: the same rules, history and lost-update guard as the pages.

``ServiceAdmin`` checks the service's rules when the admin form is validated (an error names its
field and nothing is saved), then saves through the service, so the history names the administrator
and the version moves on. A model with a ``version`` carries the version the administrator loaded
in a hidden field: a change made meanwhile by someone else is refused, never overwritten.
``ReadOnlyAdmin`` is for records that only a workflow may change (issued invoices, locked
positions, append-only logs): the admin lists and shows them.
"""

from __future__ import annotations

import pghistory
from django import forms
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction

from commissioning.forms import add_service_errors


class ServiceAdminForm(forms.ModelForm):
    """Carries the version of the record as the administrator loaded it."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and hasattr(self.instance, "version"):
            self.fields["loaded_version"].initial = self.instance.version


class ServiceAdmin(admin.ModelAdmin):
    """Subclasses say how to check (``check_rules``) and write (``create``, ``update``)."""

    form = ServiceAdminForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        admin_ = self

        class ServiceForm(form_class):
            def _post_clean(self):
                super()._post_clean()
                if self.errors:
                    return
                loaded = self.cleaned_data.get("loaded_version")
                if loaded is not None and self.instance.pk is not None and loaded != self.instance.version:
                    noun = self.instance._meta.verbose_name
                    self.add_error(
                        None,
                        f"Someone else changed this {noun} since you opened it. Your changes have not "
                        "been saved: reload the page to see theirs.",
                    )
                    return
                try:
                    admin_.check_rules(self.instance)
                except ValidationError as error:
                    add_service_errors(self, error)

        return ServiceForm

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and hasattr(obj, "version") and "loaded_version" not in fields:
            fields.append("loaded_version")
        return fields

    def check_rules(self, instance) -> None:
        """The service's checks of one record (raise ValidationError); default: the model's own."""

    def create(self, request, form):
        raise ImproperlyConfigured(f"{type(self).__name__} must define create(request, form).")

    def update(self, request, obj, form):
        raise ImproperlyConfigured(f"{type(self).__name__} must define update(request, obj, form).")

    @staticmethod
    def loaded_version(form) -> int | None:
        return form.cleaned_data.get("loaded_version")

    @staticmethod
    def fields_of(form, names) -> dict:
        return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}

    def delete_record(self, request, obj) -> None:
        """Delete one record (default: as Django does, the history naming the administrator);
        override to delete through the service that owns the rule (a record still in use)."""
        with pghistory.context(user=request.user.pk):
            obj.delete()

    def save_model(self, request, obj, form, change):
        saved = self.update(request, obj, form) if change else self.create(request, form)
        # The admin goes on with ``obj`` (its message, its log entry, the inlines): make it the row saved.
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields are the service's to write; inlines (if any) keep the history user.
        with pghistory.context(user=request.user.pk):
            for formset in formsets:
                self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        self.delete_record(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset.order_by("pk"):
                self.delete_record(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Listed and shown; changed only through the product's workflows."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
