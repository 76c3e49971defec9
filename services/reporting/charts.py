"""Server-side charts as inline SVG (no JavaScript, no CDN): horizontal bars against a target, monthly columns."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from services.reporting.dashboard_schemas import MonthSummary


def _open(width: int, height: int, title: str) -> str:
    """The chart fills its card's width but is never drawn larger than its own size: scaled up, its 11–12 px labels
    would grow with it (a twelve-month chart in a full-width card had 26 px month names)."""
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="100%"'
        f' style="max-width: {width}px" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    )


def target_bars(
    rows: list[tuple[str, Decimal | None]],
    target: Decimal,
    *,
    title: str,
    scale: Decimal | None = None,
    href: list[str] | None = None,
) -> str:
    """One bar per label (a share 0..1), a dashed line at the target; bars under the target are red."""
    scale = scale or max([target * 2, *[v for _, v in rows if v is not None]])
    scale = scale or Decimal(1)
    label_w, bar_w, row_h = 150, 360, 26
    height = 30 + row_h * max(len(rows), 1)
    out = [_open(label_w + bar_w + 70, height, title)]
    for i, (label, value) in enumerate(rows):
        y = 20 + i * row_h
        w = 0 if value is None else float(min(value / scale, Decimal(1))) * bar_w
        colour = "#b8b8b8" if value is None else ("#2e7d32" if value >= target else "#c62828")
        text = "—" if value is None else f"{(value * 100).quantize(Decimal('0.1'))}%"
        name = escape(label)
        if href:
            name = f'<a href="{escape(href[i])}">{name}</a>'
        out.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">{name}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" fill="{colour}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" font-size="12">{text}</text>'
        )
    tx = label_w + float(min(target / scale, Decimal(1))) * bar_w
    out.append(
        f'<line x1="{tx:.1f}" y1="12" x2="{tx:.1f}" y2="{height - 4}" stroke="#333" stroke-dasharray="4 3"/>'
        f'<text x="{tx:.1f}" y="10" font-size="11" text-anchor="middle">目标 {target * 100:g}%</text></svg>'
    )
    return "".join(out)


def monthly_columns(months: list[MonthSummary], *, title: str) -> str:
    """Twelve month groups: results checked (grey) and published (blue)."""
    top = max([1, *[m.results for m in months]])
    col_w, chart_h, left = 60, 140, 40
    out = [
        _open(left + col_w * 12 + 10, chart_h + 50, title),
        f'<text x="{left - 4}" y="14" font-size="10" text-anchor="end">{top}</text>'
        f'<line x1="{left}" y1="{chart_h + 10}" x2="{left + col_w * 12}" y2="{chart_h + 10}" stroke="#999"/>',
    ]
    for i, m in enumerate(months):
        x = left + i * col_w + 4
        for j, (key, colour) in enumerate((("results", "#9e9e9e"), ("published", "#1565c0"))):
            count: int = getattr(m, key)
            h = chart_h * count / top
            out.append(
                f'<rect x="{x + j * 24}" y="{chart_h + 10 - h:.1f}" width="22" height="{h:.1f}" fill="{colour}">'
                f"<title>{m.month}月 {'检查' if key == 'results' else '公示'} {count}</title></rect>"
            )
        out.append(
            f'<text x="{x + 23}" y="{chart_h + 26}" font-size="11" text-anchor="middle">{m.month}月</text>'
        )
    out.append(
        f'<text x="{left}" y="{chart_h + 46}" font-size="11" fill="#9e9e9e">■ 检查</text>'
        f'<text x="{left + 60}" y="{chart_h + 46}" font-size="11" fill="#1565c0">■ 公示</text></svg>'
    )
    return "".join(out)
