"""GraphQL throughput of one server process, measured from a second process.

Starts `irs serve` (1 uvicorn worker) on a seeded database, signs in as a
store manager, then keeps CONCURRENCY requests in flight for DURATION seconds
for each scenario and prints one JSON line of figures.

    .venv/bin/python bench/graphql_throughput.py                 # SQLite (temp file)
    IRS_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/irs_bench \
        .venv/bin/python bench/graphql_throughput.py              # PostgreSQL (must exist)
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DURATION = float(os.environ.get("IRS_BENCH_SECONDS", "10"))
CONCURRENCY = int(os.environ.get("IRS_BENCH_CONCURRENCY", "32"))

SCENARIOS = {
    "typename": ("{ __typename }", {}),  # the stack's floor: HTTP, GraphQL, the unit of work; no statement
    "me": ("{ me { displayName ... on StaffUser { role store { code } } } }", {}),
    "stores_page_20": (
        "query($c: String) { stores(first: 20, city: $c) { totalCount edges { node { code name "
        "location { latitude longitude } services { code } } } } }",
        {"c": "上海"},
    ),
    "livestream_with_products": (
        "{ livestreams(first: 5) { edges { node { title talkingPoints "
        "team { name } products { sku price { amount } category { name } } } } } }",
        {},
    ),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict, port: int) -> subprocess.Popen:
    irs = [sys.executable, "-m", "server.cli"]
    subprocess.run([*irs, "seed", "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    server = subprocess.Popen(
        [*irs, "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not become ready")


async def run_scenario(client: httpx.AsyncClient, token: str, query: str, variables: dict) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + DURATION

    async def worker():
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables}, headers={"authorization": f"Bearer {token}"}
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200 or "errors" in response.json():
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
        "errors": errors,
    }


async def measure(port: int) -> dict:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as client:
        login = await client.post(
            "/graphql",
            json={
                "query": 'mutation { staffLogin(username: "s001.manager", '
                'password: "elegance2026") { session { accessToken } } }'
            },
        )
        token = login.json()["data"]["staffLogin"]["session"]["accessToken"]
        return {name: await run_scenario(client, token, q, v) for name, (q, v) in SCENARIOS.items()}


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        database_url = os.environ.get("IRS_BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{scratch}/bench.db"
        env = {**os.environ, "IRS_DATABASE_URL": database_url, "IRS_VAR_DIR": scratch, "IRS_LOG_LEVEL": "WARNING"}
        port = free_port()
        server = start_server(env, port)
        try:
            figures = asyncio.run(measure(port))
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(
        json.dumps(
            {
                "bench": "graphql_throughput",
                "database": database_url.split(":")[0],
                "workers": 1,
                "concurrency": CONCURRENCY,
                "seconds_per_scenario": DURATION,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "scenarios": figures,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
