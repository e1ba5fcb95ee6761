"""django-pghistory's context goes before writes, not reads (``commissioning.history
.reads_carry_no_context``): Django writes a UNION as ``(SELECT ...) UNION ALL (SELECT ...)``, which
pghistory took for a write and prefixed with ``SELECT set_config(...)``."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_package_page_reads_its_history_without_the_context_and_writes_with_it(client, broker, package):
    client.force_login(broker)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("brokerage:package", args=[package.pk]))

    assert response.status_code == 200
    (history,) = [q["sql"] for q in queries if "pgh_id" in q["sql"] and "UNION ALL" in q["sql"]]
    assert history.startswith("(SELECT") and "set_config" not in history
    # The access log of the client seen is a write of the same request: it keeps its context.
    (logged,) = [q["sql"] for q in queries if 'INSERT INTO "commissioning_accesslog"' in q["sql"]]
    assert logged.startswith("SELECT set_config('pghistory.context_id'")
