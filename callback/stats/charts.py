"""Charts as server-side SVG: no script, no internet, no inline style (the CSP allows neither).

Colours and fonts come from static/css/huifang.css (`.chart …` classes); sizes are SVG presentation
attributes. Every chart has a title for screen readers, and its numbers are in the table beside it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
LABEL_WIDTH = 220
BAR_AREA = 400
ROW = 26


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown (a count, a percentage)
    href: str = ""


def _svg(body: list[str], *, height: int, title: str, slug: str) -> SafeString:
    head = (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="chart-{slug}">'
        f'<title id="chart-{slug}">{escape(title)}</title>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text above and below is escaped


def bar_chart(bars: Sequence[Bar], *, title: str, slug: str, tone: str = "bad") -> SafeString:
    """Horizontal bars, largest first as given; each bar links to its drill-down when it has one."""
    if not bars:
        return mark_safe("")
    top = max((b.value for b in bars), default=0) or 1
    body = []
    for i, bar in enumerate(bars):
        y = 6 + i * ROW
        width = max(1.0, BAR_AREA * bar.value / top) if bar.value else 0
        label = bar.label if len(bar.label) <= 16 else bar.label[:15] + "…"
        row = (
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="chart-bar {tone}" x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" '
            f'height="{ROW - 8}" rx="2"/>'
            f'<text class="chart-value" x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 15}">'
            f"{escape(bar.text)}</text>"
        )
        if bar.href:
            row = f'<a href="{escape(bar.href)}">{row}</a>'
        body.append(row)
    return _svg(body, height=12 + len(bars) * ROW, title=title, slug=slug)


def rate_chart(points: Sequence[Bar], *, title: str, slug: str) -> SafeString:
    """Columns of a rate (0–100 %) over time, with grid lines at 0, 50 and 100 %."""
    if not points:
        return mark_safe("")
    height, left, bottom, top_pad = 240, 48, 40, 12
    plot_h = height - bottom - top_pad
    plot_w = WIDTH - left - 12
    step = plot_w / len(points)
    body = []
    for pct in (0, 50, 100):
        y = top_pad + plot_h * (1 - pct / 100)
        body.append(
            f'<line class="chart-grid" x1="{left}" x2="{WIDTH - 12}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart-axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>'
        )
    every = max(1, len(points) // 12)
    for i, point in enumerate(points):
        x = left + i * step + step * 0.15
        h = plot_h * max(0.0, min(1.0, point.value))
        bar = (
            f'<rect class="chart-bar ok" x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" '
            f'width="{step * 0.7:.1f}" height="{h:.1f}">'
            f"<title>{escape(point.label)}: {escape(point.text)}</title></rect>"
        )
        body.append(f'<a href="{escape(point.href)}">{bar}</a>' if point.href else bar)
        if i % every == 0:
            body.append(
                f'<text class="chart-axis" x="{x + step * 0.35:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(point.label)}</text>'
            )
    return _svg(body, height=height, title=title, slug=slug)
