"""Recharge runs, issue, payments and disputes against PostgreSQL (rules.md rule 1)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InternalError, transaction
from django.db.utils import DatabaseError

from brokerage import services
from brokerage.finance import services as finance_services
from brokerage.models import Invoice, InvoiceLine, InvoiceStatus, Payment, RechargeRun
from brokerage.services import Share
from tests.brokerage.factories import RechargeRunFactory, change_price

D = Decimal
MAY, JUNE, JULY = date(2022, 5, 1), date(2022, 6, 1), date(2022, 7, 1)


def test_worked_example_one_through_a_run_bills_the_ccg_1552_02(run_month, example_one, ccg):
    run = run_month(MAY)

    assert run.status == "done" and run.invoice_count == 1 and run.credit_note_count == 0
    invoice = run.invoices.get()
    assert (invoice.kind, invoice.recipient, invoice.status, invoice.total) == (
        "invoice",
        ccg,
        "draft",
        D("1552.02"),
    )
    line = invoice.lines.get()
    assert (line.client_reference, line.start, line.end, line.days, line.percent, line.amount) == (
        "LAS000001",
        date(2022, 5, 10),
        date(2022, 5, 31),
        22,
        D("40.00"),
        D("1552.02"),
    )
    assert line.weekly_cost == D("1234.56") and line.adjustment is False and line.corrects_month is None
    assert invoice.number is None
    assert run.total_invoiced == D("1552.02")


def test_worked_example_two_through_a_run_is_900_plus_2057_14(run_month, example_two):
    invoice = run_month(JUNE).invoices.get()

    assert [
        (li.start.day, li.end.day, li.percent, li.amount) for li in invoice.lines.order_by("position")
    ] == [
        (1, 14, D("50.00"), D("900.00")),
        (15, 30, D("100.00"), D("2057.14")),
    ]
    assert invoice.total == D("2957.14")


def test_a_second_run_with_no_change_produces_nothing(run_month, example_one):
    run_month(MAY)

    second = run_month(MAY)

    assert (second.status, second.invoice_count, second.credit_note_count) == ("done", 0, 0)
    assert Invoice.objects.count() == 1


def test_a_backdated_price_change_appears_as_adjustment_lines_in_the_next_run(
    run_month, example_one, broker, finance
):
    may = run_month(MAY).invoices.get()
    finance_services.invoice_issue(invoice=may, by=finance, today=JUNE)
    change_price(
        package=example_one, effective_from=date(2022, 5, 20), unit_rate=D("1400.00"), units_per_week=D("1"),
        unit="week", by=broker,
    )  # fmt: skip

    june = run_month(JUNE).invoices.get()

    lines = list(june.lines.order_by("position"))
    adjustments = [li for li in lines if li.adjustment]
    assert {li.corrects_month for li in adjustments} == {MAY}
    # May again: 10-19 May at 1234.56 (10 days, 40%) = 705.46; 20-31 May at 1400 (12 days) = 960.00;
    # less 1552.02 billed: +113.44. June: 30 days at 1400, 40% = 2400.00.
    assert [(li.days, li.amount, li.previously_billed) for li in adjustments] == [
        (10, D("705.46"), False),
        (12, D("960.00"), False),
        (None, D("-1552.02"), True),
    ]
    assert [(li.days, li.amount, li.adjustment) for li in lines if not li.adjustment] == [
        (30, D("2400.00"), False)
    ]
    assert june.total == D("2513.44")
    assert run_month(JUNE).invoice_count == 0


def test_a_backdated_end_gives_a_credit_note(run_month, example_one, broker):
    run_month(MAY)
    services.package_end(package=example_one, end=date(2022, 5, 20), by=broker)

    run = run_month(MAY)

    note = run.invoices.get()
    # 11 days owed (10-20 May): 1234.56 * 11 * 40 / 700 = 776.01; billed 1552.02: credit 776.01.
    assert (note.kind, note.total, run.credit_note_count, run.total_credited) == (
        "credit_note",
        D("776.01"),
        1,
        D("776.01"),
    )
    assert run_month(MAY).credit_note_count == 0


def test_deleting_a_draft_lets_the_next_run_bill_it_again(run_month, example_one, finance):
    draft = run_month(MAY).invoices.get()

    finance_services.invoice_delete_draft(invoice=draft, by=finance)

    assert InvoiceLine.objects.count() == 0
    assert run_month(MAY).invoices.get().total == D("1552.02")


def test_unfunded_days_are_reported_and_not_billed(partnership, council, ccg, broker, run_month):
    from tests.brokerage.factories import ClientFactory, PackageFactory

    package = PackageFactory(
        client=ClientFactory(partnership=partnership), start=MAY, paying_organisation=council
    )
    services.package_cost_add(
        package=package, effective_from=MAY, unit_rate=D("700"), units_per_week=D("1"), unit="week", by=broker
    )
    services.funding_split_add(
        package=package, effective_from=date(2022, 5, 22), shares=[Share(council, D(50)), Share(ccg, D(50))],
        basis="s117", by=broker,
    )  # fmt: skip

    run = run_month(MAY)

    assert [(u["package"], u["from"], u["to"]) for u in run.unfunded] == [
        (package.pk, "2022-05-01", "2022-05-21")
    ]
    assert run.errors == []
    assert run.invoices.get().total == D("500.00")  # 22-31 May: 10 days at 50%


def test_asking_for_a_run_twice_while_one_is_queued_gives_the_same_run(partnership, council, finance):
    first = finance_services.recharge_run_request(
        partnership=partnership, issuer=council, period=MAY, by=finance
    )
    second = finance_services.recharge_run_request(
        partnership=partnership, issuer=council, period=MAY, by=finance
    )

    assert first.pk == second.pk and RechargeRun.objects.count() == 1


def test_a_run_refuses_an_issuer_outside_the_partnership_and_a_future_month(
    partnership, other_partnership, finance
):
    with pytest.raises(ValidationError) as error:
        finance_services.recharge_run_request(
            partnership=partnership, issuer=other_partnership.council, period=MAY, by=finance
        )
    assert "issuer" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        finance_services.recharge_run_request(
            partnership=partnership, issuer=partnership.council, period=date(2099, 1, 1), by=finance
        )
    assert "period" in error.value.message_dict
    assert RechargeRun.objects.count() == 0


def test_a_run_works_in_a_handful_of_queries_whatever_the_number_of_packages(
    make_package, council, ccg, partnership, finance, django_assert_max_num_queries
):
    for _ in range(12):
        make_package(date(2022, 1, 1), shares=[(council, 50), (ccg, 50)])
    run = RechargeRunFactory(partnership=partnership, issuer=council, period=MAY, requested_by=finance)

    # The lines' COPY is not counted here (a raw cursor); its two SET CONSTRAINTS statements are.
    # (Suspensions and waived amounts are read in one query each; the unsettled package months
    # take at most five: naming the run's scope and clearing it, reading the months that agree,
    # deleting them, unsettling those the run wrote that still differ.)
    with django_assert_max_num_queries(26):
        run = finance_services.recharge_run_execute(run_id=run.pk)

    assert run.package_count == 12 and run.invoices.get().lines.count() == 12 * 5


def test_the_lines_a_run_writes_are_in_the_history_with_who_asked_for_the_run(
    make_package, council, ccg, run_month, finance
):
    for _ in range(3):
        make_package(date(2022, 1, 1), shares=[(council, 50), (ccg, 50)])

    run = run_month(MAY)

    lines = InvoiceLine.objects.filter(invoice__run=run)
    events = InvoiceLine.pgh_event_model.objects.filter(pgh_obj__in=lines, pgh_label="insert")
    assert lines.count() == events.count() == 3 * 5
    assert {e.pgh_context.metadata.get("user") for e in events.select_related("pgh_context")} == {finance.pk}
    assert {(e.pgh_obj_id, e.amount) for e in events} == {(li.pk, li.amount) for li in lines}


# --- Issue and numbering ------------------------------------------------------------------------


def test_issuing_assigns_the_number_due_date_and_freezes(issued, django_capture_on_commit_callbacks):
    assert (issued.number, issued.issue_date, issued.due_date, issued.status) == (
        "LBB-2223-00001",
        JUNE,
        date(2022, 7, 1),
        "issued",
    )


def test_issuing_queues_the_pdf_on_commit_and_issuing_again_changes_nothing(
    run_month, example_one, finance, django_capture_on_commit_callbacks
):
    draft = run_month(MAY).invoices.get()
    with django_capture_on_commit_callbacks() as callbacks:
        finance_services.invoice_issue(invoice=draft, by=finance, today=JUNE)
    assert len(callbacks) == 1

    with django_capture_on_commit_callbacks() as callbacks:
        again = finance_services.invoice_issue(invoice=draft, by=finance, today=date(2022, 6, 2))
    assert callbacks == [] and again.number == "LBB-2223-00001" and again.issue_date == JUNE


def test_numbers_are_per_issuer_financial_year_and_kind(make_package, council, ccg, run_month, finance):
    for start in (date(2022, 1, 1), date(2022, 2, 1), date(2022, 3, 1)):
        make_package(start, shares=[(council, 50), (ccg, 50)])
    drafts = list(run_month(MAY).invoices.all())
    assert len(drafts) == 1
    first = finance_services.invoice_issue(invoice=drafts[0], by=finance, today=date(2023, 3, 31))
    make_package(date(2022, 5, 1), shares=[(council, 50), (ccg, 50)])
    second = finance_services.invoice_issue(
        invoice=run_month(MAY).invoices.get(), by=finance, today=date(2023, 4, 1)
    )

    assert (first.number, second.number) == ("LBB-2223-00001", "LBB-2324-00001")
    assert finance_services.invoice_number(issuer_code="LBB", kind="credit_note", year=2022, sequence=7) == (
        "LBB-CN-2223-00007"
    )


def test_the_due_date_follows_the_recipients_payment_terms(run_month, example_one, ccg, finance):
    ccg.payment_terms_days = 14
    ccg.save()
    invoice = finance_services.invoice_issue(invoice=run_month(MAY).invoices.get(), by=finance, today=JUNE)
    assert invoice.due_date == date(2022, 6, 15)


def test_an_issued_invoice_cannot_be_deleted_or_changed_even_in_sql(issued, finance):
    with pytest.raises(ValidationError):
        finance_services.invoice_delete_draft(invoice=issued, by=finance)
    for change in (
        lambda: Invoice.objects.filter(pk=issued.pk).update(total=D("1.00")),
        lambda: Invoice.objects.filter(pk=issued.pk).update(status="draft"),
        lambda: Invoice.objects.filter(pk=issued.pk).update(number="LBB-2223-00099"),
        lambda: Invoice.objects.filter(pk=issued.pk).delete(),
        lambda: InvoiceLine.objects.filter(invoice=issued).update(amount=D("1.00")),
        lambda: InvoiceLine.objects.filter(invoice=issued).delete(),
    ):
        with pytest.raises((InternalError, IntegrityError, DatabaseError)), transaction.atomic():
            change()
    issued.refresh_from_db()
    assert (issued.total, issued.number, issued.lines.get().amount) == (
        D("1552.02"),
        "LBB-2223-00001",
        D("1552.02"),
    )
    # Status and amounts paid still move with payments.
    Invoice.objects.filter(pk=issued.pk).update(status="part_paid", amount_paid=D("1.00"))


# --- Payments and disputes ----------------------------------------------------------------------


def test_part_and_full_payments_move_the_status(issued, finance):
    finance_services.invoice_record_payment(
        invoice=issued, amount=D("552.02"), paid_on=date(2022, 6, 10), by=finance
    )
    issued.refresh_from_db()
    assert (issued.status, issued.amount_paid, issued.outstanding) == ("part_paid", D("552.02"), D("1000.00"))

    finance_services.invoice_record_payment(
        invoice=issued, amount=D("1000.00"), paid_on=date(2022, 6, 20), by=finance
    )
    issued.refresh_from_db()
    assert (issued.status, issued.outstanding) == ("paid", D("0.00"))


def test_overpaying_is_refused_and_changes_nothing(issued, finance):
    with pytest.raises(ValidationError) as error:
        finance_services.invoice_record_payment(invoice=issued, amount=D("1552.03"), paid_on=JUNE, by=finance)
    assert "amount" in error.value.message_dict
    issued.refresh_from_db()
    assert (issued.status, issued.amount_paid, Payment.objects.count()) == ("issued", D("0.00"), 0)


def test_a_draft_cannot_be_paid(run_month, example_one, finance):
    with pytest.raises(ValidationError):
        finance_services.invoice_record_payment(
            invoice=run_month(MAY).invoices.get(), amount=D("1"), paid_on=JUNE, by=finance
        )


@pytest.fixture
def two_line_invoice(make_package, council, ccg, run_month, finance):
    make_package(date(2022, 5, 1), rate=D("700"), shares=[(council, 50), (ccg, 50)], reference="LAS000010")
    make_package(date(2022, 5, 1), rate=D("1400"), shares=[(council, 50), (ccg, 50)], reference="LAS000011")
    draft = run_month(MAY).invoices.get()
    return finance_services.invoice_issue(invoice=draft, by=finance, today=JUNE)


def test_undisputed_lines_can_be_paid_while_the_disputed_ones_wait(two_line_invoice, finance):
    small, large = two_line_invoice.lines.order_by("amount")
    assert (small.amount, large.amount) == (D("1550.00"), D("3100.00"))

    dispute = finance_services.dispute_raise(
        invoice=two_line_invoice, lines=[large], reason="wrong_rate", note="Rate not agreed", by=finance
    )
    two_line_invoice.refresh_from_db()
    assert (two_line_invoice.status, dispute.amount) == ("disputed", D("3100.00"))

    with pytest.raises(ValidationError):
        finance_services.invoice_record_payment(
            invoice=two_line_invoice, amount=D("1550.01"), paid_on=JUNE, by=finance
        )
    finance_services.invoice_record_payment(
        invoice=two_line_invoice, amount=D("1550.00"), paid_on=JUNE, by=finance
    )
    two_line_invoice.refresh_from_db()
    assert two_line_invoice.status == "disputed"

    finance_services.dispute_resolve(dispute=dispute, outcome="waived", by=finance, today=date(2022, 7, 4))

    two_line_invoice.refresh_from_db()
    dispute.refresh_from_db()
    note = dispute.credit_note
    assert (note.kind, note.number, note.total, note.credit_note_for_id, note.status) == (
        "credit_note",
        "LBB-CN-2223-00001",
        D("3100.00"),
        two_line_invoice.pk,
        "issued",
    )
    assert [li.amount for li in note.lines.all()] == [D("3100.00")]
    assert (two_line_invoice.status, two_line_invoice.amount_credited, two_line_invoice.outstanding) == (
        "paid",
        D("3100.00"),
        D("0.00"),
    )
    # Resolving again changes nothing.
    assert (
        finance_services.dispute_resolve(dispute=dispute, outcome="waived", by=finance).credit_note_id
        == note.pk
    )


def test_an_upheld_dispute_leaves_the_lines_to_be_paid(two_line_invoice, finance):
    line = two_line_invoice.lines.first()
    dispute = finance_services.dispute_raise(
        invoice=two_line_invoice, lines=[line], reason="eligibility_not_agreed", note="", by=finance
    )

    finance_services.dispute_resolve(dispute=dispute, outcome="upheld", by=finance)

    two_line_invoice.refresh_from_db()
    assert two_line_invoice.status == "issued" and two_line_invoice.credit_notes.count() == 0


def test_a_line_cannot_be_disputed_twice_or_from_another_invoice(two_line_invoice, issued, finance):
    line = two_line_invoice.lines.first()
    finance_services.dispute_raise(
        invoice=two_line_invoice, lines=[line], reason="wrong_dates", note="", by=finance
    )
    with pytest.raises(ValidationError) as error:
        finance_services.dispute_raise(
            invoice=two_line_invoice, lines=[line], reason="wrong_dates", note="", by=finance
        )
    assert "lines" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        finance_services.dispute_raise(
            invoice=issued, lines=[line], reason="wrong_dates", note="", by=finance
        )
    assert "lines" in error.value.message_dict


@pytest.mark.parametrize(
    ("paid", "credited", "disputes", "status"),
    [
        ("0", "0", False, InvoiceStatus.ISSUED),
        ("1", "0", False, InvoiceStatus.PART_PAID),
        ("1", "0", True, InvoiceStatus.DISPUTED),
        ("60", "40", True, InvoiceStatus.PAID),
        ("0", "100", False, InvoiceStatus.CREDITED),
    ],
)
def test_invoice_status_follows_payments_credits_and_disputes(paid, credited, disputes, status):
    assert (
        finance_services.invoice_status_for(
            total=D("100"), paid=D(paid), credited=D(credited), open_disputes=disputes
        )
        == status
    )
