"""``?format=csv`` on every list and report: the same rows as the JSON, flattened."""

from __future__ import annotations

import csv
import io
import json
from itertools import chain

from rest_framework.renderers import BaseRenderer


def _flatten(row, prefix=""):
    """A row's cells by column (nested keys joined by dots), each made safe (``_safe``)."""
    out = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if value is None:
            out[name] = ""
        elif isinstance(value, str):
            out[name] = _safe(value) if value[:1] in _FORMULA_START else value
        elif isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            out[name] = _safe(
                json.dumps(value, default=str)
                if any(isinstance(v, dict) for v in value)
                else "; ".join(str(v) for v in value)
            )
        else:
            out[name] = value  # a number or a boolean: nothing to neutralise
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
        flat = [_flatten(r) if isinstance(r, dict) else {"value": _safe(r)} for r in rows]
        response = renderer_context.get("response") if renderer_context else None
        view = renderer_context.get("view") if renderer_context else None
        header: list[str] = list(dict.fromkeys(chain.from_iterable(flat)))  # every column, in order
        if not header and not rows:
            # An empty list still gets its header row, so a script reading columns does not break.
            header = _serializer_columns(view, response)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([r.get(k, "") for k in header] for r in flat)
        if response is not None and view is not None:
            name = getattr(view, "csv_filename", None) or getattr(view, "basename", None) or "export"
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return buffer.getvalue().encode(self.charset)


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


_FORMULA_START = frozenset(("=", "+", "-", "@", "\t", "\r"))


def _safe(value):
    """Neutralise spreadsheet formula injection in exported text (OWASP: = + - @ tab CR)."""
    if isinstance(value, str) and value[:1] in _FORMULA_START and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
