"""The form renderer (``FORM_RENDERER``).

Django's own widgets render through the Jinja2 copies of their templates that Django ships
(``django/forms/jinja2``): the same markup, several times faster than through the Django engine,
which matters on list pages with filter forms. Widget templates that exist only for the Django
engine (the admin's related-object wrapper, a library's widgets) fall back to Django's default
renderer, so nothing needs to know which engine drew a widget.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist


class FormRenderer(Jinja2):
    fallback = DjangoTemplates()

    def get_template(self, template_name):
        try:
            return super().get_template(template_name)
        except TemplateDoesNotExist:
            return self.fallback.get_template(template_name)
