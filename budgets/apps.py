from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = "Section 75 budgets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from budgets.selectors import overspend_panel
        from commissioning.selectors import PANEL_PROVIDERS

        if overspend_panel not in PANEL_PROVIDERS:
            PANEL_PROVIDERS.append(overspend_panel)

        from commissioning.demo import DEMO_STEPS

        if load_budgets_demo not in DEMO_STEPS:
            DEMO_STEPS.append(load_budgets_demo)


def load_budgets_demo(ctx) -> None:
    """The budgets part of the demo office, after the core's (commissioning.demo.DEMO_STEPS)."""
    from budgets import demo

    demo.load(partnerships=ctx.partnerships, users=ctx.users, seed=ctx.seed, today=ctx.today)
