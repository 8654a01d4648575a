"""The ``irs`` command."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from . import migrate
from .settings import Settings
from .wiring import connect_domains


@click.group(help="IRS: livestream-to-store retail server.")
def main() -> None:
    connect_domains()


@main.command(help="Migrate the database to head, then serve HTTP and WebSocket.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--migrate/--no-migrate", "run_migrations", default=True, show_default=True)
def serve(host: str, port: int, workers: int, run_migrations: bool) -> None:
    import uvicorn

    settings = Settings()
    settings.check_production_safety()
    if run_migrations:
        migrate.upgrade(settings.database_url)
    settings.signing_secret()  # create the development secret once, before workers race for it
    if workers > 1 and not settings.redis_url:
        # Without Redis each worker has a bus of its own: one worker's revocation would not reach the
        # others' account caches. They read accounts at every operation instead.
        os.environ["IRS_ACCOUNT_CACHE_SECONDS"] = "0"
        click.echo("several workers without IRS_REDIS_URL: the account cache is off", err=True)
    click.echo(f"IRS serving on http://{host}:{port}/graphql ({settings.env.value}, {workers} worker(s))")
    # On SIGTERM, guides' sockets get 10 s to close; they reconnect to another replica and catch up.
    uvicorn.run(
        "server.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
        proxy_headers=False,
    )  # the app believes X-Forwarded-For from IRS_TRUSTED_PROXIES only


@main.group(help="Database migrations (Alembic).")
def db() -> None:
    pass


@db.command(help="Upgrade to REVISION (default: head).")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    migrate.upgrade(Settings().database_url, revision)


@db.command(help="Downgrade to REVISION (default: one step back; 'base' empties the database).")
@click.argument("revision", default="-1")
def downgrade(revision: str) -> None:
    migrate.downgrade(Settings().database_url, revision)


@db.command(help="Print the database's current revision.")
def current() -> None:
    from alembic import command

    command.current(migrate.alembic_config(Settings().database_url), verbose=False)


@main.group(help="Write data out.", name="export")
def export_group() -> None:
    pass


@export_group.command(help="A month's commissions as CSV, one row per beneficiary (the ledger's sums).")
@click.option("--period", required=True, help="The month, YYYY-MM (in IRS_BRAND_TIMEZONE).")
@click.option("--output", default="-", show_default=True, type=click.File("w"), help="A file, or - for stdout.")
def commissions(period: str, output) -> None:
    from .db import Database
    from .domains.common.errors import DomainError
    from .domains.ledger.export import commissions_csv
    from .domains.ledger.periods import window_of

    settings = Settings()
    try:
        if not window_of(period, settings.brand_zone).is_month:
            raise click.BadParameter("a month, YYYY-MM", param_hint="--period")
    except DomainError:
        raise click.BadParameter("a month, YYYY-MM", param_hint="--period") from None

    async def run() -> str:
        database = Database.connect(settings.database_url)
        try:
            async with database.reader() as session:
                return await commissions_csv(session, period)
        finally:
            await database.dispose()

    output.write(asyncio.run(run()))


@main.group(help="Load data.")
def seed() -> None:
    pass


@seed.command(help="The demo brand Elegance: 200 stores, staff, catalog, a livestream. Idempotent.")
def demo() -> None:
    from .clock import utcnow
    from .db import Database
    from .demo.seed import SeedRefused, seed_demo

    settings = Settings()
    if settings.is_production:
        raise click.ClickException("refused: the demo brand is never seeded when IRS_ENV=production")
    migrate.upgrade(settings.database_url)

    async def run():
        database = Database.connect(settings.database_url)
        try:
            async with database.writer() as session:
                return await seed_demo(session, production=settings.is_production, now=utcnow())
        finally:
            await database.dispose()

    try:
        report = asyncio.run(run())
    except SeedRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    created = ", ".join(f"{n} {what}" for what, n in report.created.items() if n) or "nothing new: it was there"
    click.echo(f"Demo brand Elegance seeded ({created}).")
    click.echo("Demo logins (password for every account: elegance2026):")
    for username, what in report.logins:
        click.echo(f"  {username:<14} {what}")
    click.echo("  sNNN.manager / sNNN.guide1..3 exist for every store S001..S200; every guide has weekly shifts.")
    click.echo(
        'Customers sign in with customerLogin(input: {phone: <any mobile>, smsCode: "000000"}) (development only).'
    )


@main.group(help="Play scenarios against a server.")
def simulate() -> None:
    pass


@simulate.command(help="The demo brand's livestream day, end to end through the GraphQL API, then its KPIs.")
@click.option("--viewers", default=150, show_default=True, type=click.IntRange(1, 5000), help="Viewers who join.")
@click.option("--stores", default=12, show_default=True, type=click.IntRange(1, 200), help="Demo stores in play.")
@click.option("--seed", default=2026, show_default=True, type=int, help="The same seed plays the same day.")
@click.option("--buy-share", default=0.6, show_default=True, type=click.FloatRange(0, 1), help="Visitors who buy.")
@click.option("--url", default=None, help="A running server (http://host:port); default: an embedded one.")
def livestream(viewers: int, stores: int, seed: int, buy_share: float, url: str | None) -> None:
    from rich.console import Console

    from .simulation.plan import Options
    from .simulation.run import simulate as play

    options = Options(viewers=viewers, stores=stores, seed=seed, buy_share=buy_share)
    console = Console(width=None if Console().is_terminal else 110)
    if asyncio.run(play(options, url, console)).tally.failures:
        raise click.ClickException("some steps were refused (listed above)")


@main.command("export-schema", help="Write the GraphQL SDL (default: schema.graphql).")
@click.option("--output", default="schema.graphql", show_default=True, type=click.Path(path_type=Path))
def export_schema(output: Path) -> None:
    output.write_text(schema_sdl())
    click.echo(f"wrote {output}")


@main.command("sandbox-pay", help="Serve the payment sandbox: WeChat Pay API v3 and Alipay, for development.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int)
@click.option(
    "--keys-dir",
    default=".sandbox-pay",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where its keys are kept (generated on the first run).",
)
def sandbox_pay(host: str, port: int, keys_dir: Path) -> None:
    import uvicorn

    from .domains.payments.providers.sandbox import SandboxKeys, merchant_environment, sandbox_app

    keys_dir = keys_dir.resolve()
    keys = SandboxKeys.load_or_generate(keys_dir)
    base_url = f"http://{host}:{port}"
    click.echo(f"Payment sandbox on {base_url} (keys in {keys_dir}). A development server uses it with:")
    for name, value in merchant_environment(keys, base_url, keys_dir).items():
        click.echo(f"{name}={value}")
    click.echo(f"Charges: {base_url}/sandbox/charges; pay one: POST {base_url}/sandbox/pay/<provider>/<out_trade_no>")
    uvicorn.run(sandbox_app(keys), host=host, port=port, log_level="info")


def schema_sdl() -> str:
    from .api.schema import build_schema

    return build_schema(Settings()).as_str() + "\n"


if __name__ == "__main__":
    main()
