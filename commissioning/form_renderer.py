"""The form renderer (``FORM_RENDERER``).

Django's own widgets render through the Jinja2 copies of their templates that Django ships
(``django/forms/jinja2``): the same markup, several times faster than through the Django engine,
which matters on list pages with filter forms. Widget templates that exist only for the Django
engine (the admin's related-object wrapper, a library's widgets) fall back to Django's default
renderer, so nothing needs to know which engine drew a widget. The select, input and input_option
templates are our own copies (commissioning/jinja2/widgets/): the same markup with the options and
attributes drawn in place rather than through an include each.
"""

from __future__ import annotations

from pathlib import Path

import django.forms
from django.forms.renderers import DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist
from django.utils.functional import cached_property

# Widget templates drawn in place of Django's own (same markup, fewer includes): the select, the
# input and the checkbox or radio of a group.
FAST_WIDGETS = Path(__file__).resolve().parent / "jinja2" / "widgets"


class FormRenderer(Jinja2):
    fallback = DjangoTemplates()

    @cached_property
    def engine(self):
        return self.backend(
            {
                "APP_DIRS": True,
                "DIRS": [FAST_WIDGETS, Path(django.forms.__file__).parent / "jinja2"],
                "NAME": "djangoforms",
                "OPTIONS": {},
            }
        )

    def get_template(self, template_name):
        try:
            return super().get_template(template_name)
        except TemplateDoesNotExist:
            return self.fallback.get_template(template_name)
