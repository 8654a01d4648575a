"""Running wrk (Debian's `wrk`, a C load generator) from a bench: its Lua script's one-line JSON summary,
and the CPU seconds wrk spent, so the client's cost can be reported beside the server's."""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import signal
from collections.abc import Awaitable, Callable

Process = asyncio.subprocess.Process


async def run_wrk(arguments: list[str], until: Callable[[Process], Awaitable[None]] | None = None) -> dict:
    """``wrk *arguments``; with ``until``, wrk is interrupted (it prints its summary then) once ``until``
    returns, since wrk otherwise runs its whole ``-d`` whatever its script says. The summary gains
    ``wrk_cpu_s``."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("this bench's wrk client needs wrk: apt-get install wrk")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = await asyncio.create_subprocess_exec(wrk, *arguments, stdout=asyncio.subprocess.PIPE)
    if until is not None:
        await until(process)
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
    output, _ = await process.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        summary = json.loads(output.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit(f"wrk gave no summary: {output.decode()[-2000:]}") from None
    summary["wrk_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return summary
