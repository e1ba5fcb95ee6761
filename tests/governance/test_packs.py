"""Board packs (rule 3): the produced PDF is opened with pypdf and checked page by page."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: F401
from pypdf import PdfReader

from governance import packs, services
from governance.models import BoardPack, ExemptionRegime, Meeting, PackStatus, PaperLink
from governance.tasks import generate_pack_now
from tests.governance.factories import PaperFactory, london, pdf_bytes, secretary_of

pytestmark = pytest.mark.django_db

SECRET = "Quokka tender figures"
SECRET_APPENDIX = "Wombat bid prices"


@pytest.fixture
def pdf_root(settings, tmp_path):
    settings.PDF_ROOT = tmp_path / "pdfs"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.PDF_ROOT


@pytest.fixture
def pack_meeting(scene, pdf_root):
    """The scene's meeting with: a public paper (long body, a 3-page public appendix and a 2-page
    exempt appendix) and a Part 2 item whose paper holds exempt text."""
    board, meeting = scene.board, scene.meeting
    public_paper = services.paper_create(
        by=None,
        board=board,
        title="Integrated Placements and Brokerage",
        executive_summary="A single brokerage function for the council and the CCG.",
        recommendations=["notes the opportunities", "agrees the service be established by 1 April 2022"],
        body="\n\n".join(f"Paragraph {n}. " + "The service will broker care. " * 40 for n in range(1, 16)),
        authors="Associate Director of Integrated Commissioning",
    )
    services.agenda_item_update(item=scene.item, paper=public_paper, by=None)
    services.appendix_add(
        paper=public_paper,
        title="Financial model",
        filename="model.pdf",
        data=pdf_bytes(3, "Financial model page"),
        by=None,
    )
    services.appendix_add(
        paper=public_paper,
        title="Provider bids",
        filename="bids.pdf",
        data=pdf_bytes(2, SECRET_APPENDIX),
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Commercially sensitive bids",
        by=None,
    )
    exempt_paper = PaperFactory(board=board, title="Provider market position", body=f"{SECRET} are here.")
    services.agenda_item_add(
        meeting=meeting,
        title="Provider market position",
        purpose="discussion",
        paper=exempt_paper,
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Information about the financial affairs of providers",
        by=None,
    )
    return meeting


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def printed_page(agenda_text: str, item) -> int | None:
    """The page number the agenda prints for an item: the last number of its row (rows are read
    from the item number and title to the next row's item number)."""
    start = agenda_text.index(f"\n{item.item_number} {item.title}")
    end = agenda_text.find(f"\n{int(item.item_number) + 1} ", start + 1)
    row = agenda_text[start : end if end != -1 else agenda_text.index("Page 2 of")]
    row = row.split("Borough Based Board")[0]
    if "Not included" in " ".join(row.split()):  # exempt content left out of this pack: no page number
        return None
    numbers = re.findall(r"(?<![\w.,/])(\d+)(?![\w.,/])", row[len(f"{item.item_number} {item.title}") + 1 :])
    return int(numbers[-1]) if numbers else None


def outline_titles(pdf: bytes) -> list[tuple[str, int]]:
    reader = PdfReader(io.BytesIO(pdf))
    out = []

    def walk(entries):
        for entry in entries:
            if isinstance(entry, list):
                walk(entry)
            else:
                out.append((entry.title, reader.get_destination_page_number(entry) + 1))

    walk(reader.outline)
    return out


def test_members_pack_agenda_page_numbers_are_where_each_item_starts(pack_meeting):
    rendered = packs.render_pack(pack_meeting, "members")
    texts = page_texts(rendered.pdf)
    assert len(texts) == rendered.page_count
    items = {i.title: i for i in pack_meeting.agenda_items.all()}
    ipb, part2 = items["Integrated Placements and Brokerage"], items["Provider market position"]
    # where each item really starts: its heading is on that page and not before
    for item in (ipb, part2):
        heading = f"{item.item_number}. {item.title}"
        first = next(n for n, text in enumerate(texts, start=1) if heading in text and n > 2)
        assert rendered.item_pages[item.pk] == first
        # the agenda prints that page number for the item
        assert printed_page(texts[1], item) == first


def test_members_pack_has_running_headers_page_x_of_y_and_merged_appendices(pack_meeting):
    rendered = packs.render_pack(pack_meeting, "members")
    texts = page_texts(rendered.pdf)
    total = len(texts)
    for number, text in enumerate(texts[1:], start=2):
        assert f"Page {number} of {total}" in text
        assert "Borough Based Board" in text and "2 September 2021" in text
    assert f"Page 1 of {total}" in texts[0]
    appendix_pages = [n for n, t in enumerate(texts, start=1) if "Financial model page" in t]
    assert len(appendix_pages) == 3 and appendix_pages == list(
        range(appendix_pages[0], appendix_pages[0] + 3)
    )
    assert sum(SECRET_APPENDIX in t for t in texts) == 2
    assert any(SECRET in t for t in texts)


def test_members_pack_outline_has_an_entry_per_item_and_appendix(pack_meeting):
    rendered = packs.render_pack(pack_meeting, "members")
    outline = outline_titles(rendered.pdf)
    titles = [title for title, _page in outline]
    items = {i.title: i for i in pack_meeting.agenda_items.all()}
    ipb = items["Integrated Placements and Brokerage"]
    assert f"{ipb.item_number}. {ipb.title}" in titles
    assert dict(outline)[f"{ipb.item_number}. {ipb.title}"] == rendered.item_pages[ipb.pk]
    assert "Appendix 1: Financial model" in titles
    assert "Appendix 2: Provider bids" in titles


def test_public_pack_keeps_exempt_titles_and_reasons_but_no_exempt_content(pack_meeting):
    members = packs.render_pack(pack_meeting, "members")
    public = packs.render_pack(pack_meeting, "public")
    text = " ".join("\n".join(page_texts(public.pdf)).split())
    assert SECRET not in text
    assert SECRET_APPENDIX not in text
    assert "Provider market position" in text
    assert "Information about the financial affairs of providers" in text
    assert "Financial model page 1 of 3" in text
    part2 = next(i for i in pack_meeting.agenda_items.all() if i.title == "Provider market position")
    part2_pages = members.page_count - members.item_pages[part2.pk] + 1  # the last item of the pack
    assert public.page_count == members.page_count - 2 - part2_pages
    assert part2.pk not in public.item_pages
    assert printed_page(page_texts(public.pdf)[1], part2) is None  # no page: not in this pack
    titles = [title for title, _ in outline_titles(public.pdf)]
    assert not any("Provider market position" in t for t in titles)
    assert "Appendix 2: Provider bids" not in titles


def test_user_text_is_escaped_in_the_pack(scene, pdf_root):
    paper = PaperFactory(board=scene.board, title='<img src="file:///etc/passwd"> & <b>bold</b>')
    services.agenda_item_update(item=scene.item, paper=paper, by=None)
    html = packs.pack_html(scene.meeting, "members")
    assert '<img src="file:///etc/passwd">' not in html
    assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in html


def test_the_fetcher_serves_only_static_files():
    fetcher = packs.StaticOnlyFetcher()
    for url in ("file:///etc/passwd", "https://example.org/x.css", packs.STATIC_PREFIX + "../settings.py"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert fetcher.fetch(packs.STATIC_PREFIX + "js/app.js").read()


def test_running_header_text_cannot_break_out_of_its_css_string():
    assert (
        packs.css_string('A"; } body { color: red') == '"A\\000022\\00003b \\00007d body \\00007b color: red"'
    )


def test_generating_a_pack_stores_a_version_with_checksum_and_is_idempotent(
    pack_meeting, secretary, pdf_root
):
    secretary_of(secretary, pack_meeting.board)
    pack = services.pack_request(meeting=pack_meeting, audience="members", by=secretary)
    assert pack.version == 1 and pack.status == PackStatus.QUEUED
    generate_pack_now(pack.pk)
    pack.refresh_from_db()
    assert pack.status == PackStatus.READY and pack.progress == 100
    path = Path(pdf_root) / pack.file
    data = path.read_bytes()
    import hashlib

    assert pack.checksum == hashlib.sha256(data).hexdigest()
    assert pack.page_count == len(PdfReader(io.BytesIO(data)).pages)
    assert pack.started_at <= pack.finished_at
    # running the task again changes nothing and makes no new version
    generate_pack_now(pack.pk)
    assert BoardPack.objects.filter(meeting=pack_meeting).count() == 1
    second = services.pack_request(meeting=pack_meeting, audience="members", by=secretary)
    assert second.version == 2
    generate_pack_now(second.pk)
    assert (Path(pdf_root) / pack.file).exists()  # old versions stay downloadable


def test_a_linked_object_with_pack_context_is_rendered_by_its_apps_template(scene, pdf_root, monkeypatch):
    """Where a paper links an object whose model has ``pack_context()``, the pack includes the
    template ``<app_label>/pack/<model_name>.html`` rendered with it (budgets' schedules do this)."""
    from django.template import Template

    from commissioning.models import Contract
    from tests.commissioning.factories import ContractFactory

    contract = ContractFactory(partnership=scene.board.partnership, reference="BR-IPB-1")
    paper = PaperFactory(board=scene.board, title="IPB budget")
    services.agenda_item_update(item=scene.item, paper=paper, by=None)
    PaperLink.objects.create(paper=paper, target=contract)  # the service takes only tables; any model renders
    monkeypatch.setattr(
        Contract,
        "pack_context",
        lambda self: {"reference": self.reference, "total": "162,053.00"},
        raising=False,
    )
    asked = []

    class FakeTemplate:
        def __init__(self, source):
            self.template = Template(source)

        def render(self, context):
            from django.template import Context

            return self.template.render(Context(context))

    def fake_get_template(name):
        asked.append(name)
        return FakeTemplate(
            "<table class='schedule'><tr><td>{{ reference }}</td><td>£{{ total }}</td></tr></table>"
        )

    monkeypatch.setattr(packs, "get_template", fake_get_template)
    html = packs.pack_html(scene.meeting, "members")
    assert asked == ["commissioning/pack/contract.html"]
    assert "<td>BR-IPB-1</td><td>£162,053.00</td>" in html
    text = " ".join(page_texts(packs.render_pack(scene.meeting, "members").pdf))
    assert "BR-IPB-1" in text and "£162,053.00" in text


def test_a_linked_object_without_pack_context_adds_nothing(scene, pdf_root):
    from tests.commissioning.factories import ContractFactory

    paper = PaperFactory(board=scene.board, title="IPB budget")
    services.agenda_item_update(item=scene.item, paper=paper, by=None)
    PaperLink.objects.create(paper=paper, target=ContractFactory(partnership=scene.board.partnership))
    assert 'class="linked"' not in packs.pack_html(scene.meeting, "members")


def test_papers_added_after_publication_are_a_numbered_supplement_marked_in_the_next_version(
    scene, secretary, pdf_root
):
    first = services.pack_request(meeting=scene.meeting, audience="public", by=secretary)
    assert first.supplement_number is None
    services.agenda_item_add(meeting=scene.meeting, title="Late paper on winter discharge", by=None)
    second = services.pack_request(meeting=scene.meeting, audience="public", by=secretary)
    assert (second.version, second.supplement_number) == (2, 1)
    html = packs.pack_html(scene.meeting, "public", version=2, supplement=second.supplement_number)
    assert 'Late paper on winter discharge <span class="supplement">(Supplement 1)</span>' in html
    assert "Version 2, with supplement 1." in html


MARKING = (
    "NOT FOR PUBLICATION by virtue of paragraph 3 of Part 1 of Schedule 12A to the Local Government Act 1972"
)


def test_every_page_of_exempt_content_in_the_members_pack_says_not_for_publication(pack_meeting):
    rendered = packs.render_pack(pack_meeting, "members")
    texts = [" ".join(t.split()) for t in page_texts(rendered.pdf)]
    part2 = next(i for i in pack_meeting.agenda_items.all() if i.title == "Provider market position")
    exempt_pages = set(range(rendered.item_pages[part2.pk], rendered.page_count + 1))  # the last item
    exempt_pages |= {n for n, t in enumerate(texts, start=1) if SECRET_APPENDIX in t}
    assert len(exempt_pages) >= 3
    for number, text in enumerate(texts, start=1):
        marked = "NOT FOR PUBLICATION" in text and MARKING in text
        if number in exempt_pages:
            assert marked, number
            assert "Borough Based Board" in text and "2 September 2021" in text  # the header stays
        elif number > 2:  # the agenda (page 2) names the exemption, not the marking
            assert "NOT FOR PUBLICATION" not in text.replace("Exempt appendix: " + MARKING, ""), number
    # the cover sheet of the public paper marks its exempt appendix
    cover = next(t for t in texts if "Executive sponsor" in t and "Provider bids" in t)
    assert "Provider bids" in cover and "Exempt appendix: " + MARKING in cover


def test_appendix_numbers_are_the_same_in_both_packs(scene, pdf_root):
    paper = PaperFactory(board=scene.board, title="Brokerage prices")
    services.agenda_item_update(item=scene.item, paper=paper, by=None)
    services.appendix_add(
        paper=paper,
        title="Tender prices",
        filename="prices.pdf",
        data=pdf_bytes(1, SECRET_APPENDIX),
        exemption_regime=ExemptionRegime.SCHEDULE_12A,
        exemption_paragraph=3,
        exemption_reason="Prices",
        by=None,
    )
    services.appendix_add(paper=paper, title="Public model", filename="m.pdf", data=pdf_bytes(1), by=None)
    members = [title for title, _ in outline_titles(packs.render_pack(scene.meeting, "members").pdf)]
    public = packs.render_pack(scene.meeting, "public")
    titles = [title for title, _ in outline_titles(public.pdf)]
    assert "Appendix 2: Public model" in members and "Appendix 2: Public model" in titles
    text = " ".join("\n".join(page_texts(public.pdf)).split())
    assert "Appendix 1: exempt, not included" in text and SECRET_APPENDIX not in text
    assert "Appendix 1 Exempt, not included" in text  # the cover sheet keeps its place


def test_the_public_pack_carries_the_last_minutes_only_once_public(scene, pdf_root):
    minutes = services.minutes_write(meeting=scene.meeting, entries={scene.item.pk: "Draft words."}, by=None)
    later = services.meeting_create(board=scene.board, starts_at=london(2021, 10, 7), by=None)
    assert "Draft words." not in " ".join(page_texts(packs.render_pack(later, "public").pdf))
    assert "Draft words." in " ".join(page_texts(packs.render_pack(later, "members").pdf))
    services.minutes_publish_draft(minutes=minutes, by=None)
    later = Meeting.objects.get(pk=later.pk)
    text = " ".join(" ".join(page_texts(packs.render_pack(later, "public").pdf)).split())
    assert "Draft words." in text and "Draft, subject to approval" in text
