import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commissioning.settings")

app = Celery("commissioning")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(lambda: ["commissioning"], related_name="jobs")


@worker_ready.connect
def _recover_stalled_work(**kwargs):
    """A worker that starts queues again the jobs whose messages were lost (commissioning/jobs.py)."""
    from commissioning.jobs import recover_on_worker_start

    recover_on_worker_start(**kwargs)
