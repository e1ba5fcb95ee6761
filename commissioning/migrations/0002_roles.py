"""Creates the role groups. Their permissions are brought in line with the apps' role tables
after every migrate (commissioning.roles.sync_role_permissions on post_migrate)."""

from django.db import migrations

ROLES = (
    "Commissioner",
    "Broker",
    "Brokerage manager",
    "Finance officer",
    "Board secretary",
    "Board member",
    "Auditor",
    "Administrator",
)


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("commissioning", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
