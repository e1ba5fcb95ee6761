import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_ready

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
