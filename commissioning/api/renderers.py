"""``?format=csv`` on every list and report: the same rows as the JSON, flattened, written by the
product's one CSV writer (``commissioning.exports.csv_lines``), so the API's files and the pages'
exports share one dialect and one formula neutraliser (api.md)."""

from __future__ import annotations

import json
from itertools import chain

from rest_framework.renderers import BaseRenderer

from commissioning.exports import csv_lines


def _flatten(row, prefix=""):
    """A row's cells by column (nested keys joined by dots); lists of objects as JSON text."""
    out = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            out[name] = (
                json.dumps(value, default=str)
                if any(isinstance(v, dict) for v in value)
                else "; ".join(str(v) for v in value)
            )
        else:
            out[name] = value
    return out


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if isinstance(data, dict) and "results" in data:
            rows = data["results"]
        elif isinstance(data, list):
            rows = data
        elif isinstance(data, dict) and isinstance(data.get("rows"), list):
            rows = data["rows"]
        else:
            rows = [data]
        flat = [_flatten(r) if isinstance(r, dict) else {"value": r} for r in rows]
        response = renderer_context.get("response") if renderer_context else None
        view = renderer_context.get("view") if renderer_context else None
        header: list[str] = list(dict.fromkeys(chain.from_iterable(flat)))  # every column, in order
        if not header and not rows:
            # An empty list still gets its header row, so a script reading columns does not break.
            header = _serializer_columns(view, response)
        table = chain([header], ([r.get(k) for k in header] for r in flat))
        if response is not None and view is not None:
            name = getattr(view, "csv_filename", None) or getattr(view, "basename", None) or "export"
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return "".join(csv_lines(table)).encode(self.charset)


def _serializer_columns(view, response) -> list[str]:
    if view is None or not hasattr(view, "get_serializer"):
        return []
    if response is not None and response.status_code >= 400:
        return []
    try:
        fields = view.get_serializer().fields
    except Exception:  # noqa: BLE001 - a header is a courtesy; never fail the export over it
        return []
    return [name for name, field in fields.items() if not field.write_only]
