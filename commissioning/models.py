"""The shared core: organisations, partnerships, users, people, providers, contracts, audit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

import pghistory
import pgtrigger
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from commissioning import choices
from commissioning.money import money_field
from commissioning.permissions import RestrictedManager, RestrictedQuerySet

code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{0,19}$",
    "Use 1 to 20 capital letters, digits and hyphens, starting with a letter or digit (e.g. LBB, SELCCG-BR).",
)


class OrganisationQuerySet(RestrictedQuerySet):
    def partners_of(self, partnerships) -> OrganisationQuerySet:
        """The councils and NHS commissioners of these partnerships (a queryset or ids): what a
        form or filter of the user's partnerships offers, never other partnerships' bodies."""
        return self.filter(
            Q(council_partnerships__in=partnerships) | Q(nhs_partnerships__in=partnerships)
        ).distinct()


@pghistory.track()
class Organisation(models.Model):
    code = models.CharField(max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=choices.OrganisationKind.choices)
    address = models.TextField("invoicing address", blank=True)
    invoice_email = models.EmailField("invoicing e-mail", blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(
        "payment terms (days)", default=30, validators=[MaxValueValidator(365)]
    )
    active = models.BooleanField(default=True)

    partnership_path = None  # reference data shared by every partnership
    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z0-9][A-Z0-9-]{0,19}$"), name="organisation_code_format"
            ),
            models.CheckConstraint(
                condition=Q(payment_terms_days__lte=365), name="organisation_payment_terms_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


@pghistory.track()
class Partnership(models.Model):
    name = models.CharField(max_length=100, unique=True)
    council = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="council_partnerships",
        limit_choices_to={"kind": choices.OrganisationKind.COUNCIL},
    )
    nhs_commissioner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="nhs_partnerships",
        limit_choices_to={"kind": choices.OrganisationKind.NHS_COMMISSIONER},
    )
    active = models.BooleanField(default=True)

    partnership_path = "pk"
    objects = RestrictedManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(council=F("nhs_commissioner")), name="partnership_two_different_partners"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def partners(self) -> tuple[Organisation, Organisation]:
        return (self.council, self.nhs_commissioner)


class UserQuerySet(RestrictedQuerySet):
    pass


class CommissioningUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


@pghistory.track(exclude=["password", "last_login"])
class User(AbstractUser):
    """A person who logs in. Roles are groups; partnerships are granted one by one."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="employees",
        help_text="Employing organisation",
    )
    job_title = models.CharField(max_length=150, blank=True)
    partnerships = models.ManyToManyField(
        Partnership, through="PartnershipGrant", related_name="users", blank=True
    )

    partnership_path = None
    objects = CommissioningUserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role_names(self) -> list[str]:
        """The user's roles (groups), read once per user object, as Django keeps permissions: the
        page shell, the exempt-content rule and the MFA rule all ask within one request. The
        permission backend (``auth_backends``) fills it with the permissions' query."""
        if "_role_names" not in self.__dict__:
            self._role_names = sorted(g.name for g in self.groups.all())
        return self._role_names

    def has_role(self, role: str) -> bool:
        return role in self.role_names


@pghistory.track()
class PartnershipGrant(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="grants")
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "partnership"], name="grant_once_per_partnership")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.partnership}"


@pghistory.track()
class Person(models.Model):
    """Someone who sits on boards or is named on papers, with or without a login."""

    name = models.CharField(max_length=200)
    role_title = models.CharField("role", max_length=200, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="people"
    )
    email = models.EmailField(blank=True)
    user = models.OneToOneField(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="person")

    partnership_path = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name


@pghistory.track()
class Provider(models.Model):
    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.PROTECT,
        related_name="provider",
        limit_choices_to={
            "kind__in": [choices.OrganisationKind.PROVIDER, choices.OrganisationKind.VOLUNTARY]
        },
    )
    cqc_location_id = models.CharField(
        "CQC location ID",
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^1-\d{9,11}$", "A CQC location ID looks like 1-123456789.")],
    )
    cqc_rating = models.CharField(
        "CQC rating", max_length=25, choices=choices.CQCRating.choices, default=choices.CQCRating.NOT_RATED
    )
    cqc_rating_date = models.DateField("CQC rating date", null=True, blank=True)
    service_types = ArrayField(
        models.CharField(max_length=25, choices=choices.ServiceType.choices), default=list, blank=True
    )
    approved_list_status = models.CharField(
        max_length=20, choices=choices.ApprovedListStatus.choices, default=choices.ApprovedListStatus.APPROVED
    )

    partnership_path = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cqc_location_id"], condition=~Q(cqc_location_id=""), name="provider_cqc_id_unique"
            )
        ]

    def __str__(self) -> str:
        return self.organisation.name

    @property
    def name(self) -> str:
        return self.organisation.name


class ContractQuerySet(RestrictedQuerySet):
    def ending_within(self, months: int, *, today: date | None = None) -> ContractQuerySet:
        """Live or extended contracts whose end falls between today and today + months."""
        today = today or timezone.localdate()
        return self.filter(
            status__in=[choices.ContractStatus.LIVE, choices.ContractStatus.EXTENDED],
            end__gte=today,
            end__lte=today + relativedelta(months=months),
        )


@pghistory.track()
class Contract(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="contracts")
    reference = models.CharField(max_length=40)
    service = models.CharField(max_length=200, help_text="What is bought, e.g. Home care framework (north)")
    service_type = models.CharField(
        max_length=25, choices=choices.ServiceType.choices, default=choices.ServiceType.OTHER
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="contracts")
    lead_commissioner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="led_contracts"
    )
    associate_commissioners = models.ManyToManyField(
        Organisation, blank=True, related_name="associate_contracts"
    )
    annual_value = money_field(negative_message="The annual value cannot be negative.")
    start = models.DateField()
    end = models.DateField()
    extension_options = models.CharField(
        max_length=200, blank=True, help_text="For example: two further periods of 12 months"
    )
    procurement_route = models.CharField(max_length=25, choices=choices.ProcurementRoute.choices)
    contract_manager = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="managed_contracts"
    )
    status = models.CharField(
        max_length=20, choices=choices.ContractStatus.choices, default=choices.ContractStatus.LIVE
    )
    notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    partnership_path = "partnership"
    guardian_object_permissions = True
    objects = RestrictedManager.from_queryset(ContractQuerySet)()

    class Meta:
        ordering = ["end", "reference"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "reference"], name="contract_reference_unique"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="contract_end_after_start"),
            models.CheckConstraint(condition=Q(annual_value__gte=0), name="contract_value_non_negative"),
        ]
        indexes = [models.Index(fields=["partnership", "status", "end"], name="contract_ending_idx")]

    def __str__(self) -> str:
        return f"{self.reference} {self.service}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:detail", args=[self.pk])

    def clean(self) -> None:
        """The rules of one contract, for pages, API, admin and commands alike (``full_clean``)."""
        errors: dict[str, list[str]] = {}
        if self.start and self.end and self.end <= self.start:
            errors.setdefault("end", []).append("The end date must be after the start date.")
        partnership = self.partnership if self.partnership_id else None
        if (
            partnership is not None
            and self.lead_commissioner_id is not None
            and self.lead_commissioner_id not in (partnership.council_id, partnership.nhs_commissioner_id)
        ):
            errors.setdefault("lead_commissioner", []).append(
                f"The lead commissioner must be one of the partners of {partnership.name}."
            )
        if errors:
            raise ValidationError(errors)

    def months_remaining(self, today: date | None = None) -> int | None:
        today = today or timezone.localdate()
        if self.end < today:
            return None
        delta = relativedelta(self.end, today)
        return delta.years * 12 + delta.months


@pghistory.track()
class ContractReview(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="reviews")
    review_date = models.DateField()
    rag_rating = models.CharField("RAG rating", max_length=5, choices=choices.RAG.choices)
    notes = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    partnership_path = "contract__partnership"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-review_date", "-pk"]

    def __str__(self) -> str:
        return f"Review of {self.contract.reference} on {self.review_date:%d %b %Y}"


class AccessLogQuerySet(RestrictedQuerySet):
    pass


class AccessLog(models.Model):
    """Append-only record of views of sensitive records and downloads (security.md)."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        DOWNLOAD = "download", "Downloaded"
        EXPORT = "export", "Exported"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="access_log")
    action = models.CharField(max_length=10, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)

    partnership_path = "partnership"
    objects = RestrictedManager.from_queryset(AccessLogQuerySet)()

    class Meta:
        ordering = ["-at", "-pk"]
        triggers = [
            pgtrigger.Protect(name="access_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="accesslog_object_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.action} {self.object_repr} at {self.at:%Y-%m-%d %H:%M}"


class AuditTrail(models.Model):
    """Holds the permission to read the change history; no rows of its own."""

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = "audit trail"

    def __str__(self) -> str:
        return "Audit trail"


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class ApiToken(models.Model):
    """An API key. Only its SHA-256 digest is kept; the key is shown once, when created."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. Ledger import")
    prefix = models.CharField(max_length=PREFIX_LENGTH, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def generate_key() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class DigestDelivery(models.Model):
    """One weekly contracts-ending digest sent to one contract manager.

    The row is the digest task's idempotency key: a retried or repeated run in the same ISO week
    finds it and sends nothing more to that manager (``commissioning.digest``).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="digest_deliveries")
    week_start = models.DateField(help_text="Monday of the ISO week the digest covers")
    sent_at = models.DateTimeField(default=timezone.now)
    contracts_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-week_start", "user_id"]
        verbose_name_plural = "digest deliveries"
        constraints = [
            models.UniqueConstraint(fields=["user", "week_start"], name="digest_once_per_user_and_week"),
            models.CheckConstraint(condition=Q(week_start__iso_week_day=1), name="digest_week_starts_monday"),
        ]

    def __str__(self) -> str:
        return f"Contracts digest to {self.user} for the week of {self.week_start:%d %b %Y}"
