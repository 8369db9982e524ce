#!/usr/bin/env python3
"""Profiles the server under one benchmark load (run it through bench/profile).

Default: POST /v1/account_sessions at 32 connections on a fresh SQLite database,
the load of the issue's targets. Writes to bench/out/profile/:
  - summary.txt: throughput with and without the profiler; the server's CPU per
    request by thread and wrk's; syscalls per request (fdatasync, write, futex...);
    sessions per commit; the disk's own fdatasync latency;
  - perf.data, report-self.txt (flat profile), report-children.txt (inclusive),
    report-threads.txt (by thread), folded.txt (stacks, for a flame graph tool).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

SYSCALLS = ["fdatasync", "fsync", "pwrite64", "pread64", "write", "writev", "read", "recvfrom",
            "sendto", "futex", "epoll_wait", "sched_yield"]


def disk_sync_latency(directory: Path, rounds: int = 200) -> dict:
    """What one synced commit costs on this disk: write 4 KiB at the end of a file,
    fdatasync, repeat (as a WAL append and its sync)."""
    path = directory / "sync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    timings = []
    try:
        block = os.urandom(4096)
        for _ in range(rounds):
            os.write(fd, block)
            started = time.perf_counter()
            os.fdatasync(fd)
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    timings.sort()
    return {"median_ms": statistics.median(timings), "p90_ms": timings[int(len(timings) * 0.9)],
            "max_ms": timings[-1], "rounds": rounds}


def file_io(pid: int, run, workdir: Path) -> dict:
    """pread/pwrite/fsync per request on each file the server touches, from strace."""
    import collections
    import re

    trace = workdir / "strace.txt"
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e",
                               "trace=pwrite64,pread64,fsync,fdatasync,write",
                               "-o", str(trace), "-p", str(pid)])
    time.sleep(0.5)
    result = run()
    tracer.terminate()
    tracer.wait()
    names = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        suffix = next((s for s in ("-wal", "-shm", "-journal") if target.endswith(s)), "")
        if target.endswith((".db", ".db-wal", ".db-shm")):
            target = "database" + suffix
        elif target.startswith("socket:"):
            target = "socket"
        names[int(fd)] = target
    calls: collections.Counter = collections.Counter()
    sizes: collections.Counter = collections.Counter()
    for line in trace.read_text().splitlines():
        match = re.search(r"\b(pwrite64|pread64|fsync|fdatasync|write)\((\d+)", line)
        if not match:
            continue
        name, fd = match.group(1), int(match.group(2))
        where = names.get(fd, f"fd {fd} (closed: a temporary file)")
        calls[(name, where)] += 1
        done = re.search(r"= (\d+)$", line)
        if done and name != "fsync" and name != "fdatasync":
            sizes[(name, where)] += int(done.group(1))
    requests = max(1, result["requests"])
    return {f"{name} {where}": {"calls": round(n / requests, 3),
                                "bytes": round(sizes[(name, where)] / requests)}
            for (name, where), n in calls.most_common()}


def perf_stat(pid: int, seconds: int, out: Path) -> dict:
    events = ",".join(f"syscalls:sys_enter_{name}" for name in SYSCALLS)
    events += ",context-switches,cpu-migrations"
    subprocess.run(["perf", "stat", "-x", ",", "-e", events, "-p", str(pid), "-o", str(out),
                    "--", "sleep", str(seconds)], check=True, capture_output=True)
    counts = {}
    for line in out.read_text().splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[0].strip().isdigit():
            name = parts[2].replace("syscalls:sys_enter_", "")
            counts[name] = int(parts[0])
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="create",
                        choices=["create", "accounts", "claim", "create_idempotent",
                                 "claim_idempotent"],
                        help="the scenario; *_idempotent send a fresh Idempotency-Key per "
                             "request, as bench/run's idempotent rows do")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--frequency", type=int, default=499, help="perf samples per second")
    parser.add_argument("--no-strace", action="store_true", help="skip the file I/O count")
    parser.add_argument("--out", default=str(bench.BENCH / "out" / "profile"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="csprofile-"))
    ctx = SimpleNamespace(workdir=workdir, args=SimpleNamespace(server_log=True, keep=False))
    backend = bench.SqliteBackend(workdir)
    summary: dict = {"endpoint": args.endpoint, "connections": args.connections,
                     "seconds": args.seconds, "machine": bench.machine_info()}
    lines: list[str] = []
    instance = bench.Instance(ctx, backend, "profile")
    try:
        port, server = instance.port, instance.server
        scripts = workdir / "wrk"
        scripts.mkdir()
        threads = bench.wrk_threads(args.connections)
        secrets = None
        if args.endpoint in ("claim", "claim_idempotent"):
            needed = 4 * 6000 * args.seconds  # ~1.5x the claim rate seen here, per run
            path = workdir / "secrets.txt"
            instance.fill(needed, 64, keep_last=needed, secrets_out=path)
            all_secrets = path.read_text().split()
            third = len(all_secrets) // 4
            parts = []
            for index in range(4):
                part = workdir / f"secrets-{index}.txt"
                part.write_text("\n".join(all_secrets[index * third:(index + 1) * third]) + "\n")
                parts.append(part)
            secrets = parts

        def load(name: str, seconds: int, index: int) -> dict:
            script = scripts / f"{name}.lua"
            report = scripts / f"{name}.json"
            bench.wrk_script(script, report, threads, "POST", instance.body(args.endpoint),
                             instance.headers(args.endpoint),
                             secrets[index] if secrets else None,
                             bench.idempotency_key_prefix()
                             if args.endpoint in bench.PLAIN_OF else None)
            return bench.run_wrk(f"http://127.0.0.1:{port}{bench.PATHS[args.endpoint]}", script,
                                 args.connections, seconds, report, server)

        load("warmup", 2, 0)
        # 1. Plain run: CPU by thread; syscall counts from perf stat alongside.
        stat_out = out / "perf-stat.txt"
        stat = {}
        import threading

        def run_stat() -> None:
            nonlocal stat
            stat = perf_stat(server.proc.pid, max(1, args.seconds - 2), stat_out)

        stat_thread = threading.Thread(target=run_stat)
        stat_thread.start()
        plain = load("plain", args.seconds, 1)
        stat_thread.join()
        summary["plain"] = plain
        summary["syscalls"] = stat
        stat_seconds = max(1, args.seconds - 2)
        requests_in_stat = plain["rps"] * stat_seconds
        per_request = {k: v / requests_in_stat for k, v in stat.items()} if requests_in_stat else {}
        summary["syscalls_per_request"] = per_request

        # 2. Sampling profile of the server (DWARF call graphs).
        perf_data = out / "perf.data"
        recorder = subprocess.Popen(
            ["perf", "record", "-F", str(args.frequency), "-g", "--call-graph", "dwarf,16384",
             "-p", str(server.proc.pid), "-o", str(perf_data), "--", "sleep",
             str(max(1, args.seconds - 2))],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        profiled = load("profiled", args.seconds, 2)
        recorder.wait()
        summary["profiled"] = profiled

        # 3. File I/O per request, by file, under strace (which slows the server a lot:
        # only the per-request figures mean something).
        if shutil.which("strace") and not args.no_strace:
            summary["io_per_request"] = file_io(server.proc.pid, lambda: load("strace", 5, 0)
                                                if not secrets else load("strace", 3, 3), workdir)
    finally:
        instance.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    sync = disk_sync_latency(out)
    summary["disk_fdatasync"] = sync

    def report(name: str, extra: list[str]) -> None:
        result = subprocess.run(["perf", "report", "-i", str(perf_data), "--stdio", *extra],
                                capture_output=True, text=True)
        (out / name).write_text(result.stdout)

    report("report-self.txt", ["--no-children", "--sort", "symbol", "--percent-limit", "0.3",
                               "-g", "none"])
    report("report-children.txt", ["--children", "--sort", "symbol", "--percent-limit", "2",
                                   "-g", "none"])
    report("report-threads.txt", ["--no-children", "--sort", "comm,dso", "-g", "none"])
    report("report-writer.txt", ["--no-children", "--comm", "sqlite-writer", "--sort", "symbol",
                                 "--percent-limit", "0.5", "-g", "none"])
    report("report-workers.txt", ["--no-children", "--comm", "tokio-rt-worker", "--sort",
                                  "symbol", "--percent-limit", "0.5", "-g", "none"])
    folded = subprocess.run(["perf", "script", "-i", str(perf_data), "-F", "comm,ip,sym"],
                            capture_output=True, text=True)
    (out / "perf-script.txt").write_text(folded.stdout)

    plain = summary["plain"]
    lines.append(f"{bench.ENDPOINTS[args.endpoint]} at {args.connections} connections, "
                 f"SQLite, {args.seconds} s runs")
    lines.append(f"  without the profiler: {plain['rps']:,.0f} req/s, p50 {plain['p50_ms']:.2f} ms,"
                 f" p99 {plain['p99_ms']:.2f} ms; machine CPU busy "
                 f"{plain['machine_cpu_busy'] * 100:.0f}%")
    lines.append(f"  with perf record:     {summary['profiled']['rps']:,.0f} req/s")
    requests = plain["requests"]
    lines.append("  CPU per request (µs): " + ", ".join(
        f"{k} {v / requests * 1e6:.0f}" for k, v in
        sorted(plain["server_cpu_by_thread_s"].items(), key=lambda kv: -kv[1]))
        + f", wrk {plain['wrk_cpu_s'] / requests * 1e6:.0f}")
    lines.append("  syscalls per request: " + ", ".join(
        f"{k} {v:.2f}" for k, v in sorted(per_request.items(), key=lambda kv: -kv[1]) if v))
    syncs = per_request.get("fdatasync", 0) + per_request.get("fsync", 0)
    if syncs:
        lines.append(f"  requests per fsync/fdatasync (a commit syncs the WAL once; a checkpoint "
                     f"syncs the WAL and the database): {1 / syncs:.1f}")
    if summary.get("io_per_request"):
        lines.append("  file I/O per request (under strace, which slows the server; per request "
                     "only):")
        for what, figures in summary["io_per_request"].items():
            lines.append(f"    {what}: {figures['calls']} calls, {figures['bytes']:,} bytes")
    lines.append(f"  this disk: fdatasync after a 4 KiB append: median {sync['median_ms']:.2f} ms,"
                 f" p90 {sync['p90_ms']:.2f} ms, max {sync['max_ms']:.2f} ms")
    text = "\n".join(lines) + "\n"
    (out / "summary.txt").write_text(text)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(text)
    print(f"flat profile: {out / 'report-self.txt'}; inclusive: {out / 'report-children.txt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
