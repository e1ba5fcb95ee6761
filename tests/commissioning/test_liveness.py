"""Issue 19 points 5 and 6: the worker liveness verdict, the settings and stack that act on it,
and ``make run`` stopping a child's whole process group (a crashed worker's beat included)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from commissioning import liveness
from commissioning.management.commands.rundev import stop_groups


@pytest.fixture
def progress(settings, tmp_path):
    settings.WORKER_PROGRESS_FILE = str(tmp_path / "progress")
    return Path(settings.WORKER_PROGRESS_FILE)


def test_not_alive_only_when_work_waits_and_nothing_progressed(progress, monkeypatch):
    waiting = {"n": 0}
    monkeypatch.setattr(liveness, "waiting_messages", lambda queues: waiting["n"])
    assert liveness.check(limit_seconds=60).alive  # never ran, nothing waiting: idle, not jammed
    waiting["n"] = 2
    assert not liveness.check(limit_seconds=60).alive  # work waits and no worker ever showed progress
    liveness.record_progress()
    started = liveness.last_progress()
    assert liveness.check(limit_seconds=60, now=started + 59).alive
    verdict = liveness.check(limit_seconds=60, now=started + 61)
    assert not verdict.alive
    assert verdict.message == (
        "Worker NOT alive: 2 message(s) waiting; last task started or ended 61 s ago (limit 60 s)."
    )
    waiting["n"] = 0
    assert liveness.check(limit_seconds=60, now=started + 3600).alive  # idle for an hour is fine


def test_waiting_messages_are_counted_on_the_filesystem_broker(settings, tmp_path):
    from commissioning.embedded import filesystem_broker_options

    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(tmp_path)
    queue = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    (queue / "1_a.work.msg").write_text("{}")
    (queue / "2_b.work.msg").write_text("{}")
    (queue / "3_c.other.msg").write_text("{}")
    assert liveness.waiting_messages(["work"]) == 2


def test_task_signals_record_progress(progress):
    from celery.signals import task_postrun, task_prerun

    task_prerun.send(sender=None, task_id="x", task=None)
    first = liveness.last_progress()
    assert first is not None
    time.sleep(0.01)
    task_postrun.send(sender=None, task_id="x", task=None)
    assert liveness.last_progress() > first


def test_pool_children_have_task_and_memory_limits():
    assert settings.CELERY_WORKER_MAX_TASKS_PER_CHILD == 100
    assert settings.CELERY_WORKER_MAX_MEMORY_PER_CHILD == 512_000
    assert settings.WORKER_LIVENESS_SECONDS > 330  # longer than a pack's hard time limit
    assert settings.CELERY_BEAT_SCHEDULE["worker-probe"]["options"] == {"expires": 120}


def test_the_compose_worker_is_killed_and_restarted_when_jammed():
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())
    worker = compose["services"]["worker"]
    assert worker["init"] is True and worker["restart"] == "unless-stopped"
    assert "--pidfile /tmp/celery-worker.pid" in worker["command"]
    assert worker["healthcheck"]["test"] == [
        "CMD", "python", "manage.py", "worker_liveness", "--kill-pidfile", "/tmp/celery-worker.pid"
    ]  # fmt: skip


def test_stopping_a_child_stops_its_whole_group_even_after_the_child_died(tmp_path):
    """The worker crashed (its main process gone) but its beat lives on in its group."""
    pidfile = tmp_path / "orphan.pid"
    child = subprocess.Popen(  # noqa: S603 - a fixed command line
        ["/bin/sh", "-c", f"sleep 300 & echo $! > {pidfile}; exit 3"], start_new_session=True
    )
    child.wait(timeout=10)
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    orphan = int(pidfile.read_text())
    os.kill(orphan, 0)  # still running, in the dead child's group

    stop_groups([child], timeout=5)

    deadline = time.monotonic() + 5
    while True:
        try:
            os.kill(orphan, 0)
        except ProcessLookupError:
            break
        # a zombie still answers kill(0) until its parent (init) reaps it
        state = (
            Path(f"/proc/{orphan}/stat").read_text().split()[2] if Path(f"/proc/{orphan}").exists() else "Z"
        )
        if state == "Z":
            break
        assert time.monotonic() < deadline, "the orphan outlived the stop"
        time.sleep(0.05)


def test_make_run_restarts_a_jammed_worker_and_leaves_the_web_server(progress, monkeypatch):
    from commissioning.management.commands import rundev

    stopped, spawned = [], []
    monkeypatch.setattr(rundev, "stop_groups", lambda children, timeout: stopped.extend(children))
    monkeypatch.setattr(rundev, "_spawn", lambda argv, env: spawned.append(argv) or "new worker")
    command = rundev.Command()
    command._names, command._children = ["web", "worker"], ["web server", "old worker"]
    command._worker_argv, command._env = ["celery", "worker"], {}

    monkeypatch.setattr(liveness, "waiting_messages", lambda queues: 0)
    command._check_worker()
    assert stopped == [] and spawned == []  # idle is fine

    monkeypatch.setattr(liveness, "waiting_messages", lambda queues: 3)
    progress.write_text('{"at": 0}')  # nothing since 1970
    command._check_worker()
    assert stopped == ["old worker"] and spawned == [["celery", "worker"]]
    assert command._children == ["web server", "new worker"]
    assert liveness.check().alive  # the new worker gets the full limit to show progress
