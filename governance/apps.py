from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Boards and decisions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commissioning.selectors import PANEL_PROVIDERS
        from governance.selectors import upcoming_meetings_panel

        if upcoming_meetings_panel not in PANEL_PROVIDERS:
            PANEL_PROVIDERS.append(upcoming_meetings_panel)

        from commissioning.demo import DEMO_STEPS

        if load_governance_demo not in DEMO_STEPS:
            DEMO_STEPS.append(load_governance_demo)


def load_governance_demo(ctx) -> None:
    """The boards and meetings of the demo office, after the core's (commissioning.demo.DEMO_STEPS)."""
    from governance import demo

    demo.load(partnerships=ctx.partnerships, users=ctx.users, seed=ctx.seed, today=ctx.today)
