"""A server-rendered SVG chart of a schedule's budget against its forecast outturn by month.

No JavaScript and no ``style`` attributes (the site's Content-Security-Policy is ``style-src 'self'``
and WeasyPrint renders the same markup in board packs): only SVG presentation attributes. The
chart is an image with a title and description; the page shows the same figures in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from commissioning.money import format_money

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 92, 16, 48, 56
# GOV.UK colours with enough contrast against white for graphics (WCAG 1.4.11).
BLUE, BLACK, GREY, RED, LIGHT = "#1d70b8", "#0b0c0c", "#505a5f", "#d4351c", "#b1b4b6"
FONT = "Arial, Helvetica, sans-serif"


@dataclass(frozen=True)
class ChartPoint:
    period: date
    budget: Decimal
    forecast: Decimal | None  # None: no position reported yet for that month
    actual: Decimal | None


def _nice_max(value: Decimal) -> Decimal:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return Decimal(1000)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, Decimal("2.5"), 5, 10):
        candidate = magnitude * step
        if candidate >= value:
            return candidate
    return magnitude * 10


def _short_money(value: Decimal) -> str:
    """An axis label: ``£1.5m``, ``£200k``, ``£750``, rounded half up as every amount shown is."""
    value = Decimal(value)

    def rounded(amount: Decimal, places: str) -> str:
        return f"{amount.quantize(Decimal(places), rounding=ROUND_HALF_UP):,}"

    if value >= 1_000_000:
        return f"£{rounded(value / 1_000_000, '0.1')}m".replace(".0m", "m")
    if value >= 1_000:
        return f"£{rounded(value / 1_000, '1')}k"
    return f"£{rounded(value, '1')}"


def budget_forecast_svg(points: Sequence[ChartPoint], *, title: str, chart_id: str = "chart") -> SafeString:
    """The SVG markup (safe to insert into a page or a PDF template)."""
    ids = {"title": f"{chart_id}-title", "desc": f"{chart_id}-desc"}
    top_value = max(
        [p.budget for p in points]
        + [p.forecast for p in points if p.forecast is not None]
        + [p.actual for p in points if p.actual is not None]
        + [Decimal(0)]
    )
    axis_max = _nice_max(top_value * Decimal("1.05"))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)

    def y(value: Decimal) -> float:
        return round(TOP + plot_h - float(value / axis_max) * plot_h, 1)

    reported = [p for p in points if p.forecast is not None]
    latest = reported[-1] if reported else None
    if latest is not None:
        variance = latest.forecast - latest.budget
        word = "overspend" if variance > 0 else "underspend" if variance < 0 else "on budget"
        description = (
            f"Budget {format_money(latest.budget)}; forecast outturn at {latest.period:%B %Y} "
            f"{format_money(latest.forecast)}, a forecast {word}"
            + (f" of {format_money(abs(variance))}." if variance else ".")
        )
    else:
        description = "No monthly positions have been reported for this year yet."

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{ids["title"]} {ids["desc"]}" '
        f'font-family="{FONT}" font-size="13" fill="{BLACK}">',
        f'<title id="{ids["title"]}">{escape(title)}</title>',
        f'<desc id="{ids["desc"]}">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    # Grid and y-axis labels: five steps.
    for step in range(6):
        value = axis_max * step / 5
        gy = y(value)
        parts.append(
            f'<line x1="{LEFT}" y1="{gy}" x2="{WIDTH - RIGHT}" y2="{gy}" stroke="{LIGHT}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 8}" y="{gy + 4}" text-anchor="end" fill="{GREY}">{_short_money(value)}</text>'
        )
    # Bars: forecast outturn (blue) and actual to date (grey) per month; month labels.
    bar_w = max(slot * 0.34, 2)
    for index, point in enumerate(points):
        x0 = LEFT + index * slot + slot * 0.14
        label_x = round(LEFT + index * slot + slot / 2, 1)
        if point.forecast is not None:
            top = y(point.forecast)
            over = point.forecast > point.budget
            parts.append(
                f'<rect x="{round(x0, 1)}" y="{top}" width="{round(bar_w, 1)}" '
                f'height="{round(TOP + plot_h - top, 1)}" fill="{RED if over else BLUE}">'
                f"<title>{point.period:%b %Y} forecast outturn {format_money(point.forecast)}</title></rect>"
            )
        if point.actual is not None:
            top = y(point.actual)
            parts.append(
                f'<rect x="{round(x0 + bar_w + 2, 1)}" y="{top}" width="{round(bar_w, 1)}" '
                f'height="{round(TOP + plot_h - top, 1)}" fill="{GREY}">'
                f"<title>{point.period:%b %Y} actual to date {format_money(point.actual)}</title></rect>"
            )
        parts.append(
            f'<text x="{label_x}" y="{TOP + plot_h + 18}" text-anchor="middle">{point.period:%b}</text>'
        )
    # Budget: a dashed step line across the months.
    if points:
        path = []
        for index, point in enumerate(points):
            x_start, x_end = LEFT + index * slot, LEFT + (index + 1) * slot
            by = y(point.budget)
            path.append(f"{'M' if index == 0 else 'L'}{round(x_start, 1)},{by} L{round(x_end, 1)},{by}")
        parts.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{BLACK}" stroke-width="2" '
            f'stroke-dasharray="8 4"/>'
        )
    # Axes.
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        f'stroke="{BLACK}" stroke-width="1"/>'
    )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="{BLACK}" stroke-width="1"/>'
    )
    if points:
        first, last = points[0].period, points[-1].period
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 12}" text-anchor="middle" fill="{GREY}">'
            f"{first:%B %Y} to {last:%B %Y}</text>"
        )
    # Legend.
    legend = [
        ("rect", BLUE, "Forecast outturn"),
        ("rect", RED, "Forecast above budget"),
        ("rect", GREY, "Actual to date"),
        ("line", BLACK, "Budget"),
    ]
    lx = LEFT
    for kind, colour, label in legend:
        if kind == "rect":
            parts.append(f'<rect x="{lx}" y="14" width="14" height="14" fill="{colour}"/>')
        else:
            parts.append(
                f'<line x1="{lx}" y1="21" x2="{lx + 18}" y2="21" stroke="{colour}" stroke-width="2" '
                f'stroke-dasharray="8 4"/>'
            )
        parts.append(f'<text x="{lx + 22}" y="26">{escape(label)}</text>')
        lx += 30 + len(label) * 7
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text part above is escaped or numeric
