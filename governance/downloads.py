"""The files governance serves: board packs and paper appendices, answered the same way to the
pages, the API and the public pages. The caller fetches the object through its gate (or, for the
public, from the public record); this module only answers with the file and logs downloads of
exempt content (security.md)."""

from __future__ import annotations

import re

from django.http import FileResponse, Http404

from commissioning.audit import log_access
from commissioning.models import AccessLog
from commissioning.uploads import display_name
from governance import packs
from governance.models import BoardPack, PackAudience, PackStatus, PaperAppendix


class PackNotReady(Exception):
    """The pack is still queued, rendering, or failed: there is no file to give yet."""

    def __init__(self, message: str = "The pack is not ready yet."):
        super().__init__(message)


def pack_response(request, pack: BoardPack) -> FileResponse:
    """The PDF of a ready pack; every download of a members' pack is logged."""
    if pack.status != PackStatus.READY:
        raise PackNotReady
    try:
        path = packs.pack_file(pack)
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    except FileNotFoundError as exc:
        raise Http404("The pack file is missing.") from exc
    if pack.audience == PackAudience.MEMBERS:
        log_access(request=request, obj=pack, action=AccessLog.Action.DOWNLOAD)
    local = pack.meeting.local_date
    name = f"{pack.meeting.board.code}-{local:%Y-%m-%d}-{pack.audience}-v{pack.version}.pdf"
    return FileResponse(handle, as_attachment=True, filename=name, content_type="application/pdf")


def appendix_response(request, appendix: PaperAppendix) -> FileResponse:
    """A paper's PDF appendix under a safe name; every download is logged."""
    try:
        handle = appendix.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The appendix file is missing.") from exc
    log_access(request=request, obj=appendix, action=AccessLog.Action.DOWNLOAD)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=appendix_download_name(appendix.original_name),
        content_type="application/pdf",
    )


def appendix_download_name(name: str | None) -> str:
    """The file name to offer: the upload's display name, sanitised again for a header (letters,
    digits, spaces, ``.``, ``-``, ``_``, ``(``, ``)`` only), always ending ``.pdf``."""
    text = display_name(name, fallback="appendix.pdf")
    text = re.sub(r"[^\w .()-]", "_", text).strip(" .") or "appendix"
    if not text.lower().endswith(".pdf"):
        text = f"{text[:96]}.pdf"
    return text
