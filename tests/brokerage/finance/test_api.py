"""The finance endpoints of api.md: happy path, 400 naming the field with nothing changed, 401,
403, 404 for what another partnership holds, and bounded query counts."""

from datetime import date
from decimal import Decimal

import pytest

from brokerage.finance import services as finance_services
from brokerage.models import Dispute, Invoice, Payment, RechargeRun
from commissioning import roles
from commissioning.models import AccessLog
from tests.brokerage.factories import DisputeFactory

D = Decimal
MAY = date(2022, 5, 1)


@pytest.fixture(autouse=True)
def pdf_root(settings, tmp_path):
    settings.PDF_ROOT = tmp_path / "pdfs"


@pytest.fixture
def outsider_finance(make_user, other_partnership):
    return make_user(roles.FINANCE_OFFICER, [other_partnership])


@pytest.fixture
def auditor(make_user, partnership):
    return make_user(roles.AUDITOR, [partnership])


@pytest.fixture
def draft(run_month, example_one):
    return run_month(MAY).invoices.get()


# --- recharge-runs/ -----------------------------------------------------------------------------


def test_posting_a_run_answers_202_and_queues_it_on_commit(
    api_as, finance, council, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_as(finance).post(
            "/api/v1/recharge-runs/", {"issuer": "LBB", "period": "2022-05"}, format="json"
        )

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["issuer"], body["period"], body["status"], body["invoices"]) == (
        "LBB",
        "2022-05",
        "queued",
        [],
    )
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"issuer": "LBB", "period": "May 2022"}, "period"),
        ({"issuer": "LBB", "period": "2099-01"}, "period"),
        ({"issuer": "NOPE", "period": "2022-05"}, "issuer"),
        ({"period": "2022-05"}, "issuer"),
    ],
)
def test_a_bad_run_request_is_400_naming_the_field_and_starts_nothing(
    api_as, finance, council, payload, field, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_as(finance).post("/api/v1/recharge-runs/", payload, format="json")

    assert response.status_code == 400 and field in response.json(), response.json()
    assert RechargeRun.objects.count() == 0 and callbacks == []


def test_runs_need_a_login_and_the_role(api_client, api_as, auditor, council):
    assert (
        api_client.post("/api/v1/recharge-runs/", {"issuer": "LBB", "period": "2022-05"}).status_code == 401
    )
    response = api_as(auditor).post(
        "/api/v1/recharge-runs/", {"issuer": "LBB", "period": "2022-05"}, format="json"
    )
    assert response.status_code == 403 and RechargeRun.objects.count() == 0
    assert api_as(auditor).get("/api/v1/recharge-runs/").status_code == 200


def test_a_finished_run_lists_its_drafts_and_unfunded_days(
    api_as, finance, run_month, example_one, outsider_finance
):
    run = run_month(MAY)

    body = api_as(finance).get(f"/api/v1/recharge-runs/{run.pk}/").json()

    assert body["status"] == "done" and body["invoices"] == [run.invoices.get().pk]
    assert body["total_invoiced"] == "1552.02" and body["unfunded"] == [] and body["errors"] == []
    assert api_as(outsider_finance).get(f"/api/v1/recharge-runs/{run.pk}/").status_code == 404


# --- invoices/ ----------------------------------------------------------------------------------


def test_an_invoice_shows_its_lines(api_as, finance, draft):
    body = api_as(finance).get(f"/api/v1/invoices/{draft.pk}/").json()

    assert (
        body["kind"],
        body["issuer"],
        body["recipient"],
        body["period"],
        body["status"],
        body["total"],
    ) == (
        "invoice",
        "LBB",
        "SELCCG-BR",
        "2022-05",
        "draft",
        "1552.02",
    )
    (line,) = body["lines"]
    assert {
        k: line[k] for k in ("client_reference", "from", "to", "days", "weekly_cost", "percent", "amount")
    } == {
        "client_reference": "LAS000001",
        "from": "2022-05-10",
        "to": "2022-05-31",
        "days": 22,
        "weekly_cost": "1234.56",
        "percent": "40.00",
        "amount": "1552.02",
    }
    assert line["adjustment"] is False and line["dispute_status"] is None


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("issuer=LBB", 1),
        ("issuer=SELCCG-BR", 0),
        ("recipient=SELCCG-BR", 1),
        ("period=2022-05", 1),
        ("period=2022-06", 0),
        ("status=draft", 1),
        ("status=issued", 0),
        ("kind=credit_note", 0),
    ],
)
def test_invoices_filter(api_as, finance, draft, query, count):
    response = api_as(finance).get(f"/api/v1/invoices/?{query}")
    assert response.status_code == 200 and response.json()["count"] == count


def test_a_bad_filter_is_400_naming_it(api_as, finance, draft):
    response = api_as(finance).get("/api/v1/invoices/?period=May")
    assert response.status_code == 400 and "period" in response.json()


def test_the_invoice_list_is_bounded_in_queries(
    api_as, finance, make_package, council, ccg, run_month, django_assert_max_num_queries
):
    for _ in range(6):
        make_package(date(2022, 3, 1), shares=[(council, 50), (ccg, 50)])
    run_month(MAY)
    client = api_as(finance)

    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/invoices/")

    (invoice,) = response.json()["results"]
    assert response.status_code == 200 and invoice["line_count"] == 18 and "lines" not in invoice
    with django_assert_max_num_queries(12):
        lines = client.get(invoice["lines_url"] + "?page_size=5")
    assert lines.status_code == 200 and lines.json()["count"] == 18 and len(lines.json()["results"]) == 5


def test_the_list_carries_the_line_count_and_the_url_of_the_lines_not_the_lines(api_as, finance, draft):
    body = api_as(finance).get("/api/v1/invoices/").json()

    (invoice,) = body["results"]
    assert "lines" not in invoice and invoice["line_count"] == 1
    assert invoice["lines_url"] == f"http://testserver/api/v1/invoices/{draft.pk}/lines/"
    detail = api_as(finance).get(f"/api/v1/invoices/{draft.pk}/").json()
    assert {k: v for k, v in detail.items() if k != "lines"} == invoice  # the detail adds the lines


def test_the_lines_endpoint_pages_the_lines_as_the_detail_shows_them(
    api_as, finance, make_package, council, ccg, run_month
):
    for _ in range(4):
        make_package(date(2022, 3, 1), shares=[(council, 50), (ccg, 50)])
    invoice = run_month(MAY).invoices.get()
    client = api_as(finance)
    embedded = client.get(f"/api/v1/invoices/{invoice.pk}/").json()["lines"]

    first = client.get(f"/api/v1/invoices/{invoice.pk}/lines/?page_size=5").json()
    second = client.get(first["next"]).json()

    assert len(embedded) == first["count"] == 12 and first["previous"] is None
    assert first["results"] + second["results"] == embedded[:10]
    assert list(embedded[0]) == [
        "id",
        "package_reference",
        "package",
        "client_reference",
        "nhs_number",
        "provider",
        "service_type",
        "month",
        "from",
        "to",
        "days",
        "weekly_cost",
        "percent",
        "paid_percent",
        "amount",
        "adjustment",
        "corrects_month",
        "previously_billed",
        "description",
        "dispute_status",
    ]
    assert client.get(f"/api/v1/invoices/{invoice.pk}/lines/?page=9").status_code == 404


def test_the_lines_as_csv_one_row_a_line_and_the_list_one_row_an_invoice(api_as, finance, draft):
    client = api_as(finance)

    lines = client.get(f"/api/v1/invoices/{draft.pk}/lines/?format=csv")
    listed = client.get("/api/v1/invoices/?format=csv")

    assert lines.status_code == 200 and lines["Content-Type"].startswith("text/csv")
    rows = lines.content.decode("utf-8-sig").splitlines()
    assert len(rows) == 2 and rows[0].startswith("id,package_reference,package,client_reference,")
    assert ",from,to," in rows[0] and "LAS000001" in rows[1] and "1552.02" in rows[1]
    assert f'filename="invoice-{draft.pk}-lines.csv"' in lines["Content-Disposition"]
    header, row = listed.content.decode("utf-8-sig").splitlines()
    assert "line_count" in header and "lines_url" in header and "client_reference" not in header
    assert f"/api/v1/invoices/{draft.pk}/lines/" in row


def test_the_lines_of_an_invoice_with_no_lines_have_a_csv_header(api_as, finance, draft):
    from brokerage.models import InvoiceLine

    InvoiceLine.objects.filter(invoice=draft).delete()  # a draft: not frozen
    response = api_as(finance).get(f"/api/v1/invoices/{draft.pk}/lines/?format=csv")
    assert (
        response.content.decode("utf-8-sig")
        .splitlines()[0]
        .startswith("id,package_reference,package,client_reference,")
    )
    assert api_as(finance).get(f"/api/v1/invoices/{draft.pk}/lines/").json()["count"] == 0


def test_the_lines_endpoint_has_the_gate_of_the_detail(
    api_client, api_as, broker, finance, outsider_finance, auditor, draft
):
    url = f"/api/v1/invoices/{draft.pk}/lines/"
    assert api_client.get(url).status_code == 401
    assert api_as(broker).get(url).status_code == 403  # no invoices for the role
    assert api_as(outsider_finance).get(url).status_code == 404  # another partnership's
    assert api_as(outsider_finance).get(f"/api/v1/invoices/{draft.pk}/").status_code == 404
    assert api_as(auditor).get(url).status_code == 200
    assert api_as(auditor).get("/api/v1/invoices/999999/lines/").status_code == 404
    assert api_as(finance).post(url).status_code == 405  # read-only


def test_the_listed_invoices_are_what_drf_field_by_field_gave(api_as, finance, draft, issued_api):
    """The list builds each invoice with a plain function: the JSON the declared fields give (an
    issued invoice credited, its credit note, a draft)."""
    from rest_framework import serializers
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from brokerage.finance.api.serializers import InvoiceSerializer
    from brokerage.finance.api.views import _line_count

    dispute = finance_services.dispute_raise(
        invoice=issued_api, lines=list(issued_api.lines.all()), reason="other", note="Not agreed", by=finance
    )
    finance_services.dispute_resolve(dispute=dispute, outcome="waived", by=finance)

    listed = api_as(finance).get("/api/v1/invoices/").json()["results"]
    request = Request(APIRequestFactory().get("/api/v1/invoices/"))
    invoices = Invoice.objects.select_related("issuer", "recipient").annotate(line_count=_line_count())
    serializer = InvoiceSerializer(context={"request": request})
    field_by_field = {
        i.pk: dict(serializers.ModelSerializer.to_representation(serializer, i)) for i in invoices
    }

    assert len(listed) == 3 and {x["kind"] for x in listed} == {"invoice", "credit_note"}
    assert listed == [field_by_field[x["id"]] for x in listed]
    assert [list(x) for x in listed] == [list(field_by_field[x["id"]]) for x in listed]


def test_a_page_of_invoices_builds_no_model_object_per_row(api_as, finance, draft, issued_api, monkeypatch):
    """A page of invoices is built from ``.values()`` rows (``InvoiceSerializer.row_values``): no
    Invoice or Organisation made from a row; one invoice (``retrieve``) gives the same fields."""
    from django.db.models import Model

    built = []
    real = Model.from_db.__func__

    def from_db(cls, db, field_names, values):
        built.append(cls.__name__)
        return real(cls, db, field_names, values)

    monkeypatch.setattr(Model, "from_db", classmethod(from_db))
    api = api_as(finance)
    listed = api.get("/api/v1/invoices/").json()["results"]
    assert len(listed) >= 2
    assert not [name for name in built if name in ("Invoice", "Organisation")]
    one = api.get(f"/api/v1/invoices/{listed[0]['id']}/").json()
    assert {k: v for k, v in one.items() if k != "lines"} == listed[0]
    assert "Invoice" in built


def test_the_fast_lines_are_what_drf_field_by_field_gave(api_as, finance, draft):
    """The lines are built by a plain function from ``.values()`` rows: key for key and string for
    string what the declared DRF fields give from model instances, on awkward values (money of six
    decimals rounded half up, nulls, adjustments, disputes raised at the same instant)."""
    from datetime import UTC, datetime

    from rest_framework import serializers

    from brokerage.finance.api.serializers import InvoiceLineSerializer
    from brokerage.models import InvoiceLine

    (base,) = draft.lines.all()
    odd = [
        {"weekly_cost": D("1234.565000"), "percent": D("33.33"), "amount": D("-0.01")},
        {"weekly_cost": D("1.015000"), "percent": D("100.00"), "amount": D("999999999999.99")},
        {"weekly_cost": None, "days": None, "percent": None, "previously_billed": True},
        {"adjustment": True, "corrects_month": date(2022, 4, 1), "month": date(2022, 4, 1)},
    ]
    made = []
    for position, changes in enumerate(odd, start=1):
        fields = {f.attname: getattr(base, f.attname) for f in InvoiceLine._meta.concrete_fields}
        fields.update(id=None, position=position, **changes)
        made.append(InvoiceLine.objects.create(**fields))
    at = datetime(2022, 6, 1, 9, tzinfo=UTC)
    for raised_at, status, outcome, line in [
        (at, "resolved", "upheld", made[0]),
        (at.replace(hour=10), "open", "", made[0]),  # the latest: open
        (at, "resolved", "waived", made[1]),
        (at, "open", "", made[1]),  # raised at the same instant, a higher id
    ]:
        DisputeFactory(invoice=draft, status=status, outcome=outcome, raised_at=raised_at, lines=[line])

    served = api_as(finance).get(f"/api/v1/invoices/{draft.pk}/").json()["lines"]
    paged = api_as(finance).get(f"/api/v1/invoices/{draft.pk}/lines/").json()["results"]
    instances = (
        InvoiceLine.objects.filter(invoice=draft).order_by("position", "pk").prefetch_related("disputes")
    )
    field_by_field = [
        dict(serializers.ModelSerializer.to_representation(InvoiceLineSerializer(), line))
        for line in instances
    ]

    assert served == paged == field_by_field
    assert [InvoiceLineSerializer(line).data for line in instances] == field_by_field
    assert [(x["weekly_cost"], x["dispute_status"]) for x in served[1:3]] == [
        ("1234.57", "open"),  # 1234.565: half up, as every amount is shown (rules.md)
        ("1.02", "waived"),
    ]
    assert served[3]["weekly_cost"] is None and served[4]["corrects_month"] == "2022-04"


def test_another_partnerships_finance_officer_gets_404(api_as, outsider_finance, draft):
    client = api_as(outsider_finance)
    assert client.get("/api/v1/invoices/").json()["count"] == 0
    assert client.get(f"/api/v1/invoices/{draft.pk}/").status_code == 404
    assert client.post(f"/api/v1/invoices/{draft.pk}/issue/").status_code == 404
    assert client.delete(f"/api/v1/invoices/{draft.pk}/").status_code == 404
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_issue_assigns_the_number(api_as, finance, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_as(finance).post(f"/api/v1/invoices/{draft.pk}/issue/")

    assert response.status_code == 200
    body = response.json()
    assert body["number"].startswith("LBB-") and body["status"] == "issued" and body["due_date"]
    assert len(callbacks) == 1  # the PDF task


def test_issue_needs_the_role(api_client, api_as, auditor, manager_user, draft):
    assert api_client.post(f"/api/v1/invoices/{draft.pk}/issue/").status_code == 401
    assert api_as(auditor).post(f"/api/v1/invoices/{draft.pk}/issue/").status_code == 403
    assert api_as(manager_user).post(f"/api/v1/invoices/{draft.pk}/issue/").status_code == 403
    draft.refresh_from_db()
    assert draft.number is None


@pytest.fixture
def manager_user(make_user, partnership):
    return make_user(roles.BROKERAGE_MANAGER, [partnership])


def test_a_draft_can_be_deleted_but_not_an_issued_invoice(api_as, finance, draft, issued_api):
    assert api_as(finance).delete(f"/api/v1/invoices/{draft.pk}/").status_code == 204
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    response = api_as(finance).delete(f"/api/v1/invoices/{issued_api.pk}/")
    assert response.status_code == 400 and "status" in response.json()
    assert Invoice.objects.filter(pk=issued_api.pk).exists()


@pytest.fixture
def issued_api(make_package, council, ccg, run_month, finance):
    make_package(date(2022, 4, 1), rate=D("700"), shares=[(council, 50), (ccg, 50)], reference="LAS000099")
    run = run_month(date(2022, 4, 1))
    return finance_services.invoice_issue(invoice=run.invoices.get(), by=finance, today=date(2022, 5, 3))


def test_the_pdf_is_served_and_each_download_logged(api_as, finance, issued_api, outsider_finance):
    response = api_as(finance).get(f"/api/v1/invoices/{issued_api.pk}/pdf/")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    log = AccessLog.objects.get()
    assert (log.action, log.object_id, log.user) == ("download", str(issued_api.pk), finance)
    assert api_as(outsider_finance).get(f"/api/v1/invoices/{issued_api.pk}/pdf/").status_code == 404


def test_a_draft_has_no_pdf(api_as, finance, draft):
    assert api_as(finance).get(f"/api/v1/invoices/{draft.pk}/pdf/").status_code == 409
    assert AccessLog.objects.count() == 0


def test_payments(api_as, finance, issued_api):
    response = api_as(finance).post(
        f"/api/v1/invoices/{issued_api.pk}/payments/",
        {"amount": "500.00", "date": "2022-05-20"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    issued_api.refresh_from_db()
    assert (issued_api.status, issued_api.amount_paid) == ("part_paid", D("500.00"))


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount": "99999.00", "date": "2022-05-20"}, "amount"),
        ({"amount": "0.00", "date": "2022-05-20"}, "amount"),
        ({"amount": "1.001", "date": "2022-05-20"}, "amount"),
        ({"amount": "10.00"}, "date"),
        ({"amount": "10.00", "date": "2022-04-01"}, "date"),
    ],
)
def test_a_bad_payment_is_400_naming_the_field(api_as, finance, issued_api, payload, field):
    response = api_as(finance).post(f"/api/v1/invoices/{issued_api.pk}/payments/", payload, format="json")

    assert response.status_code == 400 and field in response.json(), response.json()
    issued_api.refresh_from_db()
    assert (issued_api.amount_paid, Payment.objects.count()) == (D("0.00"), 0)


def test_disputes_and_resolution(api_as, finance, issued_api, auditor):
    line = issued_api.lines.get()
    client = api_as(finance)

    response = client.post(
        f"/api/v1/invoices/{issued_api.pk}/disputes/",
        {"lines": [line.pk], "reason": "wrong_rate", "note": "Rate not agreed"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    dispute_id = response.json()["id"]
    lines = api_as(auditor).get(f"/api/v1/invoices/{issued_api.pk}/").json()["lines"]
    assert lines[0]["dispute_status"] == "open"
    assert (
        api_as(auditor).post(f"/api/v1/disputes/{dispute_id}/resolve/", {"outcome": "waived"}).status_code
        == 403
    )

    bad = client.post(f"/api/v1/disputes/{dispute_id}/resolve/", {"outcome": "maybe"}, format="json")
    assert bad.status_code == 400 and "outcome" in bad.json()
    response = client.post(f"/api/v1/disputes/{dispute_id}/resolve/", {"outcome": "waived"}, format="json")

    assert response.status_code == 200 and response.json()["outcome"] == "waived"
    note = Invoice.objects.get(pk=response.json()["credit_note"])
    assert (note.kind, note.total) == ("credit_note", issued_api.total)
    assert client.get(f"/api/v1/invoices/{issued_api.pk}/").json()["lines"][0]["dispute_status"] == "waived"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"lines": [], "reason": "wrong_rate"}, "lines"),
        ({"lines": [999999], "reason": "wrong_rate"}, "lines"),
        ({"lines": [0], "reason": "wrong_rate"}, "lines"),
        ({"reason": "other"}, "lines"),
        ({"lines": ["LINE"], "reason": "dislike"}, "reason"),
    ],
)
def test_a_bad_dispute_is_400_naming_the_field(api_as, finance, issued_api, payload, field):
    line = issued_api.lines.get()
    payload = {
        k: ([line.pk if x == "LINE" else x for x in v] if k == "lines" else v) for k, v in payload.items()
    }

    response = api_as(finance).post(f"/api/v1/invoices/{issued_api.pk}/disputes/", payload, format="json")

    assert response.status_code == 400 and field in response.json(), response.json()
    assert Dispute.objects.count() == 0


def test_a_line_of_another_invoice_cannot_be_disputed(api_as, finance, issued_api, draft):
    other = draft.lines.first()
    response = api_as(finance).post(
        f"/api/v1/invoices/{issued_api.pk}/disputes/",
        {"lines": [other.pk], "reason": "other", "note": "x"},
        format="json",
    )
    assert response.status_code == 400 and "lines" in response.json() and Dispute.objects.count() == 0


# --- reports ------------------------------------------------------------------------------------


def test_the_recharge_report_has_one_row_per_issued_line_with_the_number(api_as, finance, issued_api, draft):
    response = api_as(finance).get(
        "/api/v1/recharge-report/?issuer=LBB&period_from=2022-04&period_to=2022-05"
    )

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["invoice_number"], r["client_reference"], r["amount"]) for r in rows] == [
        (issued_api.number, "LAS000099", "1500.00")
    ]  # April 2022: 30 days at 350 a week; the draft for May is not in the report


def test_the_recharge_report_as_csv(api_as, finance, issued_api):
    response = api_as(finance).get("/api/v1/recharge-report/?format=csv")
    assert response.status_code == 200 and issued_api.number in response.getvalue().decode()


def test_the_fast_report_rows_are_what_drf_field_by_field_gave(api_as, finance, draft, issued_api):
    """The report builds each row with a plain function from ``.values()`` rows, and pages by
    invoice: key for key and string for string what the declared DRF fields give from model
    instances (money of six decimals rounded half up, nulls, adjustments, a credit note's
    negative amounts, a zero one), in the same order on every page, and the same as CSV."""
    import csv
    import io

    from rest_framework import serializers

    from brokerage.finance.api.serializers import ReportLineSerializer
    from brokerage.finance.selectors import recharge_report
    from brokerage.models import InvoiceLine

    (base,) = draft.lines.all()
    odd = [
        {"weekly_cost": D("1234.565000"), "percent": D("33.33"), "amount": D("0.00")},
        {"weekly_cost": D("1.015000"), "percent": D("100.00"), "amount": D("999999999.99")},
        {"weekly_cost": None, "days": None, "percent": None, "previously_billed": True},
        {"adjustment": True, "corrects_month": date(2022, 4, 1), "month": date(2022, 4, 1)},
    ]
    made = []
    for position, changes in enumerate(odd, start=1):
        fields = {f.attname: getattr(base, f.attname) for f in InvoiceLine._meta.concrete_fields}
        fields.update(id=None, position=position, **changes)
        made.append(InvoiceLine.objects.create(**fields))
    invoice = finance_services.invoice_issue(invoice=draft, by=finance, today=date(2022, 6, 1))
    dispute = finance_services.dispute_raise(
        invoice=invoice, lines=[base, made[0]], reason="other", note="Not agreed", by=finance
    )
    finance_services.dispute_resolve(dispute=dispute, outcome="waived", by=finance)
    client = api_as(finance)

    served = client.get("/api/v1/recharge-report/?page_size=1000").json()
    paged, url = [], "/api/v1/recharge-report/?page_size=2"
    while url:
        page = client.get(url).json()
        paged += page["results"]
        url = page["next"]
    field_by_field = [
        dict(serializers.Serializer.to_representation(ReportLineSerializer(), line))
        for line in recharge_report(finance)
    ]

    assert served["count"] == len(field_by_field) == 8  # 1 + 5 lines invoiced, 2 credited
    assert served["results"] == paged == field_by_field
    assert [list(row) for row in served["results"]] == [list(row) for row in field_by_field]
    assert {row["amount"] for row in served["results"] if row["kind"] == "credit_note"} == {
        "-1552.02",
        "0.00",
    }
    text = client.get("/api/v1/recharge-report/?format=csv").getvalue().decode("utf-8-sig")
    cells = [{k: "" if v is None else str(v) for k, v in row.items()} for row in field_by_field]
    *rows, totals = list(csv.DictReader(io.StringIO(text)))
    assert rows == cells
    assert text.splitlines()[0] == ",".join(field_by_field[0])
    total = sum(D(row["amount"]) for row in served["results"])
    assert (totals["invoice_number"], totals["amount"]) == ("Total of 8 lines", f"{total:.2f}")


def test_recharge_report_permissions_and_validation(
    api_client, api_as, broker, outsider_finance, finance, issued_api
):
    assert api_client.get("/api/v1/recharge-report/").status_code == 401
    assert api_as(broker).get("/api/v1/recharge-report/").status_code == 403
    assert api_as(outsider_finance).get("/api/v1/recharge-report/").json()["results"] == []
    bad = api_as(finance).get("/api/v1/recharge-report/?period_from=2022-06&period_to=2022-05")
    assert bad.status_code == 400 and "period_to" in bad.json()


def test_the_report_is_bounded_in_queries(api_as, finance, issued_api, django_assert_max_num_queries):
    client = api_as(finance)
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/recharge-report/").status_code == 200


def test_aged_debt_buckets_by_days_past_the_issue_date(api_as, finance, issued_api, outsider_finance):
    finance_services.invoice_record_payment(
        invoice=issued_api, amount=D("500.00"), paid_on=date(2022, 6, 1), by=finance
    )

    early = api_as(finance).get("/api/v1/aged-debt/?as_at=2022-05-20").json()
    late = api_as(finance).get("/api/v1/aged-debt/?as_at=2022-08-15").json()

    assert early["results"] == [
        {
            "recipient": "SELCCG-BR",
            "recipient_name": "South East London CCG (Bromley)",
            "0_30": "1500.00",
            "31_60": "0.00",
            "61_90": "0.00",
            "over_90": "0.00",
            "total": "1500.00",
            "disputed": {},
        }
    ]
    # 104 days after 3 May 2022, less the 500.00 paid on 1 June.
    assert (late["results"][0]["over_90"], late["totals"]["total"]) == ("1000.00", "1000.00")
    assert api_as(outsider_finance).get("/api/v1/aged-debt/?as_at=2022-08-15").json()["results"] == []


def test_aged_debt_needs_a_date(api_client, api_as, finance, broker):
    response = api_as(finance).get("/api/v1/aged-debt/")
    assert response.status_code == 400 and "as_at" in response.json()
    assert api_client.get("/api/v1/aged-debt/?as_at=2022-01-01").status_code == 401
    assert api_as(broker).get("/api/v1/aged-debt/?as_at=2022-01-01").status_code == 403


def test_the_run_list_is_bounded_in_queries(
    api_as, finance, run_month, example_one, django_assert_max_num_queries
):
    run_month(MAY)
    run_month(date(2022, 6, 1))
    client = api_as(finance)

    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/recharge-runs/?issuer=LBB")

    assert response.status_code == 200 and response.json()["count"] == 2


def test_disputes_list_and_hidden_disputes(
    api_as, finance, issued_api, outsider_finance, django_assert_max_num_queries
):
    dispute = finance_services.dispute_raise(
        invoice=issued_api, lines=list(issued_api.lines.all()), reason="other", note="Not agreed", by=finance
    )
    client = api_as(finance)
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/disputes/").json()
    assert [d["id"] for d in body["results"]] == [dispute.pk] and body["results"][0]["amount"] == "1500.00"
    assert api_as(outsider_finance).get(f"/api/v1/disputes/{dispute.pk}/").status_code == 404
    response = api_as(outsider_finance).post(f"/api/v1/disputes/{dispute.pk}/resolve/", {"outcome": "waived"})
    assert response.status_code == 404
    dispute.refresh_from_db()
    assert dispute.status == "open"


def test_aged_debt_is_bounded_in_queries(api_as, finance, issued_api, django_assert_max_num_queries):
    client = api_as(finance)
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/aged-debt/?as_at=2022-08-15").status_code == 200
