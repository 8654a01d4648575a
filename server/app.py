"""The ASGI application: ``create_app(settings)``."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from .api.context import Runtime
from .api.http import GraphQLHTTPEndpoint
from .api.live import SharedLiveReads
from .api.request_id import RequestIdMiddleware
from .api.schema import build_schema
from .api.websocket import GraphQLWebSocket
from .bus import DurableConsumer, OutboxRelay, create_bus
from .clock import Clock, SystemClock
from .db import Database
from .domains.auth.confirmations import StaffConfirmations
from .domains.auth.tokens import TokenPolicy
from .domains.common.ratelimits import AbuseLimits, Limiter
from .domains.dashboards.boards import LiveBoards, figures_reader
from .domains.dashboards.web import dashboard_routes
from .domains.identity.policy import IdentityPolicy
from .domains.identity.verifiers import Verifiers
from .domains.ledger.posting import CONSUMER as LEDGER_CONSUMER
from .domains.ledger.posting import handle_order_event, read_ahead
from .domains.messaging.channels import channels_from_settings
from .domains.payments.http import notify as payment_notification
from .domains.payments.setup import SANDBOX_PATH, payment_setup
from .logs import configure_logging
from .migrate import database_revisions, head_revisions
from .scheduler import Scheduler, payment_jobs, social_jobs, standard_jobs
from .settings import Settings
from .wiring import connect_domains

logger = logging.getLogger("irs")
GC_YOUNG_THRESHOLD = 20_000


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and its schema is at the migrations' head."""
    runtime: Runtime = request.app.state.runtime
    try:
        async with runtime.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        current = await database_revisions(runtime.db.engine)
    except Exception as error:
        logger.warning("readiness: database unreachable: %s", error)
        return JSONResponse({"status": "unavailable", "reason": "database unreachable"}, 503)
    if current != head_revisions():
        return JSONResponse(
            {
                "status": "unavailable",
                "reason": "migrations not at head",
                "current": sorted(current),
                "head": sorted(head_revisions()),
            },
            503,
        )
    return JSONResponse({"status": "ready"})


def ledger_consumer(db: Database, clock: Clock, settings: Settings) -> DurableConsumer:
    """Credits paid orders and reverses refunds into the commission ledger, once each, on any replica."""
    zone = settings.brand_zone
    return DurableConsumer(
        db,
        clock,
        LEDGER_CONSUMER,
        lambda s, m, now: handle_order_event(s, m, now, zone),
        settings.outbox_sweep_seconds,
        read_ahead=read_ahead,
    )


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, timer: Callable[[], float] = time.monotonic
) -> Starlette:
    settings = settings or Settings()
    settings.check_production_safety()
    connect_domains()
    configure_logging(settings.log_level)
    schema = build_schema(settings)
    tokens = TokenPolicy.from_settings(settings)
    identity = IdentityPolicy(tombstone_salt=settings.tombstone_salt(), max_event_amount=settings.max_event_amount)
    if settings.identity_blocked_values is not None:
        identity = replace(identity, blocked_values=frozenset(v.lower() for v in settings.identity_blocked_values))
    verifiers = Verifiers.from_settings(settings)
    payments = payment_setup(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        db = Database.connect(settings.database_url)
        bus = create_bus(settings.redis_url, settings.bus_channel_prefix, settings.bus_batches)
        await bus.start()
        limiter = Limiter.connect(settings.redis_url, settings.rate_limit_key_prefix)
        the_clock = clock or SystemClock()
        live_boards = LiveBoards(bus, figures_reader(db.live_reader, the_clock), timer=timer)
        confirmations = StaffConfirmations(bus, settings.account_cache_seconds, timer=timer)
        await confirmations.start()
        db.commit_listeners.append(confirmations.forget_committed)
        runtime = Runtime(
            settings=settings,
            db=db,
            tokens=tokens,
            clock=the_clock,
            identity=identity,
            verifiers=verifiers,
            bus=bus,
            timer=timer,
            limits=AbuseLimits.from_settings(settings, limiter),
            live_boards=live_boards,
            confirmations=confirmations,
            live_reads=SharedLiveReads(db.live_reader),
            payments=payments.providers,
        )
        relay = OutboxRelay(
            db, bus, runtime.clock, settings.outbox_sweep_seconds, settings.outbox_relay_spacing_seconds
        )
        await relay.start()
        ledger = ledger_consumer(db, runtime.clock, settings)
        if settings.scheduler:
            await ledger.start()
        channels = channels_from_settings(settings, verifiers.sms)
        jobs = standard_jobs(
            runtime.task_policy, timedelta(minutes=settings.no_show_minutes), channels, settings.brand_name
        )
        jobs += payment_jobs(payments.providers, timedelta(minutes=settings.payment_reconcile_minutes))
        jobs += social_jobs(settings.public_url, settings.brand_name)
        scheduler = Scheduler(db, runtime.clock, jobs)
        if settings.scheduler:
            scheduler.start()
        app.state.runtime, app.state.relay, app.state.scheduler = runtime, relay, scheduler
        app.state.ledger = ledger
        app.state.message_channels = channels
        try:
            yield
        finally:
            await scheduler.close()
            await live_boards.close()
            await confirmations.close()
            await ledger.close()
            await relay.close()
            await bus.close()
            await limiter.close()
            await db.dispose()

    routes = [
        Route(
            "/graphql",
            GraphQLHTTPEndpoint(
                schema,
                graphiql=bool(settings.graphiql),
                concurrency=settings.http_concurrency,
                staff_concurrency=settings.http_staff_concurrency,
            ).handle,
            methods=["GET", "POST"],
        ),
        WebSocketRoute("/graphql", GraphQLWebSocket(schema, allowed_origins=settings.cors_origins or [])),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/payments/{provider}/notify", payment_notification, methods=["POST"]),
        *dashboard_routes(),
    ]
    if payments.sandbox is not None:
        routes.append(Mount(SANDBOX_PATH, app=payments.sandbox))
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware(settings))
    app.state.schema = schema
    return app


CORS_REQUEST_HEADERS = ["authorization", "content-type", "x-request-id", "x-source-key"]


def middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: a request id on every answer (preflights too), the client address a trusted
    proxy forwarded, then CORS for the allowed origins."""
    stack = [Middleware(RequestIdMiddleware)]
    if settings.trusted_proxies:
        stack.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies))
    stack.append(
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins or [],
            allow_methods=["GET", "POST"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=["X-Request-ID"],
            max_age=600,
        )
    )
    return stack


def create_app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` and ``irs serve``: the app of a serving process."""
    app = create_app(Settings())
    settle_garbage_collector()
    return app


def settle_garbage_collector() -> None:
    """Tune the collector for a serving process (not for tests, which build many apps).

    What start-up built (schema, models, statements) lives as long as the process:
    freeze it out of the collector's sight. And collect the young generation less
    often: at the default threshold (700 allocations) a busy process walks every
    request's short-lived objects again and again (measured: +5-10 % bookings/s
    in the surge bench, and shorter latency tails).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
