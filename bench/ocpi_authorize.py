"""Benchmark: OCPI real-time authorize (``POST /ocpi/2.2.1/tokens/{uid}/authorize``)
at a fixed offered rate against a live server (gunicorn with the project's
gunicorn.conf.py, as in production and `make run`).

Builds a fresh database (SQLite file in a temporary folder, or DATABASE_URL) with
--tokens RFID cards (one in ten blocked) and a registered partner, starts gunicorn on a
free port, and sends requests open-loop: request i is due at start + i / rate, whatever
the earlier answers, from a pool of keep-alive connections. Latency is measured from
the time a request was due (a late start counts against us, so a slow server cannot
hide behind fewer requests). 95 % of the uids are ours (with a LocationReferences
body), 5 % unknown (404 / 2004). Printed: achieved rate, p50 / p99 / max, outcomes.

    .venv/bin/python bench/ocpi_authorize.py [--rate 200] [--seconds 20]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKEN_C = "bench-authorize-token-c"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"the server did not listen on {port}")


def prepare(tokens: int) -> None:
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from evdms.accounts.keyed_hash import keyed_hash
    from evdms.accounts.models import User
    from evdms.ocpi.models import Partner, PartnerStatus
    from evdms.ocpi.transport import TOKEN_C_PURPOSE
    from evdms.public_charging.models import Token
    from evdms.testing.fixtures import make_organisation

    call_command("migrate", verbosity=0)
    org = make_organisation("bench", "Bench Lease")
    drivers = User.objects.bulk_create(
        [User(email=f"driver{i}@bench.example", full_name=f"Driver {i}") for i in range(1000)]
    )
    for offset in range(0, tokens, 10_000):
        Token.objects.bulk_create(
            [
                Token(
                    organisation=org,
                    driver=drivers[i % len(drivers)],
                    type="RFID",
                    uid=f"BENCH{i:010d}",
                    contract_id=f"NL-EVD-B{i:08d}-X",
                    visual_number=f"EVD-{i:08d}",
                    valid=i % 10 != 0,
                    blocked="lost" if i % 10 == 0 else "",
                )
                for i in range(offset, min(offset + 10_000, tokens))
            ]
        )
    Partner.objects.create(
        name="Bench CPO",
        status=PartnerStatus.REGISTERED,
        token_c_hash=keyed_hash(TOKEN_C, purpose=TOKEN_C_PURPOSE),
        last_traffic_at=timezone.now() - timedelta(minutes=5),
    )
    connection.close()


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a gunicorn master and its workers (their /proc stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / tick
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except FileNotFoundError:
        return 0.0
    return own + sum(tree_cpu_seconds(c) for c in children)


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def load(
    port: int, rate: float, seconds: float, tokens: int, connections: int
) -> tuple[list[float], list[float], Counter[str], float]:
    """Open-loop load: (latency from due time ms, service time ms, outcomes, elapsed s)."""
    total = int(rate * seconds)
    header = "Token " + base64.b64encode(TOKEN_C.encode()).decode()
    body = json.dumps({"location_id": "LOC-BENCH-1", "evse_uids": ["EVSE-1", "EVSE-2"]})
    lock = threading.Lock()
    state = {"next": 0}
    due_ms: list[float] = []
    service_ms: list[float] = []
    outcomes: Counter[str] = Counter()
    start = time.perf_counter() + 0.2

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= total:
                break
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            if rng.random() < 0.05:
                uid = f"UNKNOWN{rng.randrange(10**9)}"
            else:
                uid = f"BENCH{rng.randrange(tokens):010d}"
            sent = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    f"/ocpi/2.2.1/tokens/{uid}/authorize?type=RFID",
                    body=body,
                    headers={
                        "Authorization": header,
                        "Content-Type": "application/json",
                        "X-Request-ID": f"bench-{i}",
                        "X-Correlation-ID": f"bench-{i}",
                    },
                )
                response = conn.getresponse()
                answer = json.loads(response.read())
            except (OSError, http.client.HTTPException, ValueError) as exc:
                with lock:
                    outcomes[f"error {type(exc).__name__}"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            done = time.perf_counter()
            if response.status == 200:
                outcome = answer["data"]["allowed"]
            else:
                outcome = f"HTTP {response.status} / {answer.get('status_code')}"
            with lock:
                due_ms.append((done - due) * 1000)
                service_ms.append((done - sent) * 1000)
                outcomes[outcome] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return due_ms, service_ms, outcomes, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200, help="offered requests per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--workers", type=int, help="gunicorn processes (gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per process (gunicorn.conf.py's)")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive client connections")
    args = parser.parse_args()

    env = {
        **os.environ,
        "EVDMS_VAR_DIR": tempfile.mkdtemp(prefix="evdms-bench-"),
        "EVDMS_ENV": "development",
        "EVDMS_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "evdms.settings",
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(env)
    database = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    print(
        f"{args.tokens} tokens, {args.rate:g} requests/s offered for {args.seconds:g} s, "
        f"gunicorn.conf.py (workers {args.workers or 'default'}, threads "
        f"{args.threads or 'default'}), {args.connections} "
        f"connections; database: {database}; CPUs {os.cpu_count()}; "
        f"load average before {os.getloadavg()[0]:.1f}"
    )
    prepare(args.tokens)
    port = free_port()
    # The project's gunicorn.conf.py, as production and `make run` use it; --workers and
    # --threads only when given here.
    tuning = [f"--workers={args.workers}"] if args.workers else []
    tuning += [f"--threads={args.threads}"] if args.threads else []
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            *tuning,
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        wait_port(port)
        load(port, min(args.rate, 50), 2, args.tokens, 4)  # warm every worker up
        load_before = load_average()
        cpu_before = tree_cpu_seconds(server.pid)
        client_before = time.process_time()
        due_ms, service_ms, outcomes, elapsed = load(
            port, args.rate, args.seconds, args.tokens, args.connections
        )
        server_cpu = tree_cpu_seconds(server.pid) - cpu_before
        client_cpu = time.process_time() - client_before
    finally:
        server.terminate()
        server.wait(30)
    answered = len(due_ms)
    print(f"answered {answered} in {elapsed:.1f} s: {answered / elapsed:.1f} requests/s achieved")
    print(
        f"from due time: p50 {statistics.median(due_ms):.1f} ms, "
        f"p99 {percentile(due_ms, 0.99):.1f} ms, max {max(due_ms):.1f} ms"
    )
    print(
        f"service time:  p50 {statistics.median(service_ms):.1f} ms, "
        f"p99 {percentile(service_ms, 0.99):.1f} ms"
    )
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    # On a shared machine the wall-clock figures measure the neighbours as much as us;
    # the server's CPU per answered request does not (much), and says what the cores
    # would serve were they ours.
    cores = os.cpu_count() or 1
    cpu_ms = server_cpu * 1000 / max(answered, 1)
    print(
        f"server CPU {cpu_ms:.2f} ms per request ({server_cpu:.1f} s for {answered}): "
        f"{cores} cores would serve {cores * 1000 / cpu_ms:.0f} requests/s; "
        f"the load generator used {client_cpu * 1000 / max(answered, 1):.2f} ms per request"
    )
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_average()}")
    p99 = percentile(due_ms, 0.99)
    print(f"target p99 < 20 ms at {args.rate:g}/s: {'met' if p99 < 20 else 'NOT met'}")
    if any(k.startswith("error") for k in outcomes):
        raise SystemExit("some requests failed")


if __name__ == "__main__":
    main()
