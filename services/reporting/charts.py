"""Server-side charts as inline SVG (no JavaScript, no CDN): bars against a target, and the monthly trend.

Each chart has a title (``<title>`` and ``aria-label``), labelled axes or values, a legend, and text at 12–13 px in
colours with at least 4.5:1 contrast on white. The page shows the same figures in a table beside the chart."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from services.reporting.dashboard_schemas import MonthSummary

INK = "#1f2328"
MUTED = "#4b5563"
GRID = "#d1d5db"
GOOD = "#2e7d32"
BAD = "#c62828"
NONE = "#6b7280"
CHECKED = "#546e7a"
PUBLISHED = "#1565c0"


def share(value: Decimal | None) -> str:
    """One way to show a share on the dashboard: ``5%``, ``4.8%`` (one decimal at most), ``—`` for none."""
    if value is None:
        return "—"
    text = f"{(value * 100).quantize(Decimal('0.1'))}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def _open(width: int, height: int, title: str, *, links: bool = False) -> str:
    """The chart fills its card's width but is never drawn larger than its own size (scaled up, its labels would
    grow with it). A chart with links is a group (an image's content cannot be focused)."""
    role = "group" if links else "img"
    return (
        f'<svg class="chart" role="{role}" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="100%"'
        f' style="max-width: {width}px" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">'
        f"<title>{escape(title)}</title>"
    )


def _legend(x: int, y: int, entries: list[tuple[str, str]]) -> str:
    out = []
    for label, colour in entries:
        out.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y}" font-size="12" fill="{INK}">{escape(label)}</text>'
        )
        x += 28 + 13 * len(label)
    return "".join(out)


def target_bars(
    rows: list[tuple[str, Decimal | None]],
    target: Decimal,
    *,
    title: str,
    scale: Decimal | None = None,
    href: list[str] | None = None,
) -> str:
    """One bar per label (a share 0..1) with its value, a dashed line at the target; bars under it are red."""
    scale = scale or max([target * 2, *[v for _, v in rows if v is not None]])
    scale = scale or Decimal(1)
    label_w, bar_w, row_h, top = 190, 380, 28, 28
    height = top + row_h * max(len(rows), 1) + 30
    out = [_open(label_w + bar_w + 70, height, title, links=bool(href))]
    for i, (label, value) in enumerate(rows):
        y = top + i * row_h
        w = 0 if value is None else float(min(value / scale, Decimal(1))) * bar_w
        colour = NONE if value is None else (GOOD if value >= target else BAD)
        name = escape(label)
        if href:
            name = f'<a href="{escape(href[i])}" fill="{PUBLISHED}">{name}</a>'
        out.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="13" fill="{INK}">{name}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="18" fill="{colour}">'
            f"<title>{escape(label)} {share(value)}</title></rect>"
            f'<text x="{label_w + w + 5:.1f}" y="{y + 16}" font-size="13" fill="{INK}">{share(value)}</text>'
        )
    tx = label_w + float(min(target / scale, Decimal(1))) * bar_w
    bottom = top + row_h * max(len(rows), 1)
    out.append(
        f'<line x1="{tx:.1f}" y1="{top - 6}" x2="{tx:.1f}" y2="{bottom}" stroke="{INK}" stroke-dasharray="4 3"/>'
        f'<text x="{tx:.1f}" y="{top - 10}" font-size="12" text-anchor="middle" fill="{INK}">'
        f"目标 {share(target)}</text>"
        + _legend(label_w, bottom + 22, [("达到目标", GOOD), ("未达目标", BAD), ("尚无数据", NONE)])
        + "</svg>"
    )
    return "".join(out)


def _axis(top: int) -> int:
    """The axis maximum: four equal ticks of 1, 2 or 5 × 10^k each, at or above ``top`` (at least 4)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if 4 * m * step >= top:
                return 4 * m * step
        step *= 10


def trend(months: list[MonthSummary], *, title: str) -> str:
    """Twelve months: results checked and published (columns with their values), the on-time share below each
    month, a scale on the left."""
    axis = _axis(max([0, *[m.results for m in months], *[m.published for m in months]]))
    left, group, chart_h, top = 48, 64, 180, 34
    width = left + group * 12 + 10
    base = top + chart_h
    out = [_open(width, base + 62, title), _legend(left, 16, [("检查", CHECKED), ("公示", PUBLISHED)])]
    out.append(f'<text x="{left + 150}" y="16" font-size="12" fill="{MUTED}">月份下方为按期公示率</text>')
    for k in range(5):
        value = axis * k // 4
        y = base - chart_h * k / 4
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="12" text-anchor="end" fill="{MUTED}">{value}</text>'
        )
    for i, m in enumerate(months):
        x = left + i * group + 6
        for j, (count, colour, word) in enumerate(
            ((m.results, CHECKED, "检查"), (m.published, PUBLISHED, "公示"))
        ):
            h = chart_h * count / axis
            cx = x + j * 26
            out.append(
                f'<rect x="{cx}" y="{base - h:.1f}" width="24" height="{h:.1f}" fill="{colour}">'
                f"<title>{m.month}月 {word} {count}</title></rect>"
            )
            if count:
                out.append(
                    f'<text x="{cx + 12}" y="{base - h - 4:.1f}" font-size="11" text-anchor="middle"'
                    f' fill="{INK}">{count}</text>'
                )
        on_time = share(None if not m.published else Decimal(m.on_time) / Decimal(m.published))
        out.append(
            f'<text x="{x + 25}" y="{base + 18}" font-size="12" text-anchor="middle" fill="{INK}">{m.month}月</text>'
            f'<text x="{x + 25}" y="{base + 36}" font-size="11" text-anchor="middle" fill="{MUTED}">{on_time}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def monthly_columns(months: list[MonthSummary], *, title: str) -> str:
    """A department's months (the same chart as the county's trend)."""
    return trend(months, title=title)
