"""Bar charts drawn on the server as SVG: no script, no colour needed to read them
(every bar carries its value), and a table of the same figures sits beside each chart
for screen readers and copying."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from evdms.ui import formatting

WIDTH, HEIGHT = 720, 240
TOP, BOTTOM, LEFT = 24, 36, 8


def bar_chart(
    points: Sequence[tuple[str, Decimal | int]], *, title: str, unit: str, money: bool = False
) -> SafeString:
    """One bar per point (label, value), each labelled with its value above it; with
    ``money`` the unit is a currency and a bar's tooltip reads as every amount does
    ("Dec 26: 1.815,00 €")."""
    top = max((v for _, v in points), default=0) or 1
    slot = (WIDTH - LEFT * 2) / max(len(points), 1)
    bar = slot * 0.7
    plot = HEIGHT - TOP - BOTTOM
    bars = []
    for index, (label, value) in enumerate(points):
        height = float(value) / float(top) * plot
        x = LEFT + index * slot + (slot - bar) / 2
        y = TOP + plot - height
        bars.append(
            (
                f"{x:.1f}",
                f"{y:.1f}",
                f"{bar:.1f}",
                f"{max(height, 0.5):.1f}",
                f"{label}: {formatting.money(value, unit)}"
                if money
                else f"{label}: {_exact(value)} {unit}",
                f"{x + bar / 2:.1f}",
                f"{y - 5:.1f}",
                _short(value),
                f"{HEIGHT - BOTTOM + 16:.1f}",
                label,
            )
        )
    body = format_html_join(
        "",
        '<g><title>{4}</title><rect class="bar" x="{0}" y="{1}" width="{2}" height="{3}"/>'
        '<text class="value" x="{5}" y="{6}" text-anchor="middle">{7}</text>'
        '<text class="axis" x="{5}" y="{8}" text-anchor="middle">{9}</text></g>',
        bars,
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'preserveAspectRatio="xMidYMid meet"><line class="baseline" x1="{}" y1="{}" x2="{}" '
        'y2="{}"/>{}</svg>',
        WIDTH,
        HEIGHT,
        f"{title} ({unit})",
        LEFT,
        HEIGHT - BOTTOM,
        WIDTH - LEFT,
        HEIGHT - BOTTOM,
        body,
    )


def _exact(value: Decimal | int) -> str:
    """A bar's value in its tooltip: whole numbers as counts, amounts with two decimals."""
    return formatting.number(value, 2 if isinstance(value, Decimal) else 0)


def _short(value: Decimal | int) -> str:
    """A value short enough to sit above a bar: 1234 → 1,234; 12345.67 → 12.3k (the
    separators of evdms/ui/formatting.py, like every other number)."""
    if value >= 10_000:
        return formatting.number(Decimal(value) / 1000, 1) + "k"
    if isinstance(value, Decimal):
        return formatting.number(value, 0 if value >= 100 else 2)
    return formatting.count(value)
