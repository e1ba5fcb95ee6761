"""An index for the decision log, read newest first (-decided_on, -reference): the first page no
longer joins and sorts every decision of the partnership (issue 7)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0004_register_changes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="decision",
            index=models.Index(fields=["decided_on", "reference"], name="decision_log_order_idx"),
        ),
    ]
