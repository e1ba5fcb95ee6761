from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = "Section 75 budgets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from budgets.models import BudgetLine, Schedule, Virement
        from budgets.selectors import overspend_panel, reviews
        from budgets.selectors.history import register_history
        from commissioning import registry

        register_history()
        registry.add_panel(overspend_panel)
        registry.add_panel(reviews.review_panel)
        registry.add_digest_section(
            "budgets-reviews",
            title="Section 75 agreement reviews due",
            recipients=reviews.digest_recipients,
            items=reviews.digest_items,
        )
        registry.add_demo_step(load_budgets_demo)
        registry.add_linkable(
            Schedule,
            label="Schedule",
            choices=lambda user: (
                Schedule.objects.restrict(user, "view")
                .select_related("agreement")
                .order_by("agreement__reference", "number")
            ),
            # A decision about a schedule may be linked to the schedule, one of its lines or virements.
            parts=lambda schedule: [
                (BudgetLine, BudgetLine.objects.filter(schedule=schedule)),
                (Virement, Virement.objects.filter(schedule=schedule)),
            ],
            filter_name="schedule",
            filter_label="Linked schedule",
        )
        registry.add_section(
            "budgets",
            label="Budgets",
            url_name="budgets:index",
            permission="budgets.view_section75agreement",
            order=10,
        )


def load_budgets_demo(ctx) -> None:
    """The budgets part of the demo office, after the core's (commissioning.registry.DEMO_STEPS)."""
    from budgets import demo

    demo.load(partnerships=ctx.partnerships, users=ctx.users, seed=ctx.seed, today=ctx.today)
