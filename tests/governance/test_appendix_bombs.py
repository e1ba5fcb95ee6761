"""Issue 19 point 4: PDF bombs are refused at upload (pages, inflated streams), a bad appendix
already stored does not stop its meeting's packs (a page says it could not be included), and a
board secretary can remove an appendix (confirmation page, then the service)."""

from __future__ import annotations

import io
import zlib
from functools import cache

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from pypdf import PdfReader, PdfWriter
from pypdf.generic import EncodedStreamObject, NameObject

from commissioning import roles, uploads
from governance import packs, services
from governance.models import PaperAppendix
from tests.governance.factories import PaperFactory, pdf_bytes

pytestmark = pytest.mark.django_db


@cache
def flate_bomb(inflated_mb: int = 80) -> bytes:
    """A one-page PDF of about 120 KB whose content stream inflates to ``inflated_mb`` MB (past
    pypdf's own 75 MB limit, which stops a pack merging the page)."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    stream = EncodedStreamObject()
    stream._data = zlib.compress(b"0 0 m\n" * (inflated_mb * 1024 * 1024 // 6), 9)
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pages(count: int) -> bytes:
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(612, 792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def paper(scene):
    paper = PaperFactory(board=scene.board, title="Integrated Placements and Brokerage")
    services.agenda_item_update(item=scene.item, paper=paper, by=None)
    return paper


def test_a_pdf_that_inflates_past_the_limit_is_refused_at_upload(paper):
    bomb = flate_bomb()
    assert len(bomb) < 200 * 1024
    with pytest.raises(ValidationError) as refused:
        services.appendix_add(paper=paper, title="Bids", filename="bids.pdf", data=bomb, by=None)
    assert "unpacks to far more than its size" in refused.value.message_dict["file"][0]
    assert not PaperAppendix.objects.exists()


def test_all_streams_together_are_capped(settings):
    settings.MAX_PDF_INFLATED = 4 * 1024 * 1024  # each stream well under the per-stream limit
    with pytest.raises(ValidationError):
        uploads.check_pdf(flate_bomb(6))
    settings.MAX_PDF_INFLATED = 8 * 1024 * 1024
    assert uploads.check_pdf(flate_bomb(6)).page_count == 1


def test_a_pdf_over_the_page_limit_is_refused_at_upload(paper):
    with pytest.raises(ValidationError) as refused:
        services.appendix_add(
            paper=paper, title="Everything", filename="all.pdf", data=blank_pages(501), by=None
        )
    assert refused.value.message_dict["file"] == ["The file has 501 pages; a PDF may have at most 500."]
    assert (
        services.appendix_add(
            paper=paper, title="Most", filename="most.pdf", data=blank_pages(500), by=None
        ).page_count
        == 500
    )


def test_a_bad_appendix_already_stored_does_not_stop_the_pack(paper, scene, settings, tmp_path):
    settings.PDF_ROOT = tmp_path / "pdfs"
    services.appendix_add(
        paper=paper, title="Good model", filename="m.pdf", data=pdf_bytes(2, "Model page"), by=None
    )
    bad = PaperAppendix(paper=paper, order=2, title="Provider bids", page_count=1)
    bad.file.save("bad.pdf", ContentFile(flate_bomb()), save=False)  # stored before the checks
    bad.save()

    rendered = packs.render_pack(scene.meeting, "members")

    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(rendered.pdf)).pages).split()
    )
    assert "Model page 1 of 2" in text and "Model page 2 of 2" in text
    assert "Appendix 2: Provider bids" in text
    assert "This appendix could not be included in this pack" in text
    assert "Ask the board secretary for a copy." in text


def test_a_secretary_removes_an_appendix_after_confirming(
    client, secretary, paper, django_capture_on_commit_callbacks
):
    first = services.appendix_add(paper=paper, title="Model", filename="m.pdf", data=pdf_bytes(1), by=None)
    second = services.appendix_add(paper=paper, title="Bids", filename="b.pdf", data=pdf_bytes(1), by=None)
    stored = first.file.name
    storage = first.file.storage
    client.force_login(secretary)
    url = reverse("governance:appendix-remove", args=[first.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert "Remove appendix 1: Model?" in page.content.decode()
    assert (
        reverse("governance:appendix-remove", args=[first.pk])
        in client.get(reverse("governance:paper", args=[paper.pk])).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)

    assert response.status_code == 302 and response["Location"] == reverse(
        "governance:paper", args=[paper.pk]
    )
    assert list(PaperAppendix.objects.values_list("pk", "order")) == [(second.pk, 1)]
    assert not storage.exists(stored)


def test_only_a_secretary_of_the_partnership_may_remove_an_appendix(
    client, make_user, partnership, other_partnership, paper
):
    appendix = services.appendix_add(paper=paper, title="Model", filename="m.pdf", data=pdf_bytes(1), by=None)
    url = reverse("governance:appendix-remove", args=[appendix.pk])
    client.force_login(make_user(roles.COMMISSIONER, [partnership]))  # may upload, not remove
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert "appendix-remove" not in client.get(reverse("governance:paper", args=[paper.pk])).content.decode()
    client.force_login(make_user(roles.BOARD_SECRETARY, [other_partnership]))
    assert client.post(url).status_code == 404
    assert PaperAppendix.objects.filter(pk=appendix.pk).exists()
