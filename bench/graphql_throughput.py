"""GraphQL throughput of one server process, measured from a second process.

Starts `irs serve` (1 uvicorn worker) on a seeded database, signs in as a
store manager, then keeps CONCURRENCY requests in flight for DURATION seconds
for each scenario and prints one JSON line of figures.

    .venv/bin/python bench/graphql_throughput.py                 # SQLite (temp file)
    IRS_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/irs_bench \
        .venv/bin/python bench/graphql_throughput.py              # PostgreSQL (must exist)
    IRS_BENCH_CLIENT=wrk .venv/bin/python bench/graphql_throughput.py   # load from wrk (Debian's `wrk`)
    IRS_BENCH_SCENARIOS=me .venv/bin/python bench/graphql_throughput.py  # only these scenarios (to profile one)

Beside requests/s and latency, each scenario reports the CPU it cost, in milliseconds per request: the
server's processes, PostgreSQL's backends of the bench database, and the load generator (bench.checkout's
CpuMeter around the scenario). `me_over_typename` is the signed-in floor against the stack's own.
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
sys.path.insert(0, str(ROOT))

from bench.checkout import CpuMeter  # noqa: E402
from bench.wrk import run_wrk  # noqa: E402

DURATION = float(os.environ.get("IRS_BENCH_SECONDS", "10"))
CONCURRENCY = int(os.environ.get("IRS_BENCH_CONCURRENCY", "32"))
CLIENT = os.environ.get("IRS_BENCH_CLIENT", "python")  # python | wrk
WRK_SCRIPT = ROOT / "bench" / "wrk_post.lua"
ONLY = [name for name in os.environ.get("IRS_BENCH_SCENARIOS", "").split(",") if name]  # e.g. "me" to profile one

# The demo's store manager: every scenario is asked as her.
STAFF_LOGIN = 'mutation { staffLogin(username: "s001.manager", password: "elegance2026") { session { accessToken } } }'
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
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
        "errors": errors,
    }


async def scenario_from_wrk(port: int, token: str, query: str, variables: dict) -> dict:
    """The scenario from wrk (2 threads, CONCURRENCY connections, DURATION seconds); answers are not read,
    so a scenario is checked once over HTTP first."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as body:
        json.dump({"query": query, "variables": variables}, body)
    arguments = ["-t2", f"-c{CONCURRENCY}", f"-d{round(DURATION)}s", "-s", str(WRK_SCRIPT)]
    summary = await run_wrk([*arguments, f"http://127.0.0.1:{port}/graphql", "--", body.name, token])
    os.unlink(body.name)
    return {
        "requests": summary["requests"],
        "requests_per_s": round(summary["requests"] / summary["seconds"], 1),
        "p50_ms": summary["latency_ms"]["p50"],
        "p95_ms": summary["latency_ms"]["p95"],
        "errors": summary["non_2xx"] + summary["socket_errors"],
        "wrk_cpu_s": summary["wrk_cpu_s"],
    }


async def measured(client: httpx.AsyncClient, server: int, database: str, port: int, token: str, scenario) -> dict:
    query, variables = scenario
    checked = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"authorization": f"Bearer {token}"}
    )
    if checked.status_code != 200 or "errors" in checked.json():
        raise SystemExit(f"the scenario fails: {checked.text[:300]}")
    async with CpuMeter(server, database) as meter:
        if CLIENT == "wrk":
            figures = await scenario_from_wrk(port, token, query, variables)
        else:
            figures = await run_scenario(client, token, query, variables)
    cost = meter.per(figures["requests"], "request")
    if "wrk_cpu_s" in figures:
        cost["client_cpu_ms_per_request"] = round(figures.pop("wrk_cpu_s") * 1000 / max(1, figures["requests"]), 3)
    return {**figures, "cpu": cost}


async def measure(port: int, server: int, database: str) -> dict:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as client:
        login = await client.post("/graphql", json={"query": STAFF_LOGIN})
        token = login.json()["data"]["staffLogin"]["session"]["accessToken"]
        return {
            name: await measured(client, server, database, port, token, scenario)
            for name, scenario in SCENARIOS.items()
            if not ONLY or name in ONLY
        }


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        database_url = os.environ.get("IRS_BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{scratch}/bench.db"
        env = {**os.environ, "IRS_DATABASE_URL": database_url, "IRS_VAR_DIR": scratch, "IRS_LOG_LEVEL": "WARNING"}
        port = free_port()
        server = start_server(env, port)
        try:
            figures = asyncio.run(measure(port, server.pid, database_url.rsplit("/", 1)[1]))
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
                "client": CLIENT,
                "seconds_per_scenario": DURATION,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "scenarios": figures,
                "me_over_typename": round(
                    figures["me"]["requests_per_s"] / max(1.0, figures["typename"]["requests_per_s"]), 3
                )
                if {"me", "typename"} <= figures.keys()
                else None,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
