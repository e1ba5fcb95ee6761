import csv
import io
from datetime import timedelta
from decimal import Decimal

import pghistory
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from commissioning import audit_selectors, roles
from commissioning.audit import log_access
from commissioning.models import AccessLog, AuditTrail, Contract
from commissioning.services import contract_update
from tests.commissioning.factories import ContractFactory, OrganisationFactory, PartnershipFactory

pytestmark = pytest.mark.django_db

HISTORY = "/audit/"
ACCESS = "/audit/access/"


@pytest.fixture
def auditor(make_user, partnership):
    return make_user(roles.AUDITOR, [partnership], first_name="Ada", last_name="Auditor")


@pytest.fixture
def other_auditor(make_user, other_partnership):
    return make_user(roles.AUDITOR, [other_partnership], first_name="Otto", last_name="Other")


@pytest.fixture
def admin(make_user):
    return make_user(is_superuser=True, first_name="Alex", last_name="Admin")


def log_view(user, obj, *, ip="10.1.2.3", action=AccessLog.Action.VIEW):
    request = RequestFactory().get(f"/things/{obj.pk}/", REMOTE_ADDR=ip)
    request.user = user
    return log_access(request=request, obj=obj, action=action)


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


# --- Who may read the trails ----------------------------------------------------------------------


@pytest.mark.parametrize("url", [HISTORY, ACCESS, "/audit/history.csv", "/audit/access.csv"])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("url", [HISTORY, ACCESS, "/audit/history.csv", "/audit/access.csv"])
@pytest.mark.parametrize("role", [None, roles.COMMISSIONER, roles.FINANCE_OFFICER, roles.BOARD_SECRETARY])
def test_roles_other_than_auditor_and_administrator_are_refused(client, make_user, partnership, url, role):
    client.force_login(make_user(role, [partnership]))

    response = client.get(url)

    assert response.status_code == 403
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("url", [HISTORY, ACCESS])
def test_auditors_and_administrators_may_read(client, auditor, admin, url):
    for user in (auditor, admin):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert response.context["page_title"].startswith("Audit trail")


def test_the_audit_link_shows_in_the_navigation_for_auditors(client, auditor):
    client.force_login(auditor)

    html = client.get(HISTORY).content.decode()

    assert f'href="{reverse("audit:index")}" aria-current="page">Audit</a>' in html
    assert 'aria-current="page">Change history</a>' in html
    assert f'href="{reverse("audit:access-log")}"' in html


# --- Change history -------------------------------------------------------------------------------


def test_history_shows_a_contract_change_with_the_acting_user(client, auditor, commissioner, partnership):
    contract = ContractFactory(partnership=partnership, service="Home care framework")
    contract_update(contract=contract, by=commissioner, service="Home care (north)", notes="Wider area")
    client.force_login(auditor)

    response = client.get(HISTORY, {"model": "commissioning.Contract", "action": "update"})

    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 1
    row = rows[0]
    assert row.user_id == commissioner.pk
    assert row.user_name == commissioner.get_full_name()
    assert row.model_name == "Contract"
    assert row.object_id == str(contract.pk)
    assert row.object_name == contract.reference
    assert row.label_display == "Changed"
    assert ("service", "Home care framework", "Home care (north)") in row.changes
    assert ("version", 1, 2) in row.changes
    html = response.content.decode()
    assert commissioner.get_full_name() in html
    assert "Home care framework" in html and "Home care (north)" in html
    assert '<span class="govuk-visually-hidden">was </span>(empty)</span>' in html  # notes were blank
    assert "<caption" in html


def test_money_in_the_history_reads_as_the_exact_amount(client, auditor, commissioner, partnership):
    contract = ContractFactory(partnership=partnership, annual_value=Decimal("250000.00"))
    contract_update(contract=contract, by=commissioner, annual_value=Decimal("1234567.89"))
    client.force_login(auditor)

    response = client.get(HISTORY, {"model": "commissioning.Contract", "action": "update"})

    [row] = response.context["rows"]
    assert ("annual value", "250000.00", "1234567.89") in row.changes
    html = response.content.decode()
    assert "250000.00" in html and "250000.0<" not in html


def test_history_shows_creation_with_the_values(client, auditor, partnership):
    with pghistory.context(user=auditor.pk):
        contract = ContractFactory(partnership=partnership, service="Day opportunities")
    client.force_login(auditor)

    response = client.get(HISTORY, {"model": "commissioning.Contract"})

    [row] = response.context["rows"]
    assert row.label_display == "Created"
    assert row.changes == []
    assert ("service", "Day opportunities") in row.values
    assert row.object_id == str(contract.pk)
    assert "Values</span>" in response.content.decode()


def test_history_hides_records_of_partnerships_the_auditor_is_not_granted(
    client, auditor, commissioner, partnership, other_partnership
):
    mine = ContractFactory(partnership=partnership)
    theirs = ContractFactory(partnership=other_partnership)
    contract_update(contract=mine, by=commissioner, notes="ours")
    contract_update(contract=theirs, by=commissioner, notes="theirs")
    client.force_login(auditor)

    response = client.get(HISTORY, {"model": "commissioning.Contract"})

    shown = {row.object_id for row in response.context["rows"]}
    assert shown == {str(mine.pk)}
    assert "theirs" not in response.content.decode()


def test_reference_data_history_is_shown_to_every_auditor(client, auditor, other_auditor):
    with pghistory.context(user=auditor.pk):
        organisation = OrganisationFactory(name="Shared Care Ltd", code="SCL")

    for user in (auditor, other_auditor):
        client.force_login(user)
        response = client.get(HISTORY, {"model": "commissioning.Organisation", "object_id": organisation.pk})
        assert [row.object_name for row in response.context["rows"]] == ["Shared Care Ltd"]


def test_the_deletion_of_a_contract_stays_visible_to_its_partnerships_auditor(
    client, auditor, other_auditor, admin, partnership
):
    contract = ContractFactory(partnership=partnership, reference="CON-GONE")
    pk = contract.pk
    with pghistory.context(user=admin.pk):
        contract.delete()

    client.force_login(auditor)
    response = client.get(HISTORY, {"model": "commissioning.Contract", "action": "delete"})
    client.force_login(other_auditor)
    elsewhere = client.get(HISTORY, {"model": "commissioning.Contract", "action": "delete"})

    [row] = response.context["rows"]
    assert (row.object_id, row.object_name, row.label_display) == (str(pk), "CON-GONE", "Deleted")
    assert row.user_name == "Alex Admin"
    assert list(elsewhere.context["rows"]) == []


def test_membership_changes_are_scoped_to_the_partnership(
    client, auditor, other_auditor, make_user, partnership
):
    make_user(roles.COMMISSIONER, [partnership], username="newcomer")

    client.force_login(auditor)
    mine = client.get(HISTORY, {"model": "commissioning.PartnershipGrant"}).context["rows"]
    client.force_login(other_auditor)
    theirs = client.get(HISTORY, {"model": "commissioning.PartnershipGrant"}).context["rows"]

    assert {row.label_display for row in mine} == {"Created"}
    # The auditor's own grant and the newcomer's, both in the auditor's partnership.
    assert len(mine) == 2
    assert len(theirs) == 1  # only the other auditor's own grant


def test_an_administrator_sees_every_partnerships_history(
    client, admin, commissioner, partnership, other_partnership
):
    for p in (partnership, other_partnership):
        contract_update(contract=ContractFactory(partnership=p), by=commissioner, notes="x")
    client.force_login(admin)

    response = client.get(HISTORY, {"model": "commissioning.Contract", "action": "update"})

    assert len(response.context["rows"]) == 2


def test_history_filters_by_user(client, auditor, commissioner, make_user, partnership):
    colleague = make_user(roles.COMMISSIONER, [partnership], first_name="Cara", last_name="Colleague")
    contract = ContractFactory(partnership=partnership)
    contract_update(contract=contract, by=commissioner, notes="first")
    contract_update(contract=contract, by=colleague, notes="second")
    client.force_login(auditor)

    response = client.get(HISTORY, {"user": "cara colleague"})

    rows = response.context["rows"]
    assert [r.user_id for r in rows] == [colleague.pk]
    assert ("notes", "first", "second") in rows[0].changes


def test_history_filters_by_object_and_event(client, auditor, commissioner, partnership):
    one = ContractFactory(partnership=partnership)
    two = ContractFactory(partnership=partnership)
    contract_update(contract=one, by=commissioner, notes="a")
    contract_update(contract=two, by=commissioner, notes="b")
    client.force_login(auditor)

    response = client.get(HISTORY, {"model": "commissioning.Contract", "object_id": two.pk})

    assert [(r.object_id, r.label) for r in response.context["rows"]] == [
        (str(two.pk), "update"),
        (str(two.pk), "insert"),
    ]


def test_history_filters_by_date(client, auditor, commissioner, partnership):
    contract_update(contract=ContractFactory(partnership=partnership), by=commissioner, notes="today")
    client.force_login(auditor)
    today = timezone.localdate()

    included = client.get(HISTORY, {"date_from": today.isoformat(), "date_to": today.isoformat()})
    before = client.get(HISTORY, {"date_to": (today - timedelta(days=1)).isoformat()})
    after = client.get(HISTORY, {"date_from": (today + timedelta(days=1)).isoformat()})

    assert any(r.label == "update" for r in included.context["rows"])
    assert list(before.context["rows"]) == []
    assert list(after.context["rows"]) == []


def test_a_from_date_after_the_to_date_is_an_error_named_on_the_field(client, auditor, partnership):
    ContractFactory(partnership=partnership)
    client.force_login(auditor)

    response = client.get(HISTORY, {"date_from": "2025-02-01", "date_to": "2025-01-01"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    # The summary links to the date's day box (the GOV.UK date input).
    assert '<a href="#id_date_to_day">The ‘to’ date must be the same as or after the ‘from’ date.</a>' in html
    assert list(response.context["rows"]) == []


@pytest.fixture
def contract_reader(make_user, partnership):
    """May read the audit trail and contracts, and nothing else (no view_user)."""
    from django.contrib.auth.models import Permission

    user = make_user(partnerships=[partnership])
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="commissioning", codename__in=["view_audittrail", "view_contract"]
        )
    )
    return user


def test_the_record_type_filter_offers_only_what_the_user_may_read(client, contract_reader, admin):
    client.force_login(contract_reader)
    reader_choices = dict(client.get(HISTORY).context["form"].fields["model"].choices)
    client.force_login(admin)
    admin_choices = dict(client.get(HISTORY).context["form"].fields["model"].choices)

    assert "commissioning.Contract" in reader_choices
    assert "commissioning.User" not in reader_choices  # no view_user permission
    assert "commissioning.User" in admin_choices


def test_an_unknown_record_type_is_refused(client, contract_reader):
    client.force_login(contract_reader)

    response = client.get(HISTORY, {"model": "commissioning.User"})

    assert "Select a valid choice" in response.content.decode()
    assert list(response.context["rows"]) == []


def test_history_is_paginated_by_50(client, auditor, commissioner, partnership):
    contract = ContractFactory(partnership=partnership)
    for n in range(55):
        contract_update(contract=contract, by=commissioner, notes=f"note {n}")
    client.force_login(auditor)

    first = client.get(HISTORY, {"model": "commissioning.Contract"})
    second = client.get(HISTORY, {"model": "commissioning.Contract", "page": 2})

    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 6  # 55 updates and the creation
    assert first.context["page_obj"].paginator.count == 56
    assert 'href="?model=commissioning.Contract&amp;page=2"' in first.content.decode()


def test_the_history_page_makes_a_bounded_number_of_queries(
    client, auditor, commissioner, partnership, django_assert_max_num_queries
):
    for _ in range(30):
        contract_update(contract=ContractFactory(partnership=partnership), by=commissioner, notes="n")
    client.force_login(auditor)
    client.get(HISTORY)  # warm the content-type cache

    # Constant: session, user, permissions, the page's two history queries and the session save
    # (the idle timeout saves the session on every request), whatever the number of rows.
    with django_assert_max_num_queries(14):
        response = client.get(HISTORY)

    assert len(response.context["rows"]) == 50


def test_history_csv_contains_the_filtered_rows_and_the_acting_user(
    client, auditor, commissioner, partnership
):
    contract = ContractFactory(partnership=partnership, service="Home care framework")
    contract_update(contract=contract, by=commissioner, service="Home care (north)")
    client.force_login(auditor)

    response = client.get("/audit/history.csv", {"model": "commissioning.Contract", "action": "update"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="change-history-')
    header, *rows = read_csv(response)
    assert header == [
        "When",
        "User ID",
        "User",
        "Record type",
        "Record ID",
        "Record",
        "Event",
        "Changes",
        "Values",
    ]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["User ID"] == str(commissioner.pk)
    assert row["User"] == commissioner.get_full_name()
    assert row["Record type"] == "Contract"
    assert row["Record ID"] == str(contract.pk)
    assert row["Event"] == "Changed"
    assert "service: Home care framework → Home care (north)" in row["Changes"]
    assert "version: 1 → 2" in row["Changes"]


def test_exports_neutralise_spreadsheet_formulas(client, auditor):
    with pghistory.context(user=auditor.pk):
        evil = OrganisationFactory(name='=HYPERLINK("http://evil.example")', code="EVIL")
    client.force_login(auditor)

    response = client.get("/audit/history.csv", {"model": "commissioning.Organisation", "object_id": evil.pk})

    header, *rows = read_csv(response)
    [row] = [dict(zip(header, r, strict=True)) for r in rows]
    assert row["Record"] == '\'=HYPERLINK("http://evil.example")'


def test_an_export_is_recorded_in_the_access_log(client, auditor, partnership):
    client.force_login(auditor)

    response = client.get(
        "/audit/history.csv", {"action": "delete", "user": "someone"}, REMOTE_ADDR="10.9.8.7"
    )
    b"".join(response.streaming_content)

    entry = AccessLog.objects.get()
    assert entry.user == auditor
    assert entry.action == AccessLog.Action.EXPORT
    assert entry.content_type == ContentType.objects.get_for_model(AuditTrail)
    assert entry.object_repr == "Change history CSV (User: someone; Event: Deleted)"
    assert entry.ip_address == "10.9.8.7"
    assert entry.path == "/audit/history.csv?action=delete&user=someone"


def test_an_export_with_bad_filters_goes_back_to_the_page_and_records_nothing(client, auditor):
    client.force_login(auditor)

    response = client.get("/audit/history.csv", {"date_from": "2025-02-01", "date_to": "2025-01-01"})

    assert response.status_code == 302
    assert response.url == "/audit/?date_from=2025-02-01&date_to=2025-01-01"
    assert not AccessLog.objects.exists()


# --- Access log -----------------------------------------------------------------------------------


def test_an_auditor_sees_only_the_access_log_of_granted_partnerships(
    client, auditor, commissioner, partnership, other_partnership
):
    mine = log_view(commissioner, ContractFactory(partnership=partnership, reference="CON-MINE"))
    log_view(commissioner, ContractFactory(partnership=other_partnership, reference="CON-THEIRS"))
    client.force_login(auditor)

    response = client.get(ACCESS)

    assert [e.pk for e in response.context["page_obj"].object_list] == [mine.pk]
    html = response.content.decode()
    assert "CON-MINE" in html and "CON-THEIRS" not in html
    assert "10.1.2.3" in html and commissioner.get_full_name() in html


def test_an_administrator_sees_the_whole_access_log(
    client, admin, commissioner, partnership, other_partnership
):
    log_view(commissioner, ContractFactory(partnership=partnership))
    log_view(commissioner, ContractFactory(partnership=other_partnership))
    client.force_login(admin)

    response = client.get(ACCESS)

    assert response.context["page_obj"].paginator.count == 2


def test_the_access_log_filters(client, auditor, commissioner, make_user, partnership):
    colleague = make_user(roles.COMMISSIONER, [partnership], username="cara")
    contract = ContractFactory(partnership=partnership)
    other_contract = ContractFactory(partnership=partnership)
    viewed = log_view(commissioner, contract)
    downloaded = log_view(colleague, contract, action=AccessLog.Action.DOWNLOAD)
    elsewhere = log_view(commissioner, other_contract)
    client.force_login(auditor)
    contract_type = ContentType.objects.get_for_model(Contract)

    def shown(**params):
        response = client.get(ACCESS, params)
        assert response.status_code == 200
        return {e.pk for e in response.context["page_obj"].object_list}

    assert shown(action="download") == {downloaded.pk}
    assert shown(user="cara") == {downloaded.pk}
    assert shown(object_id=str(contract.pk)) == {viewed.pk, downloaded.pk}
    assert shown(content_type=contract_type.pk) == {viewed.pk, downloaded.pk, elsewhere.pk}
    today = timezone.localdate()
    assert shown(date_from=today.isoformat()) == {viewed.pk, downloaded.pk, elsewhere.pk}
    assert shown(date_to=(today - timedelta(days=1)).isoformat()) == set()


def test_the_access_log_is_paginated_by_50(client, auditor, commissioner, partnership):
    contract = ContractFactory(partnership=partnership)
    for _ in range(53):
        log_view(commissioner, contract)
    client.force_login(auditor)

    first = client.get(ACCESS)
    second = client.get(ACCESS, {"page": 2})

    assert len(first.context["page_obj"].object_list) == 50
    assert len(second.context["page_obj"].object_list) == 3


def test_the_access_log_page_makes_a_bounded_number_of_queries(
    client, auditor, make_user, partnership, django_assert_max_num_queries
):
    for n in range(60):
        viewer = make_user(roles.COMMISSIONER, [partnership])
        log_view(viewer, ContractFactory(partnership=partnership), ip=f"10.0.0.{n}")
    client.force_login(auditor)
    client.get(ACCESS)

    with django_assert_max_num_queries(12):
        response = client.get(ACCESS)

    assert len(response.context["page_obj"].object_list) == 50


def test_access_log_csv_contents_and_scope(client, auditor, commissioner, partnership, other_partnership):
    contract = ContractFactory(partnership=partnership, reference="=1+2")
    entry = log_view(commissioner, contract, ip="192.0.2.7")
    log_view(commissioner, ContractFactory(partnership=other_partnership))
    client.force_login(auditor)

    response = client.get("/audit/access.csv", {"action": "view"})

    header, *rows = read_csv(response)
    assert header == [
        "When",
        "User ID",
        "User",
        "Action",
        "Record type",
        "Record ID",
        "Record",
        "Partnership",
        "IP address",
        "Path",
    ]
    assert rows == [
        [
            timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
            str(commissioner.pk),
            commissioner.get_full_name(),
            "Viewed",
            "Contract",
            str(contract.pk),
            "'" + str(contract),  # "=1+2 Home care framework", neutralised
            partnership.name,
            "192.0.2.7",
            f"/things/{contract.pk}/",
        ]
    ]
    export = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert export.user == auditor
    assert export.content_type == ContentType.objects.get_for_model(AccessLog)
    assert export.object_repr == "Access log CSV (Action: Viewed)"


def test_the_access_log_table_is_append_only_in_the_database(commissioner, partnership):
    entry = log_view(commissioner, ContractFactory(partnership=partnership))

    with pytest.raises(Exception, match="access_log_append_only"), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).update(ip_address="127.0.0.1")
    with pytest.raises(Exception, match="access_log_append_only"), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).delete()

    entry.refresh_from_db()
    assert entry.ip_address == "10.1.2.3"


def test_the_selector_gives_nothing_to_users_without_the_audit_permission(commissioner, partnership):
    contract_update(contract=ContractFactory(partnership=partnership), by=commissioner, notes="x")

    assert audit_selectors.history_scope(commissioner).empty
    assert audit_selectors.history_events(commissioner).count() == 0


def test_partnership_records_need_the_models_view_permission(make_user, partnership, commissioner):
    contract_update(contract=ContractFactory(partnership=partnership), by=commissioner, notes="x")
    # Audit-trail permission alone, no model permissions: only models they may view (none here).
    from django.contrib.auth.models import Permission

    reader = make_user(None, [partnership])
    reader.user_permissions.add(Permission.objects.get(codename="view_audittrail"))

    labels = {m.pgh_tracked_model._meta.label for m in audit_selectors.history_scope(reader).event_models}

    assert labels == {"commissioning.PartnershipGrant"}


def test_partnerships_the_auditor_was_never_granted_stay_hidden(client, auditor):
    with pghistory.context(user=auditor.pk):
        PartnershipFactory(name="Secret place")
    client.force_login(auditor)

    response = client.get(HISTORY, {"model": "commissioning.Partnership"})

    assert "Secret place" not in response.content.decode()


def test_the_partnership_chosen_in_the_header_narrows_both_trails(
    client, make_user, commissioner, partnership, other_partnership
):
    auditor = make_user(roles.AUDITOR, [partnership, other_partnership])
    here, there = ContractFactory(partnership=partnership), ContractFactory(partnership=other_partnership)
    log_view(commissioner, here)
    seen_there = log_view(commissioner, there)
    contract_update(contract=here, by=commissioner, notes="here")
    contract_update(contract=there, by=commissioner, notes="there")
    client.force_login(auditor)
    client.post(reverse("switch-partnership"), {"partnership": other_partnership.pk, "next": "/"})

    access = client.get(ACCESS)
    history = client.get(HISTORY, {"model": "commissioning.Contract", "action": "update"})

    assert [e.pk for e in access.context["page_obj"].object_list] == [seen_there.pk]
    assert [r.object_id for r in history.context["rows"]] == [str(there.pk)]
    assert "Showing Elsewhere and shared reference data" in history.content.decode()
    export = client.get("/audit/access.csv")
    header, *rows = read_csv(export)
    assert [r[header.index("Record ID")] for r in rows] == [str(there.pk)]
    assert AccessLog.objects.get(action=AccessLog.Action.EXPORT).partnership == other_partnership
