"""The Jinja2 engine of the page fragments that render many rows (``TEMPLATES``, second engine).

Django's template language resolves every ``{{ a.b }}`` through a chain of lookups and wraps every
node: a table of 50 rows costs several milliseconds. The same markup through Jinja2 costs a
fraction of that, so the fragments drawn many times a page (a form field, the referral queue's
rows) are Jinja2 templates under ``<app>/jinja2/``, drawn from a Django template with
``{% jinja "name.html" %}`` (``app_tags``), which hands them the page's context. Pages keep one
shell (base.html) and one engine for everything else. The schedule page and the decision log are
not here: their blocks are kept whole in the cache under the versions of what they read
(``commissioning.versions``), and a cold schedule block spends about 9 ms of its 50 in templates.

Autoescaping is on, as in Django's templates. The globals and filters are the few the fragments use,
each with the Django filter's output: ``url``, ``static``, ``date`` (Django's date format
characters), ``pluralize`` and ``money``; ``display(obj, "field")`` is ``obj.get_field_display()``.
"""

from __future__ import annotations

from django.conf import settings
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import dateformat
from django.utils.html import escape
from jinja2 import ChainableUndefined, Environment

from commissioning.money import format_money

# Per URL name (and script prefix and URL configuration): the text before and after its one
# integer argument, or None where the id is not written as it is (a converter that pads it).
_ID_URLS: dict[tuple, tuple[str, str] | None] = {}
_MARK = 9876543210123  # stands for the id while the URL is reversed once


def _id_url(name: str) -> tuple[str, str] | None:
    key = (get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, name)
    if key not in _ID_URLS:
        head, mark, tail = reverse(name, args=[_MARK]).partition(str(_MARK))
        fits = mark and str(_MARK) not in tail and reverse(name, args=[7]) == f"{head}7{tail}"
        _ID_URLS[key] = (head, tail) if fits else None
    return _ID_URLS[key]


def url(name: str, *args, **kwargs) -> str:
    """``{{ url("brokerage:referral-claim", referral.pk) }}``, as ``{% url %}``. A URL of one id (a
    row's link) is reversed once per name and the id put in its place: a page of rows reversed two
    URLs a row, at about 40 microseconds each."""
    if len(args) == 1 and not kwargs and type(args[0]) is int and args[0] >= 0:
        parts = _id_url(name)
        if parts is not None:
            return f"{parts[0]}{args[0]}{parts[1]}"
    return reverse(name, args=args or None, kwargs=kwargs or None)


def date(value, fmt: str = "j M Y") -> str:
    """Django's ``date`` filter: blank for None, Django's format characters."""
    if value in (None, ""):
        return ""
    return dateformat.format(value, fmt)


def pluralize(value, suffix: str = "s") -> str:
    """Django's ``pluralize`` for a number: "" for 1, ``suffix`` otherwise."""
    try:
        return "" if int(value) == 1 else suffix
    except (TypeError, ValueError):
        return ""


def money(value) -> str:
    """``£1,234.50``, blank for None (the ``money`` filter of ``app_tags``)."""
    if value in (None, ""):
        return ""
    return format_money(value)


_LABELS: dict[tuple, dict] = {}


def display(obj, name: str):
    """``{{ display(referral, "status") }}``: ``obj.get_status_display()``, from a dict of the
    field's choices built once per process (Django builds it again on every call)."""
    key = (type(obj), name)
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = dict(obj._meta.get_field(name).flatchoices)
    value = getattr(obj, name)
    return labels.get(value, value)


def _finalize(value):
    """Every printed value escaped as Django escapes it (``&#x27;`` for an apostrophe, where
    markupsafe writes ``&#39;``), so a fragment's markup is the Django template's to the byte."""
    if hasattr(value, "__html__"):
        return value
    return escape(value)  # a SafeString: Jinja2 prints it as it is


def environment(**options) -> Environment:
    # A missing name or attribute is blank, as in Django's templates (``a.b.c`` with no ``a``
    # too), whatever DEBUG says.
    options["undefined"] = ChainableUndefined
    options["finalize"] = _finalize
    env = Environment(**options)  # noqa: S701 - the Django backend passes autoescape=True
    env.globals.update(url=url, static=static, display=display)
    env.filters.update(date=date, pluralize=pluralize, money=money)
    return env
