from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommissioningConfig(AppConfig):
    name = "commissioning"
    verbose_name = "Shared core and contracts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commissioning.roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="commissioning.sync_role_permissions")
