"""An index for the package lists (page and API), read in the order (-start, -id): the first page
no longer sorts every package of the partnership (issue 7)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("brokerage", "0005_invoice_line_history_per_statement"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="package",
            index=models.Index(fields=["start", "id"], name="package_start_idx"),
        ),
    ]
