from django.apps import AppConfig


class BrokerageConfig(AppConfig):
    name = "brokerage"
    verbose_name = "Placements and brokerage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from commissioning.selectors import PANEL_PROVIDERS

        from . import finance_selectors, selectors

        for panel in [*selectors.PANELS, *finance_selectors.PANELS]:
            if panel not in PANEL_PROVIDERS:
                PANEL_PROVIDERS.append(panel)

        from commissioning.demo import DEMO_STEPS

        from .demo import demo_step

        if demo_step not in DEMO_STEPS:
            DEMO_STEPS.append(demo_step)
