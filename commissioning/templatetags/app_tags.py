"""Template helpers shared by every app: money, GOV.UK tags, and query-string links for sorting and
paging that keep the current filters.

    {% load app_tags %}
    {{ contract.annual_value|money }}
    {{ review.rag_rating|rag_tag }}
    <a href="{% query_url page=2 %}">         ?q=care&page=2
    {% sort_header "end" "End date" %}         a <th> with aria-sort and a link that toggles order
"""

from __future__ import annotations

from django import template
from django.http import QueryDict
from django.middleware.csrf import get_token
from django.template import engines
from django.template.backends.utils import csrf_input
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from commissioning.money import format_money

register = template.Library()

# GOV.UK tag colours for the enumerations shown as tags.
_TAG_COLOURS = {
    # RAG ratings
    "red": "govuk-tag--red",
    "amber": "govuk-tag--orange",
    "green": "govuk-tag--green",
    # contract statuses
    "pipeline": "govuk-tag--purple",
    "live": "govuk-tag--green",
    "extended": "govuk-tag--turquoise",
    "ended": "govuk-tag--grey",
    "terminated": "govuk-tag--red",
}


@register.filter
def money(value) -> str:
    """£1,234.50 (blank for None)."""
    if value in (None, ""):
        return ""
    return format_money(value)


@register.filter
def tag_class(value) -> str:
    return _TAG_COLOURS.get(str(value), "govuk-tag--grey")


@register.simple_tag
def govuk_tag(value, label) -> str:
    """``{% govuk_tag contract.status contract.get_status_display %}``."""
    return format_html('<strong class="govuk-tag {}">{}</strong>', tag_class(value), label)


def _query(request, **changes) -> str:
    """The current query string with ``changes`` applied (None removes a key), starting with ?."""
    params: QueryDict = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def query_url(context, **changes) -> str:
    """``{% query_url page=3 %}``: this page's query string with some keys replaced or removed."""
    return _query(context.get("request"), **changes)


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str, numeric: bool = False) -> str:
    """A sortable column header. Needs ``sort`` (the current sort, e.g. ``-end``) in the context.

    The link sorts ascending, or descending when the column is already sorted ascending; paging
    restarts at the first page. ``aria-sort`` tells screen readers the current order."""
    current = context.get("sort") or ""
    if current == key:
        state, next_sort = "ascending", f"-{key}"
    elif current == f"-{key}":
        state, next_sort = "descending", key
    else:
        state, next_sort = "none", key
    href = _query(context.get("request"), sort=next_sort, page=None)
    arrow = {"ascending": " ▲", "descending": " ▼"}.get(state, "")
    action = "sort descending" if next_sort.startswith("-") else "sort ascending"
    css = "govuk-table__header" + (" govuk-table__header--numeric" if numeric else "")
    return format_html(
        '<th scope="col" class="{}" aria-sort="{}"><a class="govuk-link app-sort-link" href="{}">{}'
        '<span aria-hidden="true">{}</span><span class="govuk-visually-hidden">, {}</span></a></th>',
        css,
        state,
        href,
        label,
        arrow,
        action,
    )


@register.filter
def months_left(contract) -> str:
    """ "7 months", "1 month", "less than a month" or "ended" for a contract's end date."""
    months = contract.months_remaining()
    if months is None:
        return "ended"
    if months == 0:
        return "less than a month"
    return f"{months} month{'s' if months != 1 else ''}"


@register.simple_tag(takes_context=True)
def jinja(context, template_name: str, **values) -> str:
    """``{% jinja "brokerage/_queue_rows.html" %}``: a Jinja2 fragment (commissioning/jinja.py) with
    this template's context, plus ``values``, and ``request``, ``csrf_input`` and ``csrf_token``
    as Django's Jinja2 backend gives them, the token masked once for the fragment's forms (the
    backend's lazy values mask it again at every use)."""
    fragment = engines["jinja2"].get_template(template_name).template
    data = context.flatten()
    data.update(values)
    request = context.get("request")
    if request is not None:
        data.update(request=request, csrf_input=csrf_input(request), csrf_token=get_token(request))
    return mark_safe(fragment.render(data))  # noqa: S308 - Jinja2 escaped it


@register.simple_tag(takes_context=True)
def govuk_field(context, field, legend_size="", inline=False, hide_optional=False) -> str:
    """One form field in GOV.UK style (``includes/field.html``), drawn by its Jinja2 body: the filter
    forms of the list pages draw several on every request."""
    values = {"field": field, "legend_size": legend_size, "inline": inline, "hide_optional": hide_optional}
    return mark_safe(engines["jinja2"].get_template("includes/field.html").render(values))  # noqa: S308
