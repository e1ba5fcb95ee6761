from django.apps import AppConfig


class BrokerageConfig(AppConfig):
    name = "brokerage"
    verbose_name = "Placements and brokerage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from commissioning import registry

        from . import feeds, selectors, tasks
        from .demo import demo_step
        from .finance import selectors as finance_selectors

        for panel in [*selectors.PANELS, *finance_selectors.PANELS]:
            registry.add_panel(panel)
        registry.add_demo_step(demo_step)
        # Budget lines fed by packages (rules.md, rule 2) read package costs through this feed.
        registry.add_cost_feed("packages", feeds.package_costs)
        registry.add_section(
            "brokerage",
            label="Brokerage",
            url_name="brokerage:index",
            permission="brokerage.view_referral",
            order=20,
        )
        registry.add_section(
            "finance",
            label="Finance",
            url_name="finance:index",
            permission="brokerage.view_invoice",
            order=30,
        )
        registry.add_stalled_work("recharge_runs", find=tasks.stalled_recharge_runs, task=tasks.run_recharge)
        registry.add_stalled_work(
            "region_runs", find=tasks.stalled_region_runs, task=tasks.dispatch_region_run
        )
        registry.add_stalled_work(
            "invoice_pdfs", find=tasks.stalled_invoice_pdfs, task=tasks.render_invoice_pdf
        )
