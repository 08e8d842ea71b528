"""`digits serve`: the web app under uvicorn, with an admin token for this run if none is set."""

from __future__ import annotations

import os
import secrets
import sys
from contextlib import suppress

from app.cli.common import add_command, home_line, within


def add_parser(sub) -> None:
    p = add_command(
        sub,
        "serve",
        "run the web app: the drawing page, the API, the admin page",
        "Run the web app (uvicorn on app.main:create_app). Without DIGITS_ADMIN_TOKEN it makes "
        "a random admin token for this run and prints it once.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on; 0.0.0.0 for every network interface",
    )
    p.add_argument(
        "--port",
        type=within(0, 65_535),
        default=8000,
        help="the TCP port to listen on (0: any free one)",
    )
    p.add_argument(
        "--workers",
        type=within(1, 64),
        default=1,
        help="server processes; each loads the model and follows its activations",
    )
    p.set_defaults(run=run)


# On SIGTERM, how long open connections may take to finish before they are closed: a job's
# progress stream stays open while the job runs (up to an hour), and a rolling restart must not
# wait for it (the admin page reconnects, to this host once it is back or to another).
GRACEFUL_SHUTDOWN_SECONDS = 10


def run(args) -> int:
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    from app.config import get_settings

    print(home_line(), flush=True)
    if os.environ.get("DIGITS_DATABASE_URL", "").strip():
        print(_database_line(os.environ["DIGITS_DATABASE_URL"]), flush=True)
    # Every worker reads the admin token from the environment. With none set, make a random one
    # for this run and show it once, on the terminal only (never through logging); replicas on
    # several hosts must share one, so there it has to be set.
    if not os.environ.get("DIGITS_ADMIN_TOKEN", "").strip():
        if os.environ.get("DIGITS_DATABASE_URL", "").strip():
            raise ValueError(
                "with DIGITS_DATABASE_URL set, set DIGITS_ADMIN_TOKEN too, the same on every host "
                "(a random token per host would let the admin in on one host only)"
            )
        token = secrets.token_urlsafe(24)
        os.environ["DIGITS_ADMIN_TOKEN"] = token
        url = f"http://{args.host}:{args.port}/admin"
        print(
            f"\n    The admin page is at {url}\n"
            f"    Admin token for this run (set DIGITS_ADMIN_TOKEN to choose your own):\n\n"
            f"        {token}\n",
            flush=True,
        )
    get_settings.cache_clear()
    settings = get_settings()  # refuse a weak DIGITS_ADMIN_TOKEN here, before any worker starts
    # A client is its address (rate limits, the admin lockout). X-Forwarded-For is believed only
    # from the reverse proxies named in DIGITS_TRUSTED_PROXIES, so no client can pick its key.
    proxies = settings.trusted_proxies
    config = uvicorn.Config(
        "app.main:create_app",
        log_config=_log_config(),
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=proxies is not None,
        forwarded_allow_ips=proxies,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    if args.workers == 1:
        with suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl+C once it has shut down
            uvicorn.Server(config).run()  # exits with STARTUP_FAILURE itself if it cannot start
        return 0
    # uvicorn.run would return normally when a worker fails to start (a database that is down,
    # an unreadable feedback store), and a service manager told "exit 0" does not restart it.
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    with suppress(KeyboardInterrupt):
        supervisor.run()
    if any(worker.exitcode == STARTUP_FAILURE for worker in supervisor.processes):
        print("digits serve: a worker could not start (its error is above)", file=sys.stderr)
        return STARTUP_FAILURE
    return 0


def _log_config() -> dict:
    """uvicorn's own logging, and the app's lines beside it in the same form ("INFO:     serving
    model version …", "WARNING:  …"): without this only uvicorn's loggers have a handler, so
    the app's INFO lines (a model swapped, a job started or ended) were never written."""
    from uvicorn.config import LOGGING_CONFIG

    ours = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return {**LOGGING_CONFIG, "loggers": {**LOGGING_CONFIG["loggers"], "app": ours, "model": ours}}


def _database_line(url: str) -> str:
    """Which shared database the state is in, without its password."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        at = conninfo_to_dict(url)
    except psycopg.ProgrammingError:  # the settings refuse it next, with their own message
        return "shared database: (DIGITS_DATABASE_URL, unreadable)"
    where = f"{at.get('host', 'localhost')}:{at.get('port', 5432)}/{at.get('dbname', '')}"
    return f"shared database: {at.get('user', '(default user)')}@{where} (DIGITS_DATABASE_URL)"
