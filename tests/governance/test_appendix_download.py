"""Downloading a paper's PDF appendix: only through the permission check (security.md), exempt
content only to that board's members and secretaries, a sanitised file name, every download logged."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from commissioning import roles
from commissioning.models import AccessLog
from governance import services
from governance.downloads import appendix_download_name
from governance.models import ExemptionRegime, Membership, PaperAppendix, Session
from tests.commissioning.factories import PersonFactory
from tests.governance.factories import PaperFactory, pdf_bytes, secretary_of

pytestmark = pytest.mark.django_db

DATA = pdf_bytes(1)


def _appendix(paper, **kwargs) -> PaperAppendix:
    kwargs.setdefault("title", "Appendix A: costs")
    kwargs.setdefault("filename", "costs.pdf")
    return services.appendix_add(paper=paper, data=DATA, by=None, **kwargs)


def _exempt(paper, **kwargs) -> PaperAppendix:
    return _appendix(
        paper,
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Prices of providers",
        **kwargs,
    )


@pytest.fixture
def paper(scene):
    return PaperFactory(board=scene.board, title="Market position")


@pytest.fixture
def member(make_user, partnership, scene):
    user = make_user(roles.BOARD_MEMBER, [partnership])
    Membership.objects.create(
        board=scene.board,
        person=PersonFactory(name="Member with a login", user=user),
        role="member",
        representing=partnership.council,
        start=date(2020, 1, 1),
    )
    return user


def url(appendix) -> str:
    return reverse("governance:appendix-download", args=[appendix.pk])


def get(client, user, appendix):
    client.force_login(user)
    return client.get(url(appendix))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_public_appendix_downloads_as_an_attachment_and_is_logged(client, commissioner, paper):
    appendix = _appendix(paper, filename="Market costs 2024.pdf")
    response = get(client, commissioner, appendix)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Market costs 2024.pdf"'
    assert body(response) == DATA
    log = AccessLog.objects.get()
    assert (log.user, log.action) == (commissioner, AccessLog.Action.DOWNLOAD)
    assert log.object_id == str(appendix.pk)
    assert log.partnership == paper.board.partnership
    assert log.path == url(appendix)


def test_an_exempt_appendix_is_for_the_boards_members_and_secretaries_only(
    client, commissioner, member, make_user, partnership, paper
):
    appendix = _exempt(paper)
    assert get(client, commissioner, appendix).status_code == 404
    assert not AccessLog.objects.exists()  # a refused download is not logged as one
    assert get(client, member, appendix).status_code == 200
    secretary = make_user(roles.BOARD_SECRETARY, [partnership])
    assert get(client, secretary, appendix).status_code == 404  # not this board's secretary
    secretary_of(secretary, paper.board)
    assert get(client, secretary, appendix).status_code == 200
    assert AccessLog.objects.filter(action=AccessLog.Action.DOWNLOAD).count() == 2


def test_an_appendix_of_a_private_paper_or_an_exempt_item_is_hidden(client, commissioner, member, scene):
    private = _appendix(PaperFactory(board=scene.board, title="Private", session=Session.PRIVATE))
    paper = PaperFactory(board=scene.board, title="Tender prices")
    services.agenda_item_add(
        meeting=scene.meeting,
        title="Tender prices",
        purpose="decision",
        paper=paper,
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Commercial",
        by=None,
    )
    of_exempt_item = _appendix(paper)
    for appendix in (private, of_exempt_item):
        assert get(client, commissioner, appendix).status_code == 404
        assert get(client, member, appendix).status_code == 200


def test_another_partnership_gets_404_anonymous_a_login_and_a_role_without_papers_403(
    client, make_user, other_partnership, partnership, paper
):
    appendix = _appendix(paper)
    outsider = make_user(roles.BOARD_SECRETARY, [other_partnership])
    assert get(client, outsider, appendix).status_code == 404
    client.logout()
    response = client.get(url(appendix))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    broker = make_user(roles.BROKER, [partnership])
    assert get(client, broker, appendix).status_code == 403
    assert get(client, make_user(roles.COMMISSIONER, [partnership]), appendix).status_code == 200
    assert client.get(reverse("governance:appendix-download", args=[appendix.pk + 1000])).status_code == 404


def test_a_missing_file_is_404_not_a_server_error(client, commissioner, paper):
    appendix = _appendix(paper)
    appendix.file.storage.delete(appendix.file.name)
    assert get(client, commissioner, appendix).status_code == 404
    assert not AccessLog.objects.exists()


def test_the_download_name_is_sanitised(client, commissioner, paper):
    appendix = _appendix(paper)
    PaperAppendix.objects.filter(pk=appendix.pk).update(original_name='a"b;c\r\nSet-Cookie: x=1.pdf')
    response = get(client, commissioner, appendix)
    header = response["Content-Disposition"]
    assert header == 'attachment; filename="a_b_cSet-Cookie_ x_1.pdf"'
    assert "\n" not in header and "\r" not in header


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd.pdf"),
        ("C:\\Users\\me\\Costs.PDF", "Costs.PDF"),
        ("", "appendix.pdf"),
        (None, "appendix.pdf"),
        ("...", "appendix.pdf"),
        ('quo"te<>|*?.pdf', "quo_te_____.pdf"),
        ("Coût d’été.pdf", "Coût d_été.pdf"),
        ("a" * 120 + ".pdf", "a" * 96 + ".pdf"),
    ],
)
def test_appendix_download_name(name, expected):
    assert appendix_download_name(name) == expected


def test_the_paper_page_links_each_appendix_the_user_may_see(client, commissioner, member, paper):
    public = _appendix(paper, title="Public costs")
    exempt = _exempt(paper, title="Exempt prices")
    client.force_login(commissioner)
    page = client.get(reverse("governance:paper", args=[paper.pk])).content.decode()
    assert f'href="{url(public)}"' in page
    assert url(exempt) not in page and "Exempt prices" not in page
    client.force_login(member)
    page = client.get(reverse("governance:paper", args=[paper.pk])).content.decode()
    assert f'href="{url(public)}"' in page and f'href="{url(exempt)}"' in page
