from django.apps import AppConfig


class BrokerageConfig(AppConfig):
    name = "brokerage"
    verbose_name = "Placements and brokerage"
    default_auto_field = "django.db.models.BigAutoField"
