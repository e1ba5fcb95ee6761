import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count

from commissioning import demo
from commissioning.models import (
    Contract,
    ContractReview,
    Organisation,
    Partnership,
    Person,
    Provider,
    User,
)

pytestmark = pytest.mark.django_db

TODAY = date(2025, 1, 15)
ALL_THREE = ["Barking & Dagenham", "Bromley", "City of London"]


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # The demo hashes its one password once; a fast hasher keeps the many loads here quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def canonical_dump() -> dict[str, list[tuple]]:
    """Every generated row by its natural keys, without primary keys, timestamps or password hashes."""
    users = []
    for user in User.objects.prefetch_related("groups", "partnerships").select_related("organisation"):
        users.append(
            (
                user.username,
                user.first_name,
                user.last_name,
                user.email,
                user.job_title,
                user.organisation.code if user.organisation else None,
                user.is_staff,
                user.is_superuser,
                tuple(sorted(g.name for g in user.groups.all())),
                tuple(sorted(p.name for p in user.partnerships.all())),
            )
        )
    contracts = []
    for contract in Contract.objects.prefetch_related("associate_commissioners").select_related(
        "partnership", "provider__organisation", "lead_commissioner", "contract_manager"
    ):
        contracts.append(
            (
                contract.partnership.name,
                contract.reference,
                contract.service,
                contract.service_type,
                contract.provider.organisation.code,
                contract.lead_commissioner.code,
                tuple(sorted(o.code for o in contract.associate_commissioners.all())),
                contract.annual_value,
                contract.start,
                contract.end,
                contract.extension_options,
                contract.procurement_route,
                contract.contract_manager.username if contract.contract_manager else None,
                contract.status,
                contract.notes,
                contract.version,
            )
        )
    return {
        "organisations": sorted(
            Organisation.objects.values_list(
                "code", "name", "kind", "address", "invoice_email", "payment_terms_days", "active"
            )
        ),
        "partnerships": sorted(
            Partnership.objects.values_list("name", "council__code", "nhs_commissioner__code", "active")
        ),
        "people": sorted(
            Person.objects.values_list("name", "role_title", "organisation__code", "email", "user__username"),
            key=repr,
        ),
        "users": sorted(users, key=repr),
        "providers": sorted(
            (code, rating, str(rating_date), location, tuple(types), status)
            for code, rating, rating_date, location, types, status in Provider.objects.values_list(
                "organisation__code",
                "cqc_rating",
                "cqc_rating_date",
                "cqc_location_id",
                "service_types",
                "approved_list_status",
            )
        ),
        "contracts": sorted(contracts, key=repr),
        "reviews": sorted(
            ContractReview.objects.values_list(
                "contract__partnership__name",
                "contract__reference",
                "review_date",
                "rag_rating",
                "notes",
                "reviewed_by__username",
            )
        ),
    }


def load_and_dump(*, seed: int, today: date) -> dict[str, list[tuple]]:
    """Load the demo into the empty test database, dump it, and roll the load back."""
    with transaction.atomic():
        demo.load_demo(seed=seed, today=today)
        dump = canonical_dump()
        transaction.set_rollback(True)
    assert not Partnership.objects.exists()
    return dump


def test_the_same_seed_and_day_give_identical_data():
    first = load_and_dump(seed=11, today=TODAY)
    second = load_and_dump(seed=11, today=TODAY)

    assert first == second
    assert len(first["contracts"]) == 40
    assert len(first["reviews"]) > 20


def test_another_seed_gives_other_data():
    first = load_and_dump(seed=11, today=TODAY)
    other = load_and_dump(seed=12, today=TODAY)

    assert first["partnerships"] == other["partnerships"]  # reference data does not depend on the seed
    assert first["organisations"] != other["organisations"]  # the generated providers' do
    assert first["providers"] != other["providers"]
    assert first["contracts"] != other["contracts"]


@pytest.mark.parametrize("today", [TODAY, date(2031, 8, 31), date(2028, 2, 29)])
def test_contracts_end_within_6_and_12_months_of_the_day_given(today):
    demo.load_demo(seed=3, today=today)

    within_6 = Contract.objects.ending_within(6, today=today)
    within_12 = Contract.objects.ending_within(12, today=today)

    assert within_6.count() == 8
    assert within_12.count() == 17
    per_partnership = dict(within_6.values_list("partnership__name").annotate(n=Count("pk")))
    assert per_partnership == {"Bromley": 4, "City of London": 2, "Barking & Dagenham": 2}
    assert Contract.objects.count() == 40


def test_every_board_member_in_the_fixture_is_a_person():
    reference = demo.read_reference()
    people = {p["name"] for p in reference["people"]}

    members = {m["person"] for board in reference["boards"] for m in board["members"]}

    assert members <= people
    assert {b["partnership"] for b in reference["boards"]} == set(ALL_THREE)


def test_domain_steps_run_after_the_core_with_its_context(monkeypatch):
    seen = []
    monkeypatch.setattr(
        demo,
        "DEMO_STEPS",
        [
            lambda ctx: seen.append(
                (ctx.today, len(ctx.contracts), sorted(ctx.partnerships), ctx.rng("x").random())
            )
        ],
    )

    demo.load_demo(seed=5, today=TODAY)

    assert seen == [
        (TODAY, 40, ALL_THREE, demo.DemoContext(seed=5, today=TODAY, reference={}).rng("x").random())
    ]


def test_the_command_loads_and_prints_the_logins():
    out = io.StringIO()

    call_command("load_demo", "--seed", "4", "--today", "2025-01-15", stdout=out)

    text = out.getvalue()
    assert "Demo data loaded (seed 4, around 15 Jan 2025)" in text
    assert f"password: {demo.DEMO_PASSWORD}" in text
    for username in ("commissioner", "broker", "brokerage_manager", "finance_officer", "board_secretary"):
        assert f"\n  {username} " in text
    assert "admin              Administrator (superuser)  Bromley, City of London, Barking & Dagenham" in text
    assert Contract.objects.count() == 40


def test_if_empty_leaves_a_database_with_partnerships_alone(partnership):
    out = io.StringIO()

    call_command("load_demo", "--if-empty", stdout=out)

    assert "demo data not loaded" in out.getvalue()
    assert list(Partnership.objects.all()) == [partnership]
    assert not Contract.objects.exists()


def test_without_if_empty_the_command_refuses_a_database_with_partnerships(partnership):
    with pytest.raises(CommandError, match="already has partnerships"):
        call_command("load_demo", stdout=io.StringIO())

    assert Partnership.objects.count() == 1


def test_the_command_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="PRODUCTION"):
        call_command("load_demo", stdout=io.StringIO())

    assert not Partnership.objects.exists()
