"""Benchmark: dashboard page latency with many reps under concurrent clients.

Builds a demo workspace (default 500 reps), starts ``wholejob serve`` in a
subprocess on a free loopback port, warms the cache once, then has N concurrent
clients (default 20) request each page a fixed number of times and prints p50
and p95 latency per page. Run it with ``python benchmarks/web_latency.py``;
it is not part of the test suite. Traffic goes to 127.0.0.1 only and every
loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _build(folder: Path, reps: int, weeks: int) -> tuple[str, str]:
    from wholejob.access import add_user, create_token
    from wholejob.demo import generate_demo
    from wholejob.importing.importer import import_paths
    from wholejob.workspace import init_workspace

    generate_demo(folder / "data", reps=reps, weeks=weeks, seed=7)
    ws = init_workspace(folder / "ws")
    try:
        import_paths(ws, [folder / "data"])
        add_user(ws, "bench", "benchmark-password", "admin")
        token = create_token(ws, "bench", "benchmark")[1]
        rep = str(ws.raw.execute(
            "SELECT min(rep_id) FROM reps WHERE role = 'rep'").fetchall()[0][0])
    finally:
        ws.close()
    return token, rep


def _get(url: str, token: str, timeout: float = 120) -> float:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return time.perf_counter() - start


def _load(url: str, token: str, clients: int, requests: int) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()
    per_client = max(1, requests // clients)

    def worker() -> None:
        for _ in range(per_client):
            t = _get(url, token)
            with lock:
                times.append(t)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=13)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="wholejob-bench-"))
    proc = None
    try:
        t0 = time.perf_counter()
        token, rep = _build(folder, args.reps, args.weeks)
        built = time.perf_counter() - t0
        port = _free_port()
        log = (folder / "server.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-c", "from wholejob.cli.app import main; main()", "serve",
             "-w", str(folder / "ws"), "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=log)
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"wholejob serve exited with code {proc.returncode}")
            try:
                urllib.request.urlopen(f"{base}/signin", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        pages = {
            "team overview (/team)": "/team",
            "team JSON (/api/team)": "/api/team",
            "rep page (/reps/ID)": f"/reps/{rep}",
            "coaching queue (/coaching)": "/coaching",
        }
        results = {}
        cold = _get(base + "/team", token, timeout=3600)  # computes the scorecard
        for name, path in pages.items():
            first = _get(base + path, token, timeout=3600)
            times = _load(base + path, token, args.clients, args.requests)
            results[name] = {"first_ms": round(first * 1000), "n": len(times),
                             "p50_ms": round(_pct(times, 0.5) * 1000),
                             "p95_ms": round(_pct(times, 0.95) * 1000),
                             "mean_ms": round(statistics.mean(times) * 1000)}
        machine = {"cpus": os.cpu_count(), "python": platform.python_version(),
                   "platform": platform.platform(), "processor": platform.processor()}
        out = {"reps": args.reps, "weeks": args.weeks, "clients": args.clients,
               "build_s": round(built, 1), "cold_team_ms": round(cold * 1000),
               "machine": machine, "pages": results}
        if args.json:
            print(json.dumps(out, indent=2))
            return
        print(f"{args.reps} reps, {args.weeks} weeks, {args.clients} concurrent clients; "
              f"workspace built in {built:.0f} s; first (cold) team overview {cold * 1000:.0f} ms")
        print(f"machine: {machine}")
        print(f"{'page':<30} {'n':>5} {'p50 ms':>8} {'p95 ms':>8}")
        for name, r in results.items():
            print(f"{name:<30} {r['n']:>5} {r['p50_ms']:>8} {r['p95_ms']:>8}")
    except Exception:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
            proc = None
        log_file = folder / "server.log"
        if log_file.exists():
            print(log_file.read_text()[-5000:], file=sys.stderr)
        raise
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
