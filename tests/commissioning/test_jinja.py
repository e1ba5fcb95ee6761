"""The Jinja2 fragments (commissioning/jinja.py) print what Django's templates print."""

from __future__ import annotations

from datetime import date

from django.template import engines
from django.utils.html import escape

from brokerage.models import Referral
from commissioning.choices import ServiceType


def render(source: str, **context) -> str:
    return engines["jinja2"].from_string(source).render(context)


def test_values_are_escaped_as_django_escapes_them():
    text = '<b>O\'Neil & "Sons"</b>'
    expected = "&lt;b&gt;O&#x27;Neil &amp; &quot;Sons&quot;&lt;/b&gt;"
    assert render("{{ v }}", v=text) == escape(text) == expected


def test_safe_values_are_printed_as_they_are():
    assert render("{{ v }}", v=escape("<i>")) == "&lt;i&gt;"


def test_a_missing_name_or_attribute_is_blank_as_in_django():
    assert render("[{{ a.b.c }}][{{ x }}]") == "[][]"


def test_the_filters_match_django():
    assert render("{{ d|date('j M Y') }}|{{ none|date }}", d=date(2026, 3, 5), none=None) == "5 Mar 2026|"
    assert render("{{ 1|pluralize }}{{ 2|pluralize }}{{ 0|pluralize('es') }}") == "ses"
    assert render("{{ v|money }}|{{ none|money }}", v="-1250.905", none=None) == "-£1,250.91|"


def test_display_is_the_choice_label():
    referral = Referral(service_type=ServiceType.DOMICILIARY, status="new")
    assert render('{{ display(r, "service_type") }}', r=referral) == referral.get_service_type_display()
    referral.status = "not-a-status"
    assert render('{{ display(r, "status") }}', r=referral) == "not-a-status"


def test_our_select_widget_draws_what_djangos_draws():
    from django import forms
    from django.forms.renderers import Jinja2

    from commissioning.form_renderer import FormRenderer

    choices = [("", "Any"), ("a", "O'Neil & <Sons>"), ("Group", [("b", "B"), ("c", "C")])]
    for widget in (forms.Select(choices=choices), forms.SelectMultiple(choices=choices)):
        attrs = {"id": "id_x", "class": "govuk-select", "disabled": False, "required": True}
        ours = widget.render("x", ["c"], attrs, renderer=FormRenderer())
        assert ours == widget.render("x", ["c"], attrs, renderer=Jinja2())
        assert "selected" in ours and "&lt;Sons&gt;" in ours and "<optgroup" in ours


def test_our_input_widgets_draw_what_djangos_draw():
    from django import forms
    from django.forms.renderers import Jinja2

    from commissioning.form_renderer import FormRenderer

    class Form(forms.Form):
        many = forms.MultipleChoiceField(
            choices=[("a", "O'Neil"), ("b", "<B>")], widget=forms.CheckboxSelectMultiple
        )
        one = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
        text = forms.CharField(max_length=5)
        tick = forms.BooleanField(required=False)
        secret = forms.CharField(widget=forms.HiddenInput)

    def drawn(renderer):
        form = Form(data={"many": ["b"], "one": "x", "text": "<'>"}, renderer=renderer)
        form.is_valid()
        fields = [str(form[name]) for name in form.fields]
        return fields + [option.tag() for name in ("many", "one") for option in form[name]]

    ours = drawn(FormRenderer())
    assert ours == drawn(Jinja2())
    assert 'value="&lt;&#39;&gt;"' in ours[2] and "checked" in ours[0] and 'maxlength="5"' in ours[2]


def test_url_of_one_id_is_what_reverse_gives(settings):
    """``url()`` reverses a URL of one id once per name and puts each id in its place: what
    ``reverse`` gives for every id, a padding converter falls back to ``reverse``, and a script
    prefix (an app served under a path) is kept apart."""
    from django.urls import path, register_converter, reverse, set_script_prefix
    from django.urls.converters import IntConverter

    from commissioning import jinja

    class Padded(IntConverter):
        def to_url(self, value):
            return f"{int(value):06d}"

    register_converter(Padded, "padded_for_test")
    settings.ROOT_URLCONF = type(
        "urls", (), {"urlpatterns": [path("p/<padded_for_test:pk>/x/", lambda r: None, name="padded")]}
    )
    assert jinja.url("padded", 7) == reverse("padded", args=[7]) == "/p/000007/x/"
    assert jinja.url("padded", 123456789) == "/p/123456789/x/"
    settings.ROOT_URLCONF = "commissioning.urls"
    for pk in (0, 7, 10, 123456789):
        for name in ("brokerage:referral", "brokerage:referral-claim", "finance:invoice"):
            assert render("{{ url(n, pk) }}", n=name, pk=pk) == reverse(name, args=[pk])
    assert render('{{ url("brokerage:referral", "12") }}') == reverse("brokerage:referral", args=["12"])
    try:
        set_script_prefix("/office/")
        assert jinja.url("brokerage:referral", 5) == "/office/brokerage/referrals/5/"
    finally:
        set_script_prefix("/")
    assert jinja.url("brokerage:referral", 5) == "/brokerage/referrals/5/"
