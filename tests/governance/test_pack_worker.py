"""Pack generation through a real Celery worker process (the worker fixture of
tests/integration/test_celery_worker.py: its own queue, the test database, a temporary VAR_DIR)."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from governance import services
from governance.models import BoardPack, PackStatus
from governance.tasks import generate_pack
from tests.governance.factories import pdf_bytes, secretary_of
from tests.integration.test_celery_worker import (  # noqa: F401 - pytest fixtures
    mail_dir,
    shared_broker,
    worker,
    worker_queue,
    worker_var_dir,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_renders_the_pack_once_and_reports_progress(
    scene,
    secretary,
    worker,  # noqa: F811 - the imported fixture
    worker_var_dir,  # noqa: F811 - the imported fixture
    settings,
):
    # The worker reads uploads from, and writes packs to, its own VAR_DIR (unless the environment
    # names other folders, which it then inherits like this process).
    settings.MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", worker_var_dir / "media"))
    pdf_root = Path(os.environ.get("PDF_ROOT", worker_var_dir / "pdfs"))
    paper = services.paper_create(
        by=None, board=scene.board, title="Integrated Placements and Brokerage", body="Report."
    )
    services.agenda_item_update(item=scene.item, paper=paper, by=None)
    services.appendix_add(
        paper=paper, title="Financial model", filename="m.pdf", data=pdf_bytes(2, "Model page"), by=None
    )

    secretary_of(secretary, scene.board)
    pack = services.pack_request(meeting=scene.meeting, audience="members", by=secretary)  # queued on commit

    started = time.monotonic()
    while BoardPack.objects.get(pk=pack.pk).status in (PackStatus.QUEUED, PackStatus.RENDERING):
        if worker.process.poll() is not None or time.monotonic() - started > 90:
            pytest.fail(f"the pack was not rendered; worker log:\n{worker.output()}")
        time.sleep(0.5)
    pack.refresh_from_db()
    assert pack.status == PackStatus.READY, pack.error
    assert pack.progress == 100 and pack.started_at and pack.finished_at
    data = (pdf_root / pack.file).read_bytes()
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == pack.page_count
    assert sum("Model page" in (page.extract_text() or "") for page in reader.pages) == 2

    # A redelivered task (acks_late) renders nothing new: still one version, same file.
    again = generate_pack.delay(pack.pk)
    assert worker.wait_for(again) == PackStatus.READY
    assert BoardPack.objects.filter(meeting=scene.meeting).count() == 1
    assert (pdf_root / pack.file).read_bytes() == data
