"""Draws throughput and p99 against connections, per endpoint and backend, as SVG.

    python3 bench/chart.py [bench/out/results.json] [out.svg]

Standard library only; called by bench.py at the end of every run.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from xml.sax.saxutils import escape

ENDPOINTS = [("create", "POST /v1/account_sessions"),
             ("claim", "POST /v1/account_sessions/claim"),
             ("accounts", "POST /v1/accounts")]
COLORS = {"ceiling": "#777777", "sqlite": "#1f77b4", "postgres": "#ff7f0e"}
PANEL_W, PANEL_H = 330, 230
MARGIN_L, MARGIN_T, GAP_X, GAP_Y = 80, 100, 60, 70
# Lines that results.json files from before issue 15 lack; drawn only when present, so
# that those files still draw byte for byte as they did.
IDEMPOTENT = " idempotent"  # "<backend> idempotent": the scenario with an Idempotency-Key
IDEMPOTENT_OF = {"create": "create_idempotent", "claim": "claim_idempotent"}
PGBENCH = "pgbench"
PGBENCH_COLOR = "#8c564b"
LEGEND_ROW = 20


def style(name: str) -> tuple[str, str]:
    """(color, SVG dash attribute) of a line."""
    if name == "ceiling":
        return COLORS["ceiling"], ' stroke-dasharray="6 4"'
    if name == PGBENCH:
        return PGBENCH_COLOR, ' stroke-dasharray="2 3"'
    if name.endswith(IDEMPOTENT):
        return COLORS.get(name[:-len(IDEMPOTENT)], "#2ca02c"), ' stroke-dasharray="9 3 2 3"'
    return COLORS.get(name, "#2ca02c"), ""


def legend_label(name: str) -> str:
    if name == "ceiling":
        return "ceiling: same HTTP stack, response from memory"
    if name == PGBENCH:
        return "pgbench: PostgreSQL's one-row insert"
    if name.endswith(IDEMPOTENT):
        return f"{name[:-len(IDEMPOTENT)]}, Idempotency-Key"
    return name


def nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def series(results: dict) -> dict:
    """{metric: {endpoint: {line: [(connections, value)]}}}"""
    out: dict = {"rps": {}, "p99_ms": {}}
    conns = [str(c) for c in results.get("config", {}).get("connections", [])]
    for metric in out:
        for endpoint, _ in ENDPOINTS:
            lines: dict = {}
            ceiling = []
            for n in conns:
                runs = [results.get("ceiling", {}).get(n)]
                runs = [r for r in runs if r]
                if runs:
                    ceiling.append((int(n), sum(r[metric] for r in runs) / len(runs)))
            if ceiling:
                lines["ceiling"] = ceiling
            for backend, data in results.get("backends", {}).items():
                points = []
                for n in conns:
                    r = data.get("endpoints", {}).get(endpoint, {}).get(n)
                    if r and r.get(metric) is not None:
                        points.append((int(n), r[metric]))
                if points:
                    lines[backend] = points
            for backend, data in results.get("backends", {}).items():
                points = []
                for n in conns:
                    r = data.get("endpoints", {}).get(IDEMPOTENT_OF.get(endpoint), {}).get(n)
                    if r and r.get(metric) is not None:
                        points.append((int(n), r[metric]))
                if points:
                    lines[backend + IDEMPOTENT] = points
            if metric == "rps":
                # pgbench's tps, as measured just before this panel's PostgreSQL rows.
                points = []
                for n in conns:
                    r = results.get("backends", {}).get("postgres", {}).get(
                        "endpoints", {}).get(endpoint, {}).get(n)
                    tps = ((r or {}).get("pgbench") or {}).get("tps")
                    if tps:
                        points.append((int(n), tps))
                if points:
                    lines[PGBENCH] = points
            out[metric][endpoint] = lines
    return out


def render(results: dict) -> str:
    data = series(results)
    conns = sorted(int(c) for c in results.get("config", {}).get("connections", [1]))
    width = MARGIN_L + 3 * PANEL_W + 2 * GAP_X + 40
    # The legend: one row, and a second for the lines of issue 15 when there are any.
    names = ["ceiling"] + list(results.get("backends", {}))
    extra = []
    for panels in data.values():
        for lines in panels.values():
            extra += [name for name in lines if name not in names and name not in extra]
    # The idempotent lines in the backends' order, then pgbench.
    extra.sort(key=lambda name: (name == PGBENCH, names.index(name[:-len(IDEMPOTENT)])
                                 if name.endswith(IDEMPOTENT) and name[:-len(IDEMPOTENT)]
                                 in names else len(names), name))
    margin_t = MARGIN_T + (LEGEND_ROW if extra else 0)
    height = margin_t + 2 * PANEL_H + GAP_Y + 60
    svg: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    m = results.get("machine", {})
    title = "connect-sessions: throughput and p99 latency against connections"
    subtitle = (f"wrk and the server sharing {m.get('cores')} cores; {results.get('mode')} run "
                f"of {results.get('started')}, commit {m.get('commit')}; both axes logarithmic")
    svg.append(f'<text x="{MARGIN_L}" y="22" font-size="15" font-weight="bold">'
               f'{escape(title)}</text>')
    svg.append(f'<text x="{MARGIN_L}" y="40" fill="#555">{escape(subtitle)}</text>')
    # Legend.
    for row, row_names in enumerate((names, extra)):
        x = MARGIN_L
        y = 62 + row * LEGEND_ROW
        for name in row_names:
            color, dash = style(name)
            label = legend_label(name)
            svg.append(f'<line x1="{x}" y1="{y}" x2="{x + 28}" y2="{y}" stroke="{color}" '
                       f'stroke-width="2.5"{dash}/>')
            svg.append(f'<text x="{x + 34}" y="{y + 4}">{escape(label)}</text>')
            x += 60 + 7 * len(label)

    lo, hi = math.log2(max(1, conns[0])), math.log2(max(2, conns[-1]))
    if hi == lo:
        hi = lo + 1

    def px(n: int) -> float:
        return (math.log2(n) - lo) / (hi - lo) * (PANEL_W - 30) + 15

    for row, (metric, label, log_scale) in enumerate(
            [("rps", "requests per second", True), ("p99_ms", "p99 latency, ms", True)]):
        for col, (endpoint, title) in enumerate(ENDPOINTS):
            ox = MARGIN_L + col * (PANEL_W + GAP_X)
            oy = margin_t + row * (PANEL_H + GAP_Y)
            lines = data[metric].get(endpoint, {})
            values = [v for points in lines.values() for _, v in points if v and v > 0]
            svg.append(f'<rect x="{ox}" y="{oy}" width="{PANEL_W}" height="{PANEL_H}" '
                       f'fill="none" stroke="#bbb"/>')
            svg.append(f'<text x="{ox + PANEL_W / 2}" y="{oy - 8}" text-anchor="middle" '
                       f'font-weight="bold">{escape(title)}</text>')
            if col == 0:
                svg.append(f'<text x="{ox - 58}" y="{oy + PANEL_H / 2}" text-anchor="middle" '
                           f'transform="rotate(-90 {ox - 58} {oy + PANEL_H / 2})">'
                           f'{escape(label)}</text>')
            if not values:
                continue
            if log_scale:
                vmin = 10 ** math.floor(math.log10(min(values)))
                vmax = 10 ** math.ceil(math.log10(max(values)))
                if vmax == vmin:
                    vmax = vmin * 10

                def py(v: float, oy=oy, vmin=vmin, vmax=vmax) -> float:
                    v = max(v, vmin)
                    return oy + PANEL_H - (math.log10(v) - math.log10(vmin)) / (
                        math.log10(vmax) - math.log10(vmin)) * (PANEL_H - 10)

                ticks = []
                t = vmin
                while t <= vmax * 1.0001:
                    ticks.append(t)
                    t *= 10
            else:
                vmax = nice_max(max(values) * 1.05)

                def py(v: float, oy=oy, vmax=vmax) -> float:
                    return oy + PANEL_H - v / vmax * (PANEL_H - 10)

                ticks = [vmax * i / 5 for i in range(6)]
            for t in ticks:
                y = py(t)
                svg.append(f'<line x1="{ox}" y1="{y:.1f}" x2="{ox + PANEL_W}" y2="{y:.1f}" '
                           f'stroke="#eee"/>')
                text = f"{t:,.0f}" if t >= 1 else f"{t:g}"
                svg.append(f'<text x="{ox - 6}" y="{y + 4:.1f}" text-anchor="end" '
                           f'fill="#555">{text}</text>')
            for n in conns:
                x = ox + px(n)
                svg.append(f'<line x1="{x:.1f}" y1="{oy + PANEL_H}" x2="{x:.1f}" '
                           f'y2="{oy + PANEL_H + 5}" stroke="#555"/>')
                svg.append(f'<text x="{x:.1f}" y="{oy + PANEL_H + 18}" text-anchor="middle" '
                           f'fill="#555">{n}</text>')
            svg.append(f'<text x="{ox + PANEL_W / 2}" y="{oy + PANEL_H + 34}" '
                       f'text-anchor="middle" fill="#555">connections</text>')
            for name, points in lines.items():
                color, dash = style(name)
                coords = " ".join(f"{ox + px(n):.1f},{py(v):.1f}" for n, v in points if v)
                svg.append(f'<polyline points="{coords}" fill="none" stroke="{color}" '
                           f'stroke-width="2.5"{dash}/>')
                for n, v in points:
                    if not v:
                        continue
                    value = f"{v:,.0f}" if metric == "rps" else f"{v:.2f}"
                    svg.append(f'<circle cx="{ox + px(n):.1f}" cy="{py(v):.1f}" r="3.5" '
                               f'fill="{color}"><title>{escape(name)} {n} connections: '
                               f'{value}</title></circle>')
                    if name != "ceiling" and name not in extra:
                        svg.append(f'<text x="{ox + px(n) + 5:.1f}" y="{py(v) - 6:.1f}" '
                                   f'font-size="10" fill="{color}">{value}</text>')
                    elif name in extra:  # below the point, apart from the plain line's
                        svg.append(f'<text x="{ox + px(n) + 5:.1f}" y="{py(v) + 13:.1f}" '
                                   f'font-size="10" fill="{color}">{value}</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def write(results: dict, path: Path) -> None:
    path.write_text(render(results))


if __name__ == "__main__":
    here = Path(__file__).parent
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else here / "out/results.json"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else here / "out/throughput.svg"
    write(json.loads(source.read_text()), target)
    print(target)
