"""Benchmark of rule 3's packs (quality.md): a members' pack of about 150 pages, timed against bare
WeasyPrint rendering the same HTML and CSS (no outline lookups, no appendix merge, no file write).
``pack_benchmark()`` builds its meeting inside a transaction it rolls back, so it leaves nothing
behind; ``make bench`` (or ``manage.py shell -c``) can call it and print or store the figures."""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction

from commissioning.models import Organisation, Partnership


class _Rollback(Exception):
    pass


def _pdf(pages: int, label: str) -> bytes:
    from commissioning import pdf

    body = "".join(f'<p style="page-break-after: always">{label} page {n}</p>' for n in range(1, pages + 1))
    return pdf.html(f"<html><body>{body}</body></html>").write_pdf()


def pack_benchmark(*, papers: int = 14, paragraphs: int = 30, appendix_pages: int = 4, runs: int = 3) -> dict:
    from commissioning import pdf
    from governance import packs, services

    result: dict = {}
    try:
        with transaction.atomic():
            council = Organisation.objects.create(code="BENCHLA", name="Bench council", kind="council")
            nhs = Organisation.objects.create(code="BENCHNHS", name="Bench ICB", kind="nhs_commissioner")
            partnership = Partnership.objects.create(
                name="Bench place", council=council, nhs_commissioner=nhs
            )
            board = services.board_create(partnership=partnership, name="Bench Board", code="BENCH", by=None)
            meeting = services.meeting_create(
                board=board, starts_at=datetime(2021, 9, 2, 14, tzinfo=ZoneInfo("Europe/London")), by=None
            )
            appendix = _pdf(appendix_pages, "Appendix")
            text = "The integrated service will broker care for clients of both partners. " * 12
            for n in range(1, papers + 1):
                paper = services.paper_create(
                    by=None,
                    board=board,
                    title=f"Paper {n}",
                    executive_summary=text,
                    recommendations=[f"recommendation {k}" for k in range(1, 6)],
                    body="\n\n".join(f"{k}. {text}" for k in range(1, paragraphs + 1)),
                    authors="Bench author",
                )
                services.appendix_add(
                    paper=paper, title=f"Appendix {n}", filename="a.pdf", data=appendix, by=None
                )
                services.agenda_item_add(meeting=meeting, title=paper.title, paper=paper, by=None)
            full, bare = [], []
            page_count = 0
            stages: dict = {}
            for _ in range(runs):
                started = time.perf_counter()
                rendered = packs.render_pack(meeting, "members")
                full.append(time.perf_counter() - started)
                page_count = rendered.page_count
                stages = rendered.timings
                html = packs.pack_html(meeting, "members")
                css = packs.pack_css(meeting, "members")
                started = time.perf_counter()
                pdf.html(html).write_pdf(stylesheets=[css])
                bare.append(time.perf_counter() - started)
            result = {
                "pages": page_count,
                "pack_seconds_median": round(statistics.median(full), 3),
                "bare_weasyprint_seconds_median": round(statistics.median(bare), 3),
                "ratio": round(statistics.median(full) / statistics.median(bare), 2),
                "runs": runs,
                "pack_seconds": [round(t, 3) for t in full],
                "bare_weasyprint_seconds": [round(t, 3) for t in bare],
                "pack_stages_last_run": {k: round(v, 3) for k, v in stages.items()},
            }
            raise _Rollback
    except _Rollback:
        pass
    return result
