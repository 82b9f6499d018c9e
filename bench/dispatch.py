"""Benchmark: the delivery worker's e-mail throughput and memory, against raw smtplib.

Goals:
  (a) One worker's e-mail throughput (the real `accord.delivery.worker.Worker`, SMTP backend,
      default batch and lease settings, in a process of its own) sending N campaign e-mails to
      a local SMTP sink is at least 0.5x that of a raw smtplib loop sending the same N
      messages (byte for byte what the worker sent, captured by the sink) over one connection
      to the same sink (the floor). Measured on SQLite, and on PostgreSQL too.
  (b) With two worker processes on PostgreSQL the throughput is at least 1.6x one worker's.
      Each worker hands its mail to a sink of its own, as each worker host hands mail to its
      own relay (the one-worker run uses the first of the two). One shared sink
      (`--shared-sink`) is a single Python thread that two workers queue behind: it measures
      the sink, not the workers (1.2x on the 2-core machine of 2026-12-04). For reference (not
      a goal) the same messages go out over one and then two raw smtplib connections at once
      (each its own process, one sink): how far the sink and the machine let the floor itself
      scale (`RESULT smtplib_two_connections_vs_one`).
  (c) A worker's peak RSS does not grow with the audience: the worker runs for a few seconds
      with 100,000 and then with 1,000,000 rows queued, and reports VmHWM (peak RSS) from
      /proc/self/status in its own process.

The sink runs in a separate process (so it does not compete with the sender for the GIL) and
records every message's Message-ID: every run must deliver each of its N messages exactly once
(N distinct Message-IDs, N messages), and every outbox row must end up `sent`. The sink is
aiosmtpd offering PIPELINING and taking a message's data in one read (`--sink aiosmtpd-bulk`,
the default; about half the CPU per message of aiosmtpd as shipped, `--sink aiosmtpd`).
`--sink lean` is a minimal asyncio SMTP server (`LeanSMTP`), a quarter of the default's CPU
per message. The sink's cost pulls (a) and (b) apart on a small machine: a cheaper sink makes
the floor faster (smtplib's own cost is small), and leaves more of the CPUs to two workers.

Set-up (not measured): a fresh database (a SQLite file; PostgreSQL databases
`accord_bench_dispatch` and `accord_bench_dispatch_rss`, dropped at the end) made by
`accord.core.migrate.upgrade`; a brand with a postal address and `send_rate_per_second` raised
to 100000 so the shared rate limit does not bind, a marketing topic; N people each with a ledger
head, an active relationship, marketing granted, the e-mail channel and the topic chosen and a
verified primary e-mail address, inserted set-based (brand and global caps raised, since every
round sends another campaign to the same people). Each round's campaign goes through
`accord.campaigns.service`: create -> send -> resolve.

Rounds are interleaved (worker, floor, worker, floor ...); the best of each is kept. Prints
`RESULT dispatch_vs_smtplib <ratio>` (SQLite; `RESULT dispatch_vs_smtplib_postgres` too),
`RESULT dispatch_two_workers_vs_one_postgres <ratio>`, `RESULT worker_rss_mb_100k <mb>` and
`RESULT worker_rss_mb_1m <mb>`. Default N = 20,000; `--quick`: N = 2,000 and the RSS part at
10k/50k rows (named `worker_rss_mb_10k` / `_50k`). `--profile` runs the workers of the last
round of (a) and (b) under cProfile and prints where their time goes.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import pstats
import smtplib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import PG_ADMIN, fresh_postgres
from _dispatch_sink import SHARED_SINK, SINK, Sink, start_sink
from _dispatch_workers import WHAT_IF, WHAT_IFS, process_ticks, run_workers
from _dispatch_world import build_world, cancel_campaigns, new_campaign, outbox_states
from sqlalchemy.engine import Engine

from accord.core.db import make_engine

GOAL_VS_SMTPLIB = 0.5
GOAL_TWO_WORKERS = 1.6
PG_THROUGHPUT = "accord_bench_dispatch"
PG_RSS = "accord_bench_dispatch_rss"


# --- measurements ----------------------------------------------------------------------------


def check_delivery(sinks: list[Sink], engine: Engine, expected: int, what: str) -> None:
    """Every message delivered exactly once, across all the sinks: N messages and N distinct
    Message-IDs in their union (a message sent to two sinks counts once in the union)."""
    total = sum(sink.call("stats")[0] for sink in sinks)
    distinct = len(set().union(*(sink.call("ids") for sink in sinks)))
    states = outbox_states(engine)
    open_rows = sum(states.get(s, 0) for s in ("queued", "sending", "deferred"))
    if total != expected or distinct != expected or open_rows:
        raise AssertionError(
            f"{what}: the sink got {total} messages with {distinct} distinct Message-IDs, "
            f"{expected} expected; outbox {states}"
        )


def floor_send(sink: Sink, messages: list[tuple[str, list[str], bytes]]) -> tuple[float, str]:
    """The floor: the same messages, raw smtplib, one connection. (seconds, CPU summary)"""
    sink0, cpu0 = process_ticks(sink.process.pid), os.times()
    start = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", sink.port, timeout=30)
    for mail_from, rcpt_tos, content in messages:
        smtp.sendmail(mail_from, rcpt_tos, content)
    smtp.quit()
    wall = time.perf_counter() - start
    sink1, cpu1 = process_ticks(sink.process.pid), os.times()
    client = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / wall
    sink_cpu = (sink1 - sink0) / os.sysconf("SC_CLK_TCK") / wall
    return wall, f"CPU: smtplib {client:.0%}, sink {sink_cpu:.0%} of a core"


def floor_client(
    port: int, messages: list[tuple[str, list[str], bytes]], start: Any, done: Any
) -> None:
    """One raw smtplib connection (its own process), connected before the start signal."""
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    start.wait()
    for mail_from, rcpt_tos, content in messages:
        smtp.sendmail(mail_from, rcpt_tos, content)
    smtp.quit()
    done.put(os.getpid())


def floor_parallel(
    ctx: multiprocessing.context.SpawnContext,
    sink: Sink,
    messages: list[tuple[str, list[str], bytes]],
    connections: int,
) -> float:
    """The same messages split over `connections` raw smtplib processes at once: msg/s."""
    start, done = ctx.Event(), ctx.Queue()
    shares = [messages[i::connections] for i in range(connections)]
    procs = [
        ctx.Process(target=floor_client, args=(sink.port, share, start, done)) for share in shares
    ]
    for proc in procs:
        proc.start()
    time.sleep(1)  # each has started and connected
    began = time.perf_counter()
    start.set()
    for _ in procs:
        done.get(timeout=600)
    wall = time.perf_counter() - began
    for proc in procs:
        proc.join(30)
    return len(messages) / wall


def throughput_vs_smtplib(
    ctx: multiprocessing.context.SpawnContext,
    backend: str,
    url: str,
    n: int,
    rounds: int,
    workdir: Path,
    profile: bool,
) -> float:
    engine = _engine(url)
    sink = start_sink(ctx)
    try:
        started = time.perf_counter()
        world = build_world(engine, n)
        print(f"{backend}: {n} people built in {time.perf_counter() - started:.1f}s")
        worker_rates, floor_rates = [], []
        for r in range(rounds):
            started = time.perf_counter()
            queued = new_campaign(engine, world, f"Round {r + 1}")
            if queued != n:
                raise AssertionError(f"resolve queued {queued} rows, {n} expected")
            resolved = time.perf_counter() - started
            sink.call("reset", True)
            prof = str(workdir / "worker.prof") if profile and r == rounds - 1 else None
            run = run_workers(ctx, 1, url, [sink], str(workdir / "var"), profile_to=prof)
            check_delivery([sink], engine, n, f"{backend} round {r + 1}")
            messages = sink.call("take")
            sink.call("reset", False)
            floor, floor_cpu = floor_send(sink, messages)
            total, _ = sink.call("stats")
            if total != n:
                raise AssertionError(f"floor: the sink got {total} of {n} messages")
            size = sum(len(m[2]) for m in messages) / len(messages)
            worker_rates.append(n / run.seconds)
            floor_rates.append(n / floor)
            print(
                f"  round {r + 1}: resolve {resolved:.1f}s; worker {n / run.seconds:7.0f} msg/s "
                f"({run.seconds:.2f}s; {run.cpu_summary()}); "
                f"smtplib {n / floor:7.0f} msg/s ({floor:.2f}s; {floor_cpu}); "
                f"{size:.0f} bytes/message; "
                f"{n} delivered exactly once"
            )
            sys.stdout.flush()
            if prof is not None:
                print_profile(prof)
        ratio = max(worker_rates) / max(floor_rates)
        print(f"  best: worker {max(worker_rates):.0f} msg/s, smtplib {max(floor_rates):.0f} msg/s")
        return ratio
    finally:
        sink.stop()
        engine.dispose()


def print_profiles(workdir: Path, count: int) -> None:
    for path in sorted(workdir.glob(f"worker-{count}-*.prof")):
        print(f"  --- {count} worker(s): {path.name} ---")
        print_profile(str(path), limit=25)


def two_workers_vs_one(
    ctx: multiprocessing.context.SpawnContext,
    url: str,
    n: int,
    rounds: int,
    workdir: Path,
    profile: bool = False,
) -> float:
    """Two workers against one on PostgreSQL. Each worker hands its mail to a sink of its
    own, as each worker host would to its own relay (`--shared-sink`: both to one sink, whose
    single thread then caps what two workers can hand over)."""
    engine = _engine(url)
    sinks = [start_sink(ctx) for _ in range(1 if SHARED_SINK[0] else 2)]
    first = sinks[0]
    try:
        started = time.perf_counter()
        world = build_world(engine, n)
        print(f"postgres: {n} people built in {time.perf_counter() - started:.1f}s")
        rates: dict[int, list[float]] = {1: [], 2: []}
        floors: dict[int, list[float]] = {1: [], 2: []}
        for r in range(rounds):
            for count in (1, 2):
                queued = new_campaign(engine, world, f"Round {r + 1} x{count}")
                if queued != n:
                    raise AssertionError(f"resolve queued {queued} rows, {n} expected")
                used = sinks[:count]
                for sink in used:
                    sink.call("reset", count == 1)
                prof = None
                if profile and r == rounds - 1:
                    prof = str(workdir / f"worker-{count}-{{pid}}.prof")
                run = run_workers(ctx, count, url, used, str(workdir / "var"), profile_to=prof)
                check_delivery(used, engine, n, f"{count} worker(s), round {r + 1}")
                rates[count].append(n / run.seconds)
                split = " + ".join(str(w["sent"]) for w in run.workers)
                print(
                    f"  round {r + 1}, {count} worker(s): {n / run.seconds:7.0f} msg/s "
                    f"({run.seconds:.2f}s; sent {split}; {run.cpu_summary()}); "
                    f"{n} delivered exactly once"
                )
                if count == 1:
                    messages = first.call("take")
                sys.stdout.flush()
                if prof is not None:
                    print_profiles(workdir, count)
            # Reference, not a goal: how the floor itself scales from one connection to two
            # against one single-process sink on this machine.
            for connections in (1, 2):
                first.call("reset", False)
                floors[connections].append(floor_parallel(ctx, first, messages, connections))
            print(
                f"  round {r + 1}, raw smtplib: {floors[1][-1]:7.0f} msg/s over one connection, "
                f"{floors[2][-1]:7.0f} over two"
            )
        result("smtplib_two_connections_vs_one", f"{max(floors[2]) / max(floors[1]):.3f}")
        return max(rates[2]) / max(rates[1])
    finally:
        for sink in sinks:
            sink.stop()
        engine.dispose()


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def rss_by_queue(
    ctx: multiprocessing.context.SpawnContext,
    url: str,
    sizes: tuple[int, int],
    seconds: float,
    workdir: Path,
) -> None:
    small, big = sizes
    engine = _engine(url)
    sink = start_sink(ctx)
    try:
        started = time.perf_counter()
        world = build_world(engine, big, small=small)
        print(f"rss: {big} people built in {time.perf_counter() - started:.1f}s")
        for size, cohort in ((small, "small"), (big, None)):
            cancel_campaigns(engine)
            started = time.perf_counter()
            queued = new_campaign(engine, world, f"RSS {size}", cohort)
            if queued != size:
                raise AssertionError(f"resolve queued {queued} rows, {size} expected")
            resolved = time.perf_counter() - started
            sink.call("reset", False)
            run = run_workers(ctx, 1, url, [sink], str(workdir / "var"), seconds=seconds)
            w = run.workers[0]
            total, distinct = sink.call("stats")
            if total != distinct or total != w["sent"]:
                raise AssertionError(f"rss run: {total} messages, {distinct} distinct ids")
            print(
                f"  {queued} rows queued (resolve {resolved:.1f}s): the worker sent {w['sent']} "
                f"in {w['elapsed']:.1f}s; RSS when ready {w['rss_ready_mb']:.1f} MB, at the end "
                f"{w['rss_mb']:.1f} MB, peak (VmHWM) {w['hwm_mb']:.1f} MB"
            )
            result(f"worker_rss_mb_{size_label(size)}", f"{w['hwm_mb']:.1f}")
            sys.stdout.flush()
    finally:
        sink.stop()
        engine.dispose()


def result(name: str, value: str) -> None:
    print(f"RESULT {name}{'_whatif' if WHAT_IF else ''} {value}")
    sys.stdout.flush()


def print_profile(path: str, limit: int = 30) -> None:
    out = io.StringIO()
    stats = pstats.Stats(path, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)
    print("  --- the worker under cProfile (last round) ---")
    print("\n".join("  " + line for line in out.getvalue().splitlines() if line.strip()))


def _engine(url: str) -> Engine:
    return make_engine(url)


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="N = 2,000; RSS at 10k and 50k")
    parser.add_argument("--messages", type=int, help="N (default 20,000)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 1)")
    parser.add_argument(
        "--parts", default="a,b,c", help="which goals to measure: a, b, c (comma-separated)"
    )
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgres", "both"],
        help="database(s) for (a) (default both; quick: sqlite); (b) and (c) use PostgreSQL",
    )
    parser.add_argument(
        "--rss-sizes", help="rows queued for (c), e.g. 100000,1000000 (quick: 10000,50000)"
    )
    parser.add_argument("--rss-seconds", type=float, help="worker run per size (5; quick 2)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the worker(s) in (a) and (b)"
    )
    parser.add_argument(
        "--what-if",
        default="",
        help="diagnostics: try proposed src/ changes in the worker processes only\n"
        + "\n".join(f"  {k}: {v}" for k, v in WHAT_IFS.items())
        + "\n(comma-separated; RESULT names then end in _whatif)",
    )
    parser.add_argument(
        "--sink",
        choices=["aiosmtpd-bulk", "aiosmtpd", "lean"],
        default="aiosmtpd-bulk",
        help="the SMTP sink: aiosmtpd-bulk (default), aiosmtpd (as shipped, its own DATA), or\n"
        "lean (a minimal asyncio SMTP server)",
    )
    parser.add_argument(
        "--shared-sink",
        action="store_true",
        help="(b): both workers hand over to one sink (default: a sink per worker)",
    )
    args = parser.parse_args()
    SINK[0] = args.sink
    SHARED_SINK[0] = args.shared_sink
    WHAT_IF.extend(x for x in args.what_if.split(",") if x)
    unknown = set(WHAT_IF) - set(WHAT_IFS)
    if unknown:
        parser.error(f"unknown --what-if: {', '.join(sorted(unknown))}")
    if WHAT_IF:
        print(f"what-if (NOT Accord as shipped): {', '.join(WHAT_IFS[k] for k in WHAT_IF)}")
    n = args.messages or (2_000 if args.quick else 20_000)
    rounds = args.rounds or (1 if args.quick else 3)
    backend = args.backend or ("sqlite" if args.quick else "both")
    sizes = (10_000, 50_000) if args.quick else (100_000, 1_000_000)
    if args.rss_sizes:
        a, b = (int(x) for x in args.rss_sizes.split(","))
        sizes = (a, b)
    seconds = args.rss_seconds or (2.0 if args.quick else 5.0)
    parts = set(args.parts.split(","))
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        a_postgres = "a" in parts and backend in ("postgres", "both")
        if "a" in parts and backend in ("sqlite", "both"):
            url = f"sqlite:///{workdir / 'dispatch.db'}"
            ratio = throughput_vs_smtplib(ctx, "sqlite", url, n, rounds, workdir, args.profile)
            result("dispatch_vs_smtplib", f"{ratio:.3f}")
            print(f"goal >= {GOAL_VS_SMTPLIB}: {'met' if ratio >= GOAL_VS_SMTPLIB else 'NOT met'}")
            sys.stdout.flush()
        if a_postgres or "b" in parts:
            on_postgres(ctx, n, rounds, workdir, args.profile, a_postgres, "b" in parts)
        if "c" in parts:
            rss_on_postgres_or_sqlite(ctx, sizes, seconds, workdir)


def on_postgres(
    ctx: multiprocessing.context.SpawnContext,
    n: int,
    rounds: int,
    workdir: Path,
    profile: bool,
    part_a: bool,
    part_b: bool,
) -> None:
    """(a) on PostgreSQL and (b), each on a fresh database."""
    pg_url = fresh_postgres(PG_THROUGHPUT)
    if pg_url is None:
        print("postgres: not reachable, skipped")
        return
    try:
        if part_a:
            ratio = throughput_vs_smtplib(ctx, "postgres", pg_url, n, rounds, workdir, profile)
            result("dispatch_vs_smtplib_postgres", f"{ratio:.3f}")
            sys.stdout.flush()
        if part_a and part_b:
            drop_postgres(PG_THROUGHPUT)
            pg_url = fresh_postgres(PG_THROUGHPUT)
            assert pg_url is not None
        if part_b:
            ratio = two_workers_vs_one(ctx, pg_url, n, rounds, workdir, profile)
            result("dispatch_two_workers_vs_one_postgres", f"{ratio:.3f}")
            met = ratio >= GOAL_TWO_WORKERS
            print(f"goal >= {GOAL_TWO_WORKERS}: {'met' if met else 'NOT met'}")
            sys.stdout.flush()
    finally:
        drop_postgres(PG_THROUGHPUT)


def rss_on_postgres_or_sqlite(
    ctx: multiprocessing.context.SpawnContext,
    sizes: tuple[int, int],
    seconds: float,
    workdir: Path,
) -> None:
    """(c) on PostgreSQL, or on SQLite where PostgreSQL is not reachable."""
    found = fresh_postgres(PG_RSS)
    if found is None:
        print("rss: postgres not reachable, measured on SQLite")
    rss_url = found or f"sqlite:///{workdir / 'rss.db'}"
    try:
        rss_by_queue(ctx, rss_url, sizes, seconds, workdir)
    finally:
        if found is not None:
            drop_postgres(PG_RSS)


if __name__ == "__main__":
    main()
