"""Hostile uploads (security.md, Bad input; issue 8): a file named .pdf that is not a PDF, an
oversized file, a path-traversal name and a PDF with scripts, automatic actions or embedded files
are refused with a message naming the field and nothing is written; an acceptable file is stored
under a generated name with the original name kept only as display text.

Every upload goes through commissioning.uploads: the checks are tested once directly and then
through each upload form (paper appendices in governance, budget line import sheets in budgets)
and the service the API would use."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    TextStringObject,
)

from budgets.models import BudgetLine
from commissioning import roles, uploads
from governance import services as governance
from governance.models import PaperAppendix

MB = 1024 * 1024
N = NameObject


# --- PDFs built for the tests -------------------------------------------------------------------


def pdf(mutate=None, pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(200, 200)
    if mutate:
        mutate(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _js_action(code: str = "app.alert('hello')") -> DictionaryObject:
    return DictionaryObject({N("/S"): N("/JavaScript"), N("/JS"): TextStringObject(code)})


def document_javascript(writer):
    action = writer._add_object(_js_action())
    writer._root_object[N("/Names")] = DictionaryObject(
        {N("/JavaScript"): DictionaryObject({N("/Names"): ArrayObject([TextStringObject("a"), action])})}
    )


def open_action_javascript(writer):
    writer._root_object[N("/OpenAction")] = _js_action()


def open_at_first_page(writer):
    writer._root_object[N("/OpenAction")] = ArrayObject([writer.pages[0].indirect_reference, N("/Fit")])


def page_additional_action(writer):
    writer.pages[0][N("/AA")] = DictionaryObject({N("/O"): _js_action()})


def _link(action: DictionaryObject):
    def mutate(writer):
        annotation = writer._add_object(
            DictionaryObject(
                {
                    N("/Type"): N("/Annot"),
                    N("/Subtype"): N("/Link"),
                    N("/Rect"): ArrayObject(
                        [FloatObject(0), FloatObject(0), FloatObject(50), FloatObject(20)]
                    ),
                    N("/A"): action,
                }
            )
        )
        writer.pages[0][N("/Annots")] = ArrayObject([annotation])

    return mutate


launch_link = _link(DictionaryObject({N("/S"): N("/Launch"), N("/F"): TextStringObject("calc.exe")}))
web_link = _link(DictionaryObject({N("/S"): N("/URI"), N("/URI"): TextStringObject("https://example.org/")}))


def embedded_file(writer):
    writer.add_attachment("notes.txt", b"hello")


def password(writer):
    writer.encrypt("secret")


def hex_escaped_open_action() -> bytes:
    """``/J#53`` is ``/JS`` and ``/J#61vaScript`` is ``/JavaScript`` once a reader decodes the names."""
    return pdf(open_action_javascript).replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS", b"/J#53")


def xlsx(*, extra: dict[str, bytes] | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["name", "year", "funding_stream", "amount"])
    out = io.BytesIO()
    workbook.save(out)
    if not extra:
        return out.getvalue()
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        for name, data in extra.items():
            target.writestr(name, data)
    return rebuilt.getvalue()


def messages_of(error: ValidationError, field: str = "file") -> str:
    return " ".join(error.message_dict[field])


# --- The checks themselves ----------------------------------------------------------------------


def test_a_plain_pdf_is_accepted_and_its_pages_counted():
    assert uploads.check_pdf(pdf(pages=3)).page_count == 3


@pytest.mark.parametrize("mutate", [open_at_first_page, web_link], ids=["open-at-page", "web-link"])
def test_harmless_actions_are_accepted(mutate):
    assert uploads.check_pdf(pdf(mutate)).page_count == 1


def test_a_pdf_rendered_by_the_project_is_accepted():
    from commissioning import pdf as project_pdf

    data = project_pdf.html("<h1>Appendix</h1><p><a href='https://example.org/'>a link</a></p>").write_pdf()
    assert uploads.check_pdf(data).page_count == 1


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"MZ\x90\x00 this is a Windows program named model.pdf", "must be a PDF"),
        (b"<html><body>not a pdf</body></html>", "must be a PDF"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 100, "not a readable PDF"),
    ],
    ids=["executable", "html", "pdf-header-only"],
)
def test_a_file_that_is_not_a_pdf_is_refused_by_content(data, expected):
    with pytest.raises(ValidationError) as error:
        uploads.check_pdf(data, field="file", label="The PDF file")
    assert expected in messages_of(error.value)
    assert messages_of(error.value).startswith("The PDF file")


@pytest.mark.parametrize(
    ("data", "names"),
    [
        (pdf(document_javascript), {"/JS", "/JavaScript"}),
        (pdf(open_action_javascript), {"/OpenAction", "/JS"}),
        (pdf(page_additional_action), {"/AA"}),
        (pdf(launch_link), {"/Launch"}),
        (pdf(embedded_file), {"/EmbeddedFiles"}),
        (hex_escaped_open_action(), {"/OpenAction", "/JS"}),
    ],
    ids=["document-js", "open-action-js", "page-aa", "launch", "embedded-file", "hex-escaped-names"],
)
def test_a_pdf_with_active_content_is_refused_naming_what_it_found(data, names):
    with pytest.raises(ValidationError) as error:
        uploads.check_pdf(data)
    message = messages_of(error.value)
    assert "active content" in message
    for name in names:
        assert name in message


def test_both_detectors_see_hex_escaped_names():
    data = hex_escaped_open_action()
    assert b"/JS" not in data and b"/JavaScript" not in data  # not findable by a naive byte search
    assert {"/JS", "/JavaScript"} <= uploads._raw_active_names(data)
    assert {"/JS", "/JavaScript", "/OpenAction"} <= uploads._graph_active_names(PdfReader(io.BytesIO(data)))


def test_a_password_protected_pdf_is_refused():
    with pytest.raises(ValidationError) as error:
        uploads.check_pdf(pdf(password))
    assert "password" in messages_of(error.value)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\system.ini.pdf", "system.ini.pdf"),
        ("/absolute/path/report.pdf", "report.pdf"),
        ("re\x00port\u202e\n.pdf", "report.pdf"),
        ("...", "upload"),
        ("", "upload"),
    ],
)
def test_an_uploaded_name_is_only_display_text(name, shown):
    assert uploads.display_name(name) == shown


def test_a_long_name_keeps_its_extension():
    shown = uploads.display_name("a" * 300 + ".pdf")
    assert len(shown) <= 100 and shown.endswith(".pdf")


def test_stored_names_are_generated():
    first, second = uploads.storage_name("pdf"), uploads.storage_name("../../x")
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", first)
    assert re.fullmatch(r"[0-9a-f]{32}\.x", second)
    assert first != uploads.storage_name("pdf")


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (pdf(), "sheet.csv", "not text"),
        (xlsx(), "sheet.csv", "not text"),
        (b"name,year\n", "sheet.xlsx", "not an XLSX workbook"),
        (b"PK\x03\x04 broken zip", "sheet.xlsx", "not a readable XLSX"),
        (xlsx(extra={"xl/vbaProject.bin": b"macro"}), "sheet.xlsx", "macros"),
        ("name,year\nCafé,2022\n".encode("latin-1"), "sheet.csv", "UTF-8"),
        (b"name,year\n", "sheet.exe", "XLSX or CSV"),
    ],
    ids=["pdf-as-csv", "xlsx-as-csv", "csv-as-xlsx", "broken-zip", "macros", "latin-1", "exe"],
)
def test_a_spreadsheet_is_checked_by_content(data, name, expected):
    with pytest.raises(ValidationError) as error:
        uploads.check_spreadsheet(data, name)
    assert expected in messages_of(error.value)


def test_a_zip_bomb_workbook_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_XLSX_UNPACKED", 1024)
    with pytest.raises(ValidationError) as error:
        uploads.check_spreadsheet(xlsx(extra={"xl/media/zeros.bin": b"\0" * 4096}), "sheet.xlsx")
    assert "unpacks to more than" in messages_of(error.value)


def test_good_spreadsheets_are_accepted():
    assert uploads.check_spreadsheet(xlsx(), "lines.xlsx") == "xlsx"
    assert uploads.check_spreadsheet(b"\xef\xbb\xbfname,year\n", "lines.csv") == "csv"


def test_an_oversized_file_is_refused_before_it_is_read(settings):
    settings.MAX_UPLOAD_MB = 1
    upload = SimpleUploadedFile("big.pdf", pdf() + b"%" * MB)
    with pytest.raises(ValidationError) as error:
        uploads.check_pdf_upload(upload, label="The PDF file")
    assert messages_of(error.value) == "The PDF file must be 1 MB or smaller."


def test_a_field_limit_below_the_setting_applies(settings):
    settings.MAX_UPLOAD_MB = 10
    upload = SimpleUploadedFile("lines.csv", b"name\n" + b"x" * (2 * MB))
    with pytest.raises(ValidationError) as error:
        uploads.check_spreadsheet_upload(upload, max_bytes=2 * MB)
    assert "must be 2 MB or smaller" in messages_of(error.value)


def test_the_upload_handler_keeps_only_one_byte_past_the_limit(settings):
    """An oversized request body costs neither memory nor disk: the first upload handler drops
    everything past MAX_UPLOAD_MB + 1 byte, and the form then refuses the file by its size."""
    assert django_settings.FILE_UPLOAD_HANDLERS[0] == "commissioning.uploads.SizeLimitUploadHandler"
    settings.MAX_UPLOAD_MB = 1
    request = RequestFactory().post(
        "/", {"file": SimpleUploadedFile("huge.pdf", b"%PDF-" + b"0" * (5 * MB)), "title": "kept"}
    )
    received = request.FILES["file"]
    assert received.size == MB + 1
    assert request.POST["title"] == "kept"  # the rest of the form is still read


# --- Through the forms and services ------------------------------------------------------------


@pytest.fixture
def paper(db, partnership):
    from tests.governance.factories import BoardFactory, PaperFactory

    return PaperFactory(board=BoardFactory(partnership=partnership), title="Market position")


@pytest.fixture
def secretary_client(client, make_user, partnership):
    client.force_login(make_user(roles.BOARD_SECRETARY, [partnership]))
    return client


def stored_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload_appendix(client, paper, data: bytes, name: str):
    return client.post(
        reverse("governance:appendix-upload", args=[paper.pk]),
        {
            "title": "Appendix A",
            "exemption_regime": "none",
            "exemption_reason": "",
            "file": SimpleUploadedFile(name, data, content_type="application/pdf"),
        },
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"MZ\x90\x00 an executable", "The PDF file must be a PDF"),
        (pdf(open_action_javascript), "The PDF file contains active content"),
        (pdf(embedded_file), "The PDF file contains active content"),
        (pdf(launch_link), "The PDF file contains active content"),
    ],
    ids=["not-a-pdf", "javascript", "embedded-file", "launch"],
)
def test_the_appendix_form_refuses_a_hostile_file_and_writes_nothing(secretary_client, paper, data, expected):
    response = upload_appendix(secretary_client, paper, data, "model.pdf")

    assert response.status_code == 200
    form = response.context["appendix_form"]
    assert expected in " ".join(form.errors["file"])
    assert expected in response.content.decode()
    assert not PaperAppendix.objects.filter(paper=paper).exists()
    assert stored_files() == []


def test_the_appendix_form_refuses_an_oversized_file(secretary_client, paper, settings):
    settings.MAX_UPLOAD_MB = 1
    response = upload_appendix(secretary_client, paper, pdf() + b"%" * (2 * MB), "big.pdf")

    assert response.status_code == 200
    assert response.context["appendix_form"].errors["file"] == ["The PDF file must be 1 MB or smaller."]
    assert not PaperAppendix.objects.filter(paper=paper).exists()
    assert stored_files() == []


def test_a_traversal_name_is_stored_under_a_generated_name(secretary_client, paper, tmp_path):
    response = upload_appendix(secretary_client, paper, pdf(pages=2), "../../etc/passwd.pdf")

    assert response.status_code == 302
    appendix = PaperAppendix.objects.get(paper=paper)
    assert appendix.original_name == "passwd.pdf"
    assert re.fullmatch(r"appendices/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", appendix.file.name)
    media = Path(django_settings.MEDIA_ROOT).resolve()
    assert [p.resolve() for p in stored_files()] == [media / appendix.file.name]
    assert media in (media / appendix.file.name).resolve().parents
    assert appendix.page_count == 2
    page = secretary_client.get(reverse("governance:paper", args=[paper.pk])).content.decode()
    assert "uploaded as “passwd.pdf”" in page


def test_the_appendix_service_refuses_active_content_for_every_caller(paper):
    """The service checks too, so the API, imports and scripts get the same refusal (400 in the API)."""
    with pytest.raises(ValidationError) as error:
        governance.appendix_add(
            paper=paper, title="Scripted", filename="x.pdf", data=pdf(document_javascript), by=None
        )
    assert "active content" in messages_of(error.value)
    assert not PaperAppendix.objects.exists()
    assert stored_files() == []


@pytest.fixture
def schedule(db, partnership):
    from tests.budgets.factories import AgreementFactory, ScheduleFactory

    agreement = AgreementFactory(
        partnership=partnership, host=partnership.council, start=date(2021, 4, 1), end=date(2024, 3, 31)
    )
    return ScheduleFactory(agreement=agreement)


def import_sheet(client, schedule, data: bytes, name: str):
    return client.post(
        reverse("budgets:import", args=[schedule.pk]), {"file": SimpleUploadedFile(name, data)}
    )


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (pdf(), "lines.csv", "is named .csv but its content is not text"),
        (b"name,year,funding_stream,amount\n", "lines.xlsx", "is named .xlsx but its content is not"),
        (b"name,year,funding_stream,amount\n" + b"x" * (2 * MB), "lines.csv", "must be 2 MB or smaller"),
        (b"name,year,funding_stream,amount\n", "../../etc/lines.sh", "must be an XLSX or CSV file"),
    ],
    ids=["pdf-named-csv", "csv-named-xlsx", "oversized", "other-type"],
)
def test_the_import_form_refuses_a_hostile_sheet_and_writes_nothing(
    client, commissioner, schedule, data, name, expected
):
    client.force_login(commissioner)
    before = BudgetLine.objects.count()

    response = import_sheet(client, schedule, data, name)

    assert response.status_code == 200
    message = " ".join(response.context["form"].errors["file"])
    assert message.startswith("The spreadsheet of budget lines")
    assert expected in message
    assert BudgetLine.objects.count() == before
    assert stored_files() == []


def test_the_import_form_still_imports_a_good_sheet(client, commissioner, schedule, partnership):
    from tests.budgets.factories import FundingStreamFactory

    FundingStreamFactory(partnership=partnership, name="LBB core", organisation=partnership.council)
    client.force_login(commissioner)
    sheet = b"name,year,funding_stream,amount\nSupport team,2021,LBB core,43713\n"

    response = import_sheet(client, schedule, sheet, "lines.csv")

    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    assert list(BudgetLine.objects.filter(schedule=schedule).values_list("name", flat=True)) == [
        "Support team"
    ]
