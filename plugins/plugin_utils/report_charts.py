# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's charts as inline SVG text: bars, small stacked bars, a timeline and a trend.

Pure: data in, SVG text out, no I/O and no charting library (four simple shapes do not need one). Every text is
HTML-escaped here, so report.html's template may insert the SVG as it is. Colours are CSS classes (`tone-*`), which
report.html's style sheet sets for light, dark and print; every value is also written as text and each chart has a
<title> and <desc> (screen readers, and a reader who cannot tell two colours apart).
"""

import html
import math

LABEL_WIDTH = 190
ROW_GAP = 10
BAR_HEIGHT = 14
LEGEND_HEIGHT = 24
FONT = 12


def esc(value):
    """Text for SVG or HTML: &, <, >, " and ' escaped."""
    return html.escape("" if value is None else str(value), quote=True)


def fit(text, limit=28):
    """A label cut to `limit` characters (an ellipsis at its end); the chart's <title>s keep it whole."""
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _number(value):
    return ("%.1f" % value).rstrip("0").rstrip(".")


def nice_ceiling(value):
    """The smallest 1, 2 or 5 times a power of ten that is at least value (1 for 0 or less): an axis maximum."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _open(ident, title, description, width, height):
    return [
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-labelledby="%s-title %s-desc" '
        'width="%d" height="%d" viewBox="0 0 %d %d">' % (esc(ident), esc(ident), width, height, width, height),
        '<title id="%s-title">%s</title>' % (esc(ident), esc(title)),
        '<desc id="%s-desc">%s</desc>' % (esc(ident), esc(description)),
    ]


def _legend(entries, y=14, x=0):
    """entries: [(name, tone)] as swatches and names in one line."""
    parts = []
    for name, tone in entries:
        parts.append('<rect class="tone-%s" x="%d" y="%d" width="12" height="12" rx="2"/>' % (esc(tone), x, y - 10))
        parts.append('<text x="%d" y="%d">%s</text>' % (x + 16, y, esc(name)))
        x += 16 + 7 * len(str(name)) + 18
    return parts


def bar_chart(ident, title, description, rows, series, width=640):
    """Grouped horizontal bars: rows [(label, [value per series])], series [(name, tone)]; each bar ends in its value."""
    top = LEGEND_HEIGHT + 6
    group = len(series) * (BAR_HEIGHT + 2) + ROW_GAP
    height = top + max(len(rows), 1) * group
    scale = (width - LABEL_WIDTH - 60) / float(nice_ceiling(max([value for dummy, values in rows for value in values] or [0])))
    parts = _open(ident, title, description, width, height) + _legend(series)
    for index, (label, values) in enumerate(rows):
        y = top + index * group
        parts.append('<text x="%d" y="%d" text-anchor="end"><title>%s</title>%s</text>' % (LABEL_WIDTH - 8, y + group // 2, esc(label), esc(fit(label))))
        for offset, value in enumerate(values):
            name, tone = series[offset]
            bar_y = y + offset * (BAR_HEIGHT + 2)
            length = max(value * scale, 0)
            parts.append('<rect class="tone-%s" x="%d" y="%d" width="%.1f" height="%d"><title>%s, %s: %s</title></rect>'
                         % (esc(tone), LABEL_WIDTH, bar_y, length, BAR_HEIGHT, esc(label), esc(name), esc(value)))
            parts.append('<text class="value" x="%.1f" y="%d">%s</text>' % (LABEL_WIDTH + length + 4, bar_y + BAR_HEIGHT - 3, esc(value)))
    parts.append("</svg>")
    return "\n".join(parts)


def stacked_bars(ident, title, description, rows, tones, width=300):
    """Small 100% stacked bars, one per row: rows [(label, {key: value})], tones {key: tone} (also the order of the
    segments). Each row ends in its total; each segment says its key and value on hover (<title>)."""
    label_width, bar_width, height = 44, width - 44 - 44, len(rows) * (BAR_HEIGHT + 4) + 2
    parts = _open(ident, title, description, width, height)
    for index, (label, values) in enumerate(rows):
        y = 1 + index * (BAR_HEIGHT + 4)
        total = sum(values.get(key, 0) for key in tones)
        parts.append('<text x="0" y="%d">%s</text>' % (y + BAR_HEIGHT - 3, esc(label)))
        parts.append('<rect class="track" x="%d" y="%d" width="%d" height="%d"/>' % (label_width, y, bar_width, BAR_HEIGHT))
        x = float(label_width)
        for key, tone in tones.items():
            value = values.get(key, 0)
            if value <= 0 or total <= 0:
                continue
            length = bar_width * value / float(total)
            parts.append('<rect class="tone-%s" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s %s: %s</title></rect>'
                         % (esc(tone), x, y, length, BAR_HEIGHT, esc(label), esc(key), esc(value)))
            x += length
        parts.append('<text class="value" x="%d" y="%d">%s</text>' % (label_width + bar_width + 4, y + BAR_HEIGHT - 3, esc(total)))
    parts.append("</svg>")
    return "\n".join(parts)


def time_ticks(span):
    """Tick positions (seconds) and their labels for an axis of `span` seconds: 4 to 10 ticks of 1, 2 or 5 units."""
    unit, name = (60.0, "min") if span > 180 else (1.0, "s")
    step = nice_ceiling(max(span / unit, 1e-9) / 8.0) * unit
    count = int(span // step) + 1
    return [(index * step, "%s %s" % (_number(index * step / unit), name)) for index in range(count)]


def timeline_chart(ident, title, description, rows, span, legend, width=760):
    """One row per label, its phases as bars: rows [(label, [(phase, tone, begin, end)])] in seconds from the run's
    start; span: the run's length in seconds; legend [(phase name, tone)]."""
    top, row_height, axis = LEGEND_HEIGHT + 6, BAR_HEIGHT + 8, 22
    height = top + max(len(rows), 1) * row_height + axis
    span = max(float(span), 1.0)
    scale = (width - LABEL_WIDTH - 20) / span
    parts = _open(ident, title, description, width, height) + _legend(legend)
    bottom = top + max(len(rows), 1) * row_height
    for tick, label in time_ticks(span):
        x = LABEL_WIDTH + tick * scale
        parts.append('<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>' % (x, top - 4, x, bottom))
        parts.append('<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, bottom + 15, esc(label)))
    for index, (label, phases) in enumerate(rows):
        y = top + index * row_height
        parts.append('<text x="%d" y="%d" text-anchor="end"><title>%s</title>%s</text>' % (LABEL_WIDTH - 8, y + BAR_HEIGHT - 2, esc(label), esc(fit(label))))
        for phase, tone, begin, end in phases:
            begin, end = max(float(begin), 0.0), min(max(float(end), float(begin)), span)
            parts.append('<rect class="tone-%s" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s, %s: %s s to %s s</title></rect>'
                         % (esc(tone), LABEL_WIDTH + begin * scale, y, max((end - begin) * scale, 1.0), BAR_HEIGHT,
                            esc(label), esc(phase), _number(begin), _number(end)))
    parts.append("</svg>")
    return "\n".join(parts)


def trend_chart(ident, title, description, points, series, width=760):
    """Lines over the last runs: points [(label, {key: value})] oldest first, series [(key, name, tone)]. Each point
    is a marker that says its run, series and value (<title>); the first and the last run are named under the axis."""
    top, plot_height, left, axis = LEGEND_HEIGHT + 10, 140, 50, 34
    height = top + plot_height + axis
    highest = nice_ceiling(max([values.get(key, 0) for dummy, values in points for key, dummy2, dummy3 in series] or [0]))
    step_x = (width - left - 20) / float(max(len(points) - 1, 1))
    parts = _open(ident, title, description, width, height) + _legend([(name, tone) for dummy, name, tone in series])
    for fraction in (0, 0.5, 1):
        y = top + plot_height - fraction * plot_height
        parts.append('<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>' % (left, y, width - 10, y))
        parts.append('<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>' % (left - 6, y + 4, _number(highest * fraction)))
    for key, name, tone in series:
        coordinates = [(left + index * step_x, top + plot_height - values.get(key, 0) * plot_height / float(highest))
                       for index, (dummy, values) in enumerate(points)]
        if len(coordinates) > 1:
            parts.append('<polyline class="line tone-%s" points="%s"/>' % (esc(tone), " ".join("%.1f,%.1f" % point for point in coordinates)))
        for (x, y), (label, values) in zip(coordinates, points, strict=True):
            parts.append('<circle class="tone-%s" cx="%.1f" cy="%.1f" r="3.5"><title>%s: %s %s</title></circle>'
                         % (esc(tone), x, y, esc(label), esc(name), esc(values.get(key, 0))))
    for index in sorted({0, len(points) - 1}) if points else ():
        anchor = "start" if index == 0 and len(points) > 1 else "end"
        parts.append('<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>'
                     % (left + index * step_x, top + plot_height + 18, anchor, esc(points[index][0])))
    parts.append("</svg>")
    return "\n".join(parts)
