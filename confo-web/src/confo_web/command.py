"""``confo web URL``: the console, served on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import os
import secrets

import click

TOKEN_VARIABLE = "CONFO_WEB_TOKEN"  # noqa: S105 (a variable's name)


@click.command("web")
@click.argument("url")
@click.option("--port", type=click.IntRange(0, 65535), default=8734, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Where to listen. Anything but loopback exposes the console: put TLS before it.",
)
@click.option("--read-only", is_flag=True, help="Refuse every write.")
@click.option(
    "--timeout", type=float, default=10.0, show_default=True, help="Seconds to reach the store."
)
def web(url: str, port: int, host: str, read_only: bool, timeout: float) -> None:
    """A web console for the store at URL: namespaces, a JSON editor with schema checks, a
    diff before every save, history with rollback, live updates.

    Every request needs a token: the one in CONFO_WEB_TOKEN, or a new one printed once here.
    """
    import uvicorn  # noqa: PLC0415 (only when serving)

    from confo.history import default_author  # noqa: PLC0415
    from confo_cli.stores import opened  # noqa: PLC0415
    from confo_web.app import create_app  # noqa: PLC0415

    given = os.environ.get(TOKEN_VARIABLE)
    token = given or secrets.token_urlsafe(24)
    with opened(url, timeout) as store:
        # One token, no user accounts: records name the console's user, and say it was here.
        store.confo.author = f"{default_author()} via confo web"
        app = create_app(store.confo, token=token, label=store.url, read_only=read_only)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        shown = f"[{host}]" if ":" in host else host
        click.echo(
            f"Confo console for {store.url}{' (read-only)' if read_only else ''}: "
            f"http://{shown}:{port}/"
        )
        if given:
            click.echo(f"Log in with the token in {TOKEN_VARIABLE}.")
        else:
            click.echo(f"Log in with this token (shown once): {token}")
        server.run()
