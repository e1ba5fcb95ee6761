"""Agreement reviews coming due: a review not yet held and due within ``REMINDER_DAYS`` (or
overdue) reminds the pool managers of the agreement's schedules, or, when none of its schedules
names one, the commissioners of its partnership; on their dashboard and in the weekly digest
(``commissioning.registry`` digest section, from ``BudgetsConfig.ready``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from budgets.models import Review, Schedule, year_label
from commissioning import roles
from commissioning.models import User
from commissioning.permissions import has_model_permission
from commissioning.registry import DigestItem
from commissioning.selectors import Panel

REMINDER_DAYS = 60


def due_for_reminder(queryset, today: date):
    """Reviews not held and due on or before ``today`` + 60 days (overdue ones included)."""
    return queryset.filter(held_on__isnull=True, due__lte=today + timedelta(days=REMINDER_DAYS))


def reminded_users(reviews: Iterable[Review]) -> dict[int, set[int]]:
    """For each review (by pk), the ids of the active users it reminds: its agreement's pool
    managers, else its partnership's commissioners. Two queries, whatever the number of reviews."""
    reviews = list(reviews)
    agreement_ids = {r.agreement_id for r in reviews}
    managers: dict[int, set[int]] = defaultdict(set)
    for agreement_id, user_id in Schedule.objects.filter(
        agreement__in=agreement_ids, pool_manager__isnull=False, pool_manager__is_active=True
    ).values_list("agreement_id", "pool_manager_id"):
        managers[agreement_id].add(user_id)
    need = {r.agreement.partnership_id for r in reviews if not managers[r.agreement_id]}
    commissioners: dict[int, set[int]] = defaultdict(set)
    if need:
        grants = User.partnerships.through.objects.filter(
            partnership_id__in=need, user__is_active=True, user__groups__name=roles.COMMISSIONER
        ).values_list("partnership_id", "user_id")
        for partnership_id, user_id in grants:
            commissioners[partnership_id].add(user_id)
    return {r.pk: managers[r.agreement_id] or commissioners[r.agreement.partnership_id] for r in reviews}


@dataclass
class ReviewReminder:
    review: Review
    today: date

    @property
    def days(self) -> int:
        return (self.review.due - self.today).days

    @property
    def text(self) -> str:
        review = self.review
        due = date_format(review.due, "j F Y")
        if self.days < 0:
            when = f"overdue since {due}"
        elif self.days == 0:
            when = "due today"
        else:
            when = f"due {due} (in {self.days} day{'s' if self.days != 1 else ''})"
        return (
            f"{review.agreement.reference} {review.agreement.title}: {year_label(review.year)} review {when}"
        )

    def __str__(self) -> str:
        return self.text

    def get_absolute_url(self) -> str:
        return reverse("budgets:agreement-detail", args=[self.review.agreement_id]) + "#reviews"


def review_reminders(user, partnership=None, *, today: date | None = None) -> list[ReviewReminder]:
    """The reviews coming due that remind ``user``, among those they may see, soonest first."""
    today = today or timezone.localdate()
    if not has_model_permission(user, Review, "view"):
        return []
    reviews = list(
        due_for_reminder(Review.objects.restrict(user, "view").in_partnership(partnership), today)
        .select_related("agreement")
        .order_by("due", "pk")
    )
    reminded = reminded_users(reviews)
    return [ReviewReminder(r, today) for r in reviews if user.pk in reminded[r.pk]]


def review_panel(user, partnership) -> Panel | None:
    """The dashboard panel of reviews coming due (only for those it reminds)."""
    reminders = review_reminders(user, partnership or None)
    if not reminders:
        return None
    return Panel(
        title=f"Agreement reviews due within {REMINDER_DAYS} days",
        count=len(reminders),
        link=reverse("budgets:index"),
        link_text="View all section 75 agreements",
        rows=reminders[:6],
        attention=True,
    )


# --- The weekly digest's section --------------------------------------------------------------


def digest_recipients(today: date) -> set[int]:
    reviews = list(due_for_reminder(Review.objects.all(), today).select_related("agreement"))
    return set().union(*reminded_users(reviews).values()) if reviews else set()


def digest_items(user, today: date) -> list[DigestItem]:
    return [DigestItem(text=r.text, path=r.get_absolute_url()) for r in review_reminders(user, today=today)]
