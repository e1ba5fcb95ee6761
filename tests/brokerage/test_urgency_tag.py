"""A referral's urgency is shown by one mapping (``URGENCY_TAG_CLASSES``, beside the Urgency
choices): its label in a GOV.UK tag of the urgency's class, or as plain text where it has none, on
the queue and on the referral's page alike."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from brokerage.models import URGENCY_TAG_CLASSES, URGENT, Urgency
from tests.brokerage.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def shown(urgency: Urgency) -> str:
    """The urgency as the mapping says every page shows it."""
    css = URGENCY_TAG_CLASSES[urgency]
    return f'<strong class="govuk-tag {css}">{urgency.label}</strong>' if css else urgency.label


def test_every_urgency_has_a_tag_class_and_the_urgent_ones_are_red():
    assert set(URGENCY_TAG_CLASSES) == set(Urgency.values)
    assert {u for u, css in URGENCY_TAG_CLASSES.items() if css == "govuk-tag--red"} == set(URGENT)
    assert URGENCY_TAG_CLASSES[Urgency.ROUTINE] == ""


def test_the_queue_and_the_referral_page_show_each_urgency_by_the_mapping(client, broker, client_record):
    referrals = {urgency: ReferralFactory(client=client_record, urgency=urgency) for urgency in Urgency}
    client.force_login(broker)

    queue = client.get(reverse("brokerage:index")).content.decode()

    for urgency, referral in referrals.items():
        row = re.search(rf"{referral.reference}</a></th>(.*?)</tr>", queue, re.S).group(1)
        cells = re.findall(r'<td class="govuk-table__cell">(.*?)</td>', row, re.S)
        assert cells[2] == shown(urgency), urgency  # client, service, urgency
        page = client.get(referral.get_absolute_url()).content.decode()
        summary = '<dt class="govuk-summary-list__key">Urgency</dt><dd class="govuk-summary-list__value">'
        assert f"{summary}{shown(urgency)}</dd>" in page, urgency
    assert queue.count('class="govuk-tag govuk-tag--red">Hospital discharge<') == 1
    assert queue.count('class="govuk-tag govuk-tag--red">At risk of no support<') == 1
    assert 'class="govuk-tag govuk-tag--red">Routine<' not in queue
