"""Funding-stream pages: listed on the agreement page, added and changed with the services' rules,
with their change history; hidden streams answer 404 and roles without the permission 403."""

from decimal import Decimal

import pytest

from budgets.models import FundingStream
from tests.budgets.factories import AgreementFactory, BudgetLineFactory, FundingStreamFactory, ScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stream_setup(bromley):
    agreement = AgreementFactory(partnership=bromley, reference="BR-S75")
    stream = FundingStreamFactory(partnership=bromley, name="iBCF", organisation=bromley.council)
    used = FundingStreamFactory(partnership=bromley, name="CCG", organisation=bromley.nhs_commissioner)
    BudgetLineFactory(schedule=ScheduleFactory(agreement=agreement), funding_stream=used, amount=Decimal("5"))
    return {"agreement": agreement, "stream": stream, "used": used}


def test_the_agreement_page_lists_streams_with_their_lines_and_a_change_link(
    client, bromley_users, stream_setup
):
    client.force_login(bromley_users["commissioner"])
    agreement, stream = stream_setup["agreement"], stream_setup["stream"]

    html = client.get(f"/budgets/agreements/{agreement.pk}/").content.decode()

    table = html[html.index('id="streams-table"') :]
    table = table[: table.index("</table>")]
    assert "iBCF" in table and "London Borough of Bromley" in table
    assert f"/budgets/streams/{stream.pk}/edit/?agreement={agreement.pk}" in table
    assert "Change history of the agreement" in html


def test_a_commissioner_renames_a_stream_and_its_history_names_them(client, bromley_users, stream_setup):
    commissioner = bromley_users["commissioner"]
    client.force_login(commissioner)
    stream, agreement = stream_setup["stream"], stream_setup["agreement"]
    edit = f"/budgets/streams/{stream.pk}/edit/?agreement={agreement.pk}"

    assert client.get(edit).status_code == 200
    response = client.post(edit, {"name": "  Improved BCF ", "organisation": stream.organisation_id})

    assert response.status_code == 302 and response["Location"] == f"/budgets/agreements/{agreement.pk}/"
    assert FundingStream.objects.get(pk=stream.pk).name == "Improved BCF"
    html = client.get(edit).content.decode()
    assert "Funding stream “Improved BCF” changed" in html
    assert str(commissioner) in html and "iBCF" in html


def test_a_stream_used_by_lines_keeps_its_partner(client, bromley, bromley_users, stream_setup):
    client.force_login(bromley_users["commissioner"])
    used = stream_setup["used"]

    response = client.post(
        f"/budgets/streams/{used.pk}/edit/", {"name": "CCG", "organisation": bromley.council_id}
    )

    assert response.status_code == 200
    assert "its contributing partner cannot change" in response.content.decode()
    assert FundingStream.objects.get(pk=used.pk).organisation_id == bromley.nhs_commissioner_id


def test_bad_stream_input_names_the_field_and_changes_nothing(client, bromley, bromley_users, stream_setup):
    client.force_login(bromley_users["commissioner"])
    stream = stream_setup["stream"]
    other_org = FundingStreamFactory().organisation  # not a partner of Bromley

    duplicate = client.post(
        f"/budgets/streams/{stream.pk}/edit/", {"name": "ccg", "organisation": bromley.council_id}
    )
    outsider = client.post(f"/budgets/streams/{stream.pk}/edit/", {"name": "X", "organisation": other_org.pk})
    created = client.post(
        f"/budgets/agreements/{stream_setup['agreement'].pk}/streams/new/", {"name": "", "organisation": ""}
    )

    assert "already has a funding stream of this name" in duplicate.content.decode()
    assert outsider.status_code == 200 and "from the list" in outsider.content.decode()
    assert created.status_code == 200 and "Error:" in created.content.decode()
    assert FundingStream.objects.get(pk=stream.pk).name == "iBCF"
    assert FundingStream.objects.filter(partnership=bromley).count() == 2


def test_hidden_streams_are_404_and_roles_without_the_permission_403(
    client, make_user, bromley, bromley_users, stream_setup
):
    theirs = FundingStreamFactory()
    client.force_login(bromley_users["commissioner"])
    assert client.get(f"/budgets/streams/{theirs.pk}/edit/").status_code == 404
    assert client.post(f"/budgets/streams/{theirs.pk}/edit/", {"name": "Mine"}).status_code == 404

    client.force_login(bromley_users["finance_officer"])
    assert client.get(f"/budgets/streams/{stream_setup['stream'].pk}/edit/").status_code == 403
    assert client.get(f"/budgets/agreements/{stream_setup['agreement'].pk}/").status_code == 200
    assert FundingStream.objects.get(pk=theirs.pk).name != "Mine"
    assert (
        "/budgets/streams/"
        not in client.get(f"/budgets/agreements/{stream_setup['agreement'].pk}/").content.decode()
    )
