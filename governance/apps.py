from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Boards and decisions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commissioning import registry
        from governance import tasks
        from governance.selectors import register_history, upcoming_meetings_panel

        register_history()

        registry.add_panel(upcoming_meetings_panel)
        registry.add_demo_step(load_governance_demo)
        registry.add_section(
            "governance",
            label="Governance",
            url_name="governance:index",
            permission="governance.view_board",
            order=40,
        )
        registry.add_stalled_work("packs", find=tasks.stalled_packs, task=tasks.generate_pack)


def load_governance_demo(ctx) -> None:
    """The boards and meetings of the demo office, after the core's (commissioning.registry.DEMO_STEPS)."""
    from governance import demo

    demo.load(partnerships=ctx.partnerships, users=ctx.users, seed=ctx.seed, today=ctx.today)
