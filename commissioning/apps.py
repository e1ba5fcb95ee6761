from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommissioningConfig(AppConfig):
    name = "commissioning"
    verbose_name = "Shared core and contracts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commissioning import constraints, history
        from commissioning.roles import sync_role_permissions
        from commissioning.selectors import register_history

        register_history()
        history.reads_carry_no_context()
        constraints.install()  # every app's models are loaded by now

        from commissioning import registry

        registry.add_section("dashboard", label="Home", url_name="dashboard", order=0)
        registry.add_section(
            "contracts",
            label="Contracts",
            url_name="contracts:list",
            permission="commissioning.view_contract",
            order=60,
        )
        registry.add_section(
            "audit",
            label="Audit",
            url_name="audit:index",
            permission="commissioning.view_audittrail",
            order=70,
        )

        post_migrate.connect(sync_role_permissions, dispatch_uid="commissioning.sync_role_permissions")
