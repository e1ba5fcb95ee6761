import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")

app = Celery("commissioning")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(lambda: ["commissioning"], related_name="jobs")


@worker_ready.connect
def _recover_stalled_work(**kwargs):
    """A worker that starts queues again the jobs whose messages were lost (commissioning/jobs.py)."""
    from commissioning.jobs import recover_on_worker_start
    from commissioning.liveness import record_progress

    record_progress()
    recover_on_worker_start(**kwargs)


@task_prerun.connect
@task_postrun.connect
def _record_progress(**kwargs):
    """Each task that starts or ends is progress (commissioning/liveness.py)."""
    from commissioning.liveness import record_progress

    record_progress()


@worker_process_init.connect
def _keep_database_connections(**kwargs):
    """Each pool child keeps its database connection for ``WORKER_DB_CONN_MAX_AGE`` seconds
    (settings.py), as a web process does for ``DB_CONN_MAX_AGE``: set before the child connects."""
    from django.conf import settings
    from django.db import connections

    for alias in connections:
        connections[alias].settings_dict["CONN_MAX_AGE"] = settings.WORKER_DB_CONN_MAX_AGE


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs):
    """Before and after each task, what Django does before and after each request: close a
    connection that is broken, older than its age, or left out of autocommit; the next query then
    connects again (and with health checks on, a kept connection is pinged before its first use).
    Not for a task run eagerly: it runs inside its caller's transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
