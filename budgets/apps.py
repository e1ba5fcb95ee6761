from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = "Section 75 budgets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from budgets import services
        from budgets.api.serializers import ContractScheduleField
        from budgets.filtersets import ContractScheduleFilter
        from budgets.models import BudgetLine, Schedule, Section75Agreement, Variation, Virement
        from budgets.selectors import overspend_panel, reviews
        from budgets.selectors.history import register_history
        from commissioning import registry
        from commissioning.models import Contract

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
        from budgets import tasks

        registry.add_stalled_work(
            "fund_statements", find=tasks.stalled_fund_statements, task=tasks.render_fund_statement
        )
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
                (BudgetLine, BudgetLine.objects.filter(schedule=schedule).select_related("funding_stream")),
                (Virement, Virement.objects.filter(schedule=schedule).select_related("from_line", "to_line")),
            ],
            part_models=(BudgetLine, Virement),
            filter_name="schedule",
            filter_label="Linked schedule",
        )
        # A decision may approve or vary an agreement, or one of its variations.
        registry.add_linkable(
            Section75Agreement,
            label="Agreement",
            choices=lambda user: Section75Agreement.objects.restrict(user, "view").order_by("reference"),
            parts=lambda agreement: [(Variation, Variation.objects.filter(agreement=agreement))],
            part_models=(Variation,),
        )
        registry.add_extension_field(
            Contract,
            name="schedule",
            api_field=lambda: ContractScheduleField(),
            save=lambda *, instance, value, by: services.contract_schedule_set(
                contract=instance, schedule=value, by=by
            ),
            select_related=("funding_schedule_link",),
            rows=contract_schedule_rows,
            filter=lambda: ContractScheduleFilter(),
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


def contract_schedule_rows(user, contract) -> list:
    """The contract page's row for the schedule funding it (``registry.detail_rows``): the
    schedule, linked when the user may open it, and where to change it for those who may."""
    from django.urls import reverse

    from budgets.models import ContractSchedule, Schedule
    from commissioning.models import Contract
    from commissioning.permissions import has_model_permission
    from commissioning.registry import DetailRow

    if not has_model_permission(user, ContractSchedule, "view"):
        return []
    link = ContractSchedule.objects.filter(contract=contract).select_related("schedule__agreement").first()
    schedule = link.schedule if link else None
    visible = schedule is not None and Schedule.objects.restrict(user, "view").filter(pk=schedule.pk).exists()
    may_change = (
        has_model_permission(user, ContractSchedule, "change")
        and Contract.objects.restrict(user, "change").filter(pk=contract.pk).exists()
    )
    return [
        DetailRow(
            label="Section 75 schedule",
            text=f"{schedule.agreement.reference}, {schedule}" if schedule else "None",
            url=schedule.get_absolute_url() if visible else "",
            change_url=reverse("budgets:contract-schedule", args=[contract.pk]) if may_change else "",
        )
    ]
