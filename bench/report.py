"""Renders bench/out/results.json as the human-readable table (also docs' table).

    python3 bench/report.py [bench/out/results.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ENDPOINT_NAMES = {
    "ceiling": "ceiling (from memory)",
    "create": "POST /v1/account_sessions",
    "create_idempotent": "POST /v1/account_sessions (idempotent)",
    "claim": "POST /v1/account_sessions/claim",
    "claim_idempotent": "POST /v1/account_sessions/claim (idempotent)",
    "accounts": "POST /v1/accounts",
}
# Rows in this order; results.json files older than the idempotent scenarios lack them.
ENDPOINT_ORDER = ("create", "create_idempotent", "claim", "claim_idempotent", "accounts")
# Each idempotent scenario and the plain one it is compared with.
PLAIN_OF = {"create_idempotent": "create", "claim_idempotent": "claim"}
BACKEND_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

# The targets, at 32 connections: SQLite's against the ceiling (issue 6, kept
# in issue 15), PostgreSQL's against pgbench, and idempotent requests' CPU (issue 15).
TARGET_RATIO = 0.40
TARGET_P99_MS = 5.0
TARGET_COST = 0.10
TARGET_RSS_MIB = 64
TARGET_STARTUP_MS = 100
TARGET_PGBENCH_RATIO = 0.75
TARGET_IDEMPOTENT_CPU = 1.5


def ceiling_reference(results: dict, connections: str,
                      row: dict | None = None) -> tuple[float | None, float | None]:
    """The ceiling's throughput and p99 for a row: the ceiling measured just before it at
    the same connections (paired), else the ceiling's own run at those connections."""
    if row and row.get("ceiling"):
        return row["ceiling"]["rps"], row["ceiling"]["p99_ms"]
    run = results.get("ceiling", {}).get(connections)
    if not run:
        return None, None
    return run["rps"], run["p99_ms"]


def fmt(value, spec: str = ".2f", missing: str = "-") -> str:
    if value is None:
        return missing
    return format(value, spec)


def pgbench_tps(r: dict | None) -> float | None:
    """The tps of the pgbench run measured just before a PostgreSQL row, if any."""
    return ((r or {}).get("pgbench") or {}).get("tps")


def row_cells(name: str, backend: str, r: dict, reference: tuple,
              with_pgbench: bool = False) -> list[str]:
    rps_ref, p99_ref = reference
    tps = pgbench_tps(r)
    extra = [fmt(tps, ",.0f"), fmt(r["rps"] / tps if tps else None, ".3f")] \
        if with_pgbench else []
    return [
        name, backend, str(r["connections"]),
        fmt(r["rps"], ",.0f"),
        fmt(rps_ref, ",.0f"),
        fmt(r["rps"] / rps_ref if rps_ref else None, ".3f"),
        *extra,
        fmt(r["p50_ms"], ".2f"),
        fmt(r["p99_ms"], ".2f"),
        fmt(r["p99_ms"] / p99_ref if p99_ref else None, ".1f"),
        fmt(r["max_ms"], ".1f"),
        str(r["non_200"]),
        fmt(r.get("server_cpu_us_per_request"), ".0f"),
        fmt(r.get("wrk_cpu_us_per_request"), ".0f"),
        fmt(r.get("machine_cpu_busy", 0) * 100, ".0f"),
        fmt(r["other_cpu_share"] * 100 if r.get("other_cpu_share") is not None else None, ".0f"),
    ]


HEADERS = ["endpoint", "backend", "conns", "req/s", "ceil req/s", "×ceil", "p50 ms", "p99 ms", "p99×ceil",
           "max ms", "non-200", "server µs/req", "wrk µs/req", "CPU busy %", "other CPU %"]
# After ×ceil, when PostgreSQL rows were paired with pgbench.
PGBENCH_HEADERS = ["pgbench tps", "×pgbench"]


def headers(with_pgbench: bool) -> list[str]:
    if not with_pgbench:
        return HEADERS
    at = HEADERS.index("×ceil") + 1
    return HEADERS[:at] + PGBENCH_HEADERS + HEADERS[at:]


def table(rows: list[list[str]], headers: list[str]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def backend_rows(results: dict):
    """(backend, endpoint, connections, row) of every backend's table row, in table order."""
    conns = [str(x) for x in results.get("config", {}).get("connections", [])]
    for backend, data in results.get("backends", {}).items():
        for endpoint in ENDPOINT_ORDER:
            for n in conns:
                r = data.get("endpoints", {}).get(endpoint, {}).get(n)
                if r:
                    yield backend, endpoint, n, r


def pgbench_section(results: dict) -> list[str]:
    """Every pgbench run of the PostgreSQL rows, beside the row's own figures."""
    rows = []
    hashes: set[str] = set()
    for backend, endpoint, n, r in backend_rows(results):
        pg = r.get("pgbench")
        if not pg:
            continue
        run = next((x for x in (results.get("pgbench") or {}).get("runs", [])
                    if x.get("run") == pg.get("run")), {})
        rows.append([
            ENDPOINT_NAMES[endpoint], backend, n,
            fmt(pg.get("tps"), ",.0f"),
            fmt(pg.get("latency_avg_ms"), ".2f"),
            fmt(pg.get("pgbench_cpu_us_per_transaction"), ".0f"),
            fmt(pg.get("postgres_cpu_us_per_transaction"), ".0f"),
            fmt(pg["other_cpu_share"] * 100 if pg.get("other_cpu_share") is not None else None,
                ".0f"),
            fmt(r["rps"], ",.0f"),
            fmt(r["rps"] / pg["tps"] if pg.get("tps") else None, ".3f"),
            fmt(r.get("mean_ms"), ".2f"),
            fmt(r.get("postgres_cpu_us_per_request"), ".0f"),
        ])
        if run.get("hash"):
            hashes.add(run["hash"])
    if not rows:
        return []
    info = results.get("pgbench") or {}
    lines = ["", "PostgreSQL's ceiling: pgbench committing one session-sized row per transaction "
             "(unique index on a random 32-byte hash), measured just before each PostgreSQL row "
             "at the same connections, on the same server without TLS, "
             f"on a fresh database ({info.get('version', 'pgbench')}; "
             f"{info.get('options', '-M prepared')}; hash "
             f"{' or '.join(sorted(hashes)) or '-'}):"]
    lines.extend(table(rows, [
        "before", "backend", "conns", "pgbench tps", "pgbench latency avg ms",
        "pgbench µs/tx", "postgres µs/tx", "other CPU %", "row req/s", "×pgbench",
        "row latency avg ms", "postgres µs/req"]))
    return lines


def idempotent_pairs(results: dict):
    """(backend, idempotent endpoint, connections, idempotent row, plain row)."""
    for backend, endpoint, n, r in backend_rows(results):
        if endpoint in PLAIN_OF:
            plain = results["backends"][backend].get("endpoints", {}).get(
                PLAIN_OF[endpoint], {}).get(n)
            if plain:
                yield backend, endpoint, n, r, plain


def cpu_ratio(r: dict, plain: dict, key: str) -> float | None:
    a, b = r.get(key), plain.get(key)
    return a / b if a is not None and b else None


def idempotent_section(results: dict) -> list[str]:
    rows = []
    for backend, endpoint, n, r, plain in idempotent_pairs(results):
        rows.append([
            ENDPOINT_NAMES[PLAIN_OF[endpoint]], backend, n,
            fmt(plain.get("server_cpu_us_per_request"), ".0f"),
            fmt(r.get("server_cpu_us_per_request"), ".0f"),
            fmt(cpu_ratio(r, plain, "server_cpu_us_per_request"), ".2f"),
            fmt(plain.get("postgres_cpu_us_per_request"), ".0f"),
            fmt(r.get("postgres_cpu_us_per_request"), ".0f"),
            fmt(plain["rps"], ",.0f"),
            fmt(r["rps"], ",.0f"),
            fmt(r["rps"] / plain["rps"] if plain["rps"] else None, ".3f"),
            fmt(r["p99_ms"], ".2f"),
        ])
    if not rows:
        return []
    c = results.get("config", {})
    timings = {(r.get("duration_s"), r.get("warmup_s"))
               for _, _, _, r, _ in idempotent_pairs(results)}
    note = ""
    if any(d is not None and (d, w) != (c.get("duration_s"), c.get("warmup_s"))
           for d, w in timings):
        note = " (measured " + ", ".join(
            f"{d} s after {w} s of warm-up" if w else f"{d} s without warm-up"
            for d, w in sorted(timings, key=str)) + ")"
    return ["", "Idempotent requests (a fresh Idempotency-Key on every request) against the "
            f"plain ones, run right after them{note}:",
            *table(rows, ["endpoint", "backend", "conns", "plain server µs/req",
                          "idempotent server µs/req", "CPU ratio", "plain postgres µs/req",
                          "idempotent postgres µs/req", "plain req/s", "idempotent req/s",
                          "req/s ratio", "idempotent p99 ms"])]


def kib(value) -> str:
    return "-" if value is None else f"{value / 1024:.1f} MiB"


def render(results: dict) -> str:
    out: list[str] = []
    m = results.get("machine", {})
    c = results.get("config", {})
    out.append(f"connect-sessions benchmark ({results.get('mode')} run, {results.get('started')}, "
               f"commit {m.get('commit')})")
    out.append(f"machine: {m.get('cores')} cores ({m.get('cpu')}), {m.get('memory_mib')} MiB, "
               f"kernel {m.get('kernel')}, {m.get('os')}; {m.get('wrk')}")
    out.append(f"each figure: {c.get('duration_s')} s measured after {c.get('warmup_s')} s of "
               f"warm-up, wrk and the server sharing the machine; fresh database per row")
    out.append("ceil req/s = the ceiling measured just before the row, at the same connections; "
               "×ceil = req/s / ceil req/s; p99×ceil = p99 / that ceiling run's p99.")
    out.append("server and wrk µs/req = CPU time per request; CPU busy = the machine's; "
               "other CPU = used by neither wrk, nor the server, nor PostgreSQL.")
    if results.get("background_cpu_share_before") is not None:
        out.append(f"before the run, other processes used "
                   f"{results['background_cpu_share_before'] * 100:.0f}% of the machine's CPU "
                   f"(load average {results.get('loadavg_before', '?').split()[0]})")
    out.append("")

    rows = []
    conns = [str(x) for x in c.get("connections", [])]
    with_pgbench = any(pgbench_tps(r) for _, _, _, r in backend_rows(results))
    if with_pgbench:
        out.append("pgbench tps = pgbench's one-row insert on the same PostgreSQL server at the "
                   "same connections, measured just before the row; ×pgbench = req/s / pgbench tps.")
        out.append("")
    for n in conns:
        r = results.get("ceiling", {}).get(n)
        if r:
            rows.append(row_cells("ceiling", "memory", r, ceiling_reference(results, n),
                                  with_pgbench))
    for backend, endpoint, n, r in backend_rows(results):
        rows.append(row_cells(ENDPOINT_NAMES[endpoint], backend, r,
                              ceiling_reference(results, n, r), with_pgbench))
    out.extend(table(rows, headers(with_pgbench)))
    for backend, reason in results.get("skipped", {}).items():
        out.append(f"{backend}: skipped: {reason}")

    # Where the server's CPU went, per thread group.
    cpu_rows = []
    groups: list[str] = []
    for _, _, _, r in backend_rows(results):
        for g in r.get("server_cpu_by_thread_s") or {}:
            if g not in groups:
                groups.append(g)
    if groups:
        out.append("")
        out.append("CPU per request (µs): the server's, by thread; PostgreSQL's processes "
                   "(postgres backend); wrk's:")
        for backend, endpoint, n, r in backend_rows(results):
            if not r.get("requests"):
                continue
            by = r.get("server_cpu_by_thread_s", {})
            cells = [ENDPOINT_NAMES[endpoint], backend, n]
            cells += [fmt(by.get(g, 0) / r["requests"] * 1e6, ".0f") for g in groups]
            cells.append(fmt(r.get("postgres_cpu_us_per_request"), ".0f"))
            cells.append(fmt(r.get("wrk_cpu_us_per_request"), ".0f"))
            cpu_rows.append(cells)
        out.extend(table(cpu_rows, ["endpoint", "backend", "conns", *groups,
                                    "postgres processes", "wrk"]))
    out.extend(pgbench_section(results))
    out.extend(idempotent_section(results))

    for backend, data in results.get("backends", {}).items():
        out.append("")
        out.append(f"{backend}: memory, scale and start-up")
        mil = data.get("million")
        if mil:
            idle = mil.get("rss_idle_kib", {})
            out.append(f"  RSS idle: VmRSS {kib(idle.get('VmRSS'))}, peak (VmHWM) "
                       f"{kib(idle.get('VmHWM'))}")
            fill = mil.get("fill")
            if fill:
                out.append(f"  storing {fill['count']:,} sessions through the API "
                           f"({c.get('fill_concurrency')} connections): {fill['seconds']:.1f} s, "
                           f"{fill['per_second']:,.0f}/s; {mil.get('sessions_stored'):,} stored, "
                           f"database {fmt((mil.get('database_bytes') or 0) / 2**20, ',.0f')} MiB")
            for label, key in (("after storing them", "rss_after_fill_kib"),
                               ("at the end of the runs on them", "rss_end_kib")):
                mem = mil.get(key)
                if mem:
                    out.append(f"  RSS {label}: VmRSS {kib(mem.get('VmRSS'))} (anon "
                               f"{kib(mem.get('RssAnon'))}, file {kib(mem.get('RssFile'))}), "
                               f"peak (VmHWM) {kib(mem.get('VmHWM'))}")
            for endpoint in ("create", "claim"):
                empty = mil.get("empty", {}).get(endpoint)
                loaded = mil.get("loaded", {}).get(endpoint)
                if empty and loaded:
                    out.append(
                        f"  {ENDPOINT_NAMES[endpoint]} at {mil['connections']} connections: "
                        f"empty store {empty['rps']:,.0f} req/s (p99 {empty['p99_ms']:.2f} ms), "
                        f"{mil.get('sessions_stored') or 0:,} stored {loaded['rps']:,.0f} req/s "
                        f"(p99 {loaded['p99_ms']:.2f} ms): ratio "
                        f"{loaded['rps'] / empty['rps']:.3f}, cost "
                        f"{(1 - loaded['rps'] / empty['rps']) * 100:.1f}%")
                    if "ceiling" in empty and "ceiling" in loaded:
                        out.append(
                            f"    (the ceiling, measured just before each: "
                            f"{empty['ceiling']['rps']:,.0f} and "
                            f"{loaded['ceiling']['rps']:,.0f} req/s; other processes used "
                            f"{fmt(empty.get('other_cpu_share', 0) * 100, '.0f')}% and "
                            f"{fmt(loaded.get('other_cpu_share', 0) * 100, '.0f')}% of the CPU "
                            f"during the two runs)")
        startups = [("new database", data.get("startup_fresh_ms")),
                    ("existing database", data.get("startup_existing_ms"))]
        if mil:
            startups.append((f"with the {mil.get('sessions_stored') or 0:,} sessions stored",
                             mil.get("startup_filled_ms")))
        for label, s in startups:
            if s:
                out.append(f"  start to first served request, {label}: median "
                           f"{s['median_ms']:.1f} ms (min {s['min_ms']:.1f}, max "
                           f"{s['max_ms']:.1f}, {len(s['runs_ms'])} runs)")

    out.append("")
    out.extend(targets(results))
    failures = results.get("failures") or []
    out.append("")
    if failures:
        out.append(f"RUN FAILED ({len(failures)}):")
        out.extend(f"  - {f}" for f in failures)
    else:
        out.append("Every counted request answered 200; no socket errors.")
    return "\n".join(out) + "\n"


def verdict(ok) -> str:
    return "-" if ok is None else ("met" if ok else "NOT MET")


def targets(results: dict) -> list[str]:
    """The issue's targets at 32 connections: met or not."""
    lines: list[str] = []
    data = results.get("backends", {}).get("sqlite")
    if data:
        lines.extend(sqlite_targets(results, data))
    else:
        lines.append("Targets: no SQLite figures.")
    data = results.get("backends", {}).get("postgres")
    if data:
        lines.extend(postgres_targets(results, data))
    return lines


def idempotent_targets(results: dict, backend: str) -> list[str]:
    """Idempotent create and claim: CPU per request at most 1.5 times the plain one's."""
    lines = []
    endpoints = results.get("backends", {}).get(backend, {}).get("endpoints", {})
    for endpoint, plain_endpoint in PLAIN_OF.items():
        r = endpoints.get(endpoint, {}).get("32")
        plain = endpoints.get(plain_endpoint, {}).get("32")
        ratio = cpu_ratio(r, plain, "server_cpu_us_per_request") if r and plain else None
        detail = "-"
        if ratio is not None:
            detail = (f"{r['server_cpu_us_per_request']:.0f} / "
                      f"{plain['server_cpu_us_per_request']:.0f} µs = {ratio:.2f}×")
            with_db = cpu_ratio(r, plain, "postgres_cpu_us_per_request")
            if with_db is not None:
                total = ((r["server_cpu_us_per_request"] + r["postgres_cpu_us_per_request"])
                         / (plain["server_cpu_us_per_request"]
                            + plain["postgres_cpu_us_per_request"]))
                detail += (f" (PostgreSQL's processes: {with_db:.2f}×; both together: "
                           f"{total:.2f}×)")
        lines.append(f"  {ENDPOINT_NAMES[plain_endpoint]}: idempotent CPU per request / "
                     f"plain CPU per request (server µs/req) <= {TARGET_IDEMPOTENT_CPU:g}×: "
                     f"{detail} -> "
                     f"{verdict(None if ratio is None else ratio <= TARGET_IDEMPOTENT_CPU)}")
    return lines


def postgres_targets(results: dict, data: dict) -> list[str]:
    """PostgreSQL at 32 connections: at least 0.75 of pgbench measured beside each row."""
    lines = ["", "Targets (PostgreSQL, 32 connections):"]
    for endpoint in ("create", "claim"):
        r = data.get("endpoints", {}).get(endpoint, {}).get("32")
        tps = pgbench_tps(r)
        ratio = r["rps"] / tps if r and tps else None
        detail = f"{ratio:.3f} ({r['rps']:,.0f} req/s against {tps:,.0f} tps)" \
            if ratio is not None else "-"
        lines.append(f"  {ENDPOINT_NAMES[endpoint]} throughput >= {TARGET_PGBENCH_RATIO:g} × "
                     f"pgbench: {detail} -> "
                     f"{verdict(None if ratio is None else ratio >= TARGET_PGBENCH_RATIO)}")
    lines.extend(idempotent_targets(results, "postgres"))
    return lines


def sqlite_targets(results: dict, data: dict) -> list[str]:
    """SQLite at 32 connections: against the ceiling, p99, scale, memory, start-up."""
    lines = ["Targets (SQLite, 32 connections):"]

    for endpoint in ("create", "claim"):
        r = data.get("endpoints", {}).get(endpoint, {}).get("32")
        rps_ref, _ = ceiling_reference(results, "32", r)
        ratio = r["rps"] / rps_ref if r and rps_ref else None
        lines.append(f"  {ENDPOINT_NAMES[endpoint]} throughput >= {TARGET_RATIO:.0%} of the "
                     f"ceiling: {fmt(ratio * 100 if ratio is not None else None, '.1f')}% "
                     f"-> {verdict(None if ratio is None else ratio >= TARGET_RATIO)}")
    for endpoint in ("create", "claim"):
        r = data.get("endpoints", {}).get(endpoint, {}).get("32")
        p99 = r["p99_ms"] if r else None
        lines.append(f"  {ENDPOINT_NAMES[endpoint]} p99 <= {TARGET_P99_MS:g} ms: "
                     f"{fmt(p99, '.2f')} ms -> "
                     f"{verdict(None if p99 is None else p99 <= TARGET_P99_MS)}")
    mil = data.get("million") or {}
    stored = mil.get("sessions_stored") or 0
    for endpoint in ("create", "claim"):
        cost = mil.get(f"{endpoint}_cost")
        detail = f"{fmt(cost * 100 if cost is not None else None, '.1f')}%"
        lines.append(f"  {ENDPOINT_NAMES[endpoint]} with {stored:,} stored costs <= "
                     f"{TARGET_COST:.0%}: {detail}"
                     f" -> {verdict(None if cost is None else cost <= TARGET_COST)}")
    peak = (mil.get("rss_end_kib") or mil.get("rss_after_fill_kib") or {}).get("VmHWM")
    lines.append(f"  peak RSS (VmHWM) with {stored:,} sessions stored <= {TARGET_RSS_MIB} MiB: "
                 f"{kib(peak)} -> "
                 f"{verdict(None if peak is None else peak / 1024 <= TARGET_RSS_MIB)}")
    medians = {label: (data.get(key) or mil.get(key) or {}).get("median_ms")
               for label, key in (("new", "startup_fresh_ms"),
                                  ("existing", "startup_existing_ms"),
                                  ("filled", "startup_filled_ms"))}
    known = [v for v in medians.values() if v is not None]
    shown = ", ".join(f"{k} {v:.1f} ms" for k, v in medians.items() if v is not None)
    lines.append(f"  start to first served request < {TARGET_STARTUP_MS} ms (median per "
                 f"database): {shown or '-'} -> "
                 f"{verdict(None if not known else max(known) < TARGET_STARTUP_MS)}")
    lines.extend(idempotent_targets(results, "sqlite"))
    if stored and stored < 1_000_000:
        lines.append(f"  (only {stored:,} sessions were stored in this run, not one million: "
                     "the scale and memory verdicts are for that count)")
    return lines


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "out/results.json")
    print(render(json.loads(path.read_text())), end="")
