"""The shell around every page: the partnership switcher, the access log helper, the money helper."""

from decimal import Decimal

import pytest
from django.test import RequestFactory

from commissioning.audit import log_access
from commissioning.middleware import SESSION_KEY
from commissioning.models import AccessLog
from commissioning.money import format_money, round_half_up
from tests.commissioning.factories import ContractFactory

pytestmark = pytest.mark.django_db


def test_switching_to_a_granted_partnership_is_remembered(client, commissioner, partnership):
    client.force_login(commissioner)

    response = client.post("/partnership/switch/", {"partnership": partnership.pk, "next": "/contracts/"})

    assert response.status_code == 302
    assert response["Location"] == "/contracts/"
    assert client.session[SESSION_KEY] == partnership.pk


def test_switching_to_a_partnership_not_granted_is_ignored(client, commissioner, other_partnership):
    client.force_login(commissioner)

    client.post("/partnership/switch/", {"partnership": other_partnership.pk})

    assert SESSION_KEY not in client.session


def test_the_switcher_never_redirects_to_another_site(client, commissioner, partnership):
    client.force_login(commissioner)

    response = client.post(
        "/partnership/switch/", {"partnership": partnership.pk, "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


def test_log_access_records_who_saw_what_from_where(commissioner, partnership):
    contract = ContractFactory(partnership=partnership)
    request = RequestFactory().get(f"/contracts/{contract.pk}/", REMOTE_ADDR="10.1.2.3")
    request.user = commissioner

    entry = log_access(request=request, obj=contract)

    stored = AccessLog.objects.get(pk=entry.pk)
    assert (stored.user, stored.action, stored.object_id, stored.partnership) == (
        commissioner,
        "view",
        str(contract.pk),
        partnership,
    )
    assert stored.ip_address == "10.1.2.3"
    assert stored.path == f"/contracts/{contract.pk}/"


def test_round_half_up_rounds_halves_away_from_zero():
    assert round_half_up(Decimal("1552.0182857")) == Decimal("1552.02")
    assert round_half_up(Decimal("0.005")) == Decimal("0.01")
    assert round_half_up(Decimal("-0.005")) == Decimal("-0.01")
    assert round_half_up(Decimal("2.345")) == Decimal("2.35")


def test_money_is_shown_in_pounds_with_separators():
    assert format_money(Decimal("162053")) == "£162,053.00"
    assert format_money(Decimal("-2697.45")) == "-£2,697.45"
    assert format_money(None) == ""


def test_money_is_shown_rounded_half_up_never_half_even():
    # 12.01 x 2.5 = 30.025: half even would show £30.02.
    assert format_money(Decimal("12.01") * Decimal("2.5")) == "£30.03"
    assert format_money(Decimal("-30.025")) == "-£30.03"


@pytest.mark.parametrize(
    "role,shown,hidden",
    [
        ("board_member", {"Home", "Budgets", "Governance"}, {"Brokerage", "Finance", "Contracts", "Audit"}),
        ("broker", {"Home", "Brokerage"}, {"Audit"}),
        ("finance_officer", {"Home", "Finance"}, {"Audit"}),
        ("auditor", {"Home", "Audit"}, set()),
    ],
)
def test_the_navigation_shows_only_the_areas_the_role_may_open(
    client, make_user, partnership, role, shown, hidden
):
    from commissioning import roles

    client.force_login(make_user(getattr(roles, role.upper()), [partnership]))

    labels = {item["label"] for item in client.get("/").context["nav_items"]}

    assert shown <= labels and not (hidden & labels)
    for item in client.get("/").context["nav_items"]:
        assert client.get(item["url"]).status_code == 200, item  # every area shown opens


def test_a_refused_page_keeps_the_site_header_and_says_what_to_do_instead(client, make_user, partnership):
    from commissioning import roles

    client.force_login(make_user(roles.BOARD_MEMBER, [partnership]))

    response = client.get("/brokerage/")

    html = response.content.decode()
    assert response.status_code == 403
    assert "Joint Commissioning Office" in html and "Sign out" in html  # the site's header
    assert "You do not have permission to see this page" in html
    assert "Your role does not allow you to view referrals." in html
    assert 'href="/"' in html and "Brokerage</a>" not in html
