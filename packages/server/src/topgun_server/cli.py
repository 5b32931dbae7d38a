"""The ``topgun`` command: ``topgun serve`` and ``topgun token``.

Flags override ``TOPGUN_*`` environment variables, which override defaults: the
CLI passes only the flags that were given to :class:`ServerSettings` and lets
pydantic-settings read the rest. A configuration the server must refuse
(production without a strong secret, an unreadable key file…) ends with a clear
message on stderr and exit code 2.

In development without a configured secret the server generates one for this run
and logs it once together with a ready-to-use dev token (roles ADMIN and USER).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from topgun_server.app import build_app
from topgun_server.auth.keys import KeyMaterial, load_keys
from topgun_server.auth.tokens import mint_token
from topgun_server.runner import TopGunServer, bind, uvicorn_config
from topgun_server.settings import ConfigError, ServerSettings

__all__ = ["CONFIG_ERROR_EXIT", "app", "main", "settings_from_flags"]

_log = logging.getLogger("topgun_server")

CONFIG_ERROR_EXIT = 2
DEV_TOKEN_TTL_S = 24 * 3600

app = typer.Typer(add_completion=False, no_args_is_help=True, help="TopGun server.")


def settings_from_flags(**flags: object) -> ServerSettings:
    """Settings from the flags that were given (None: not given) over the environment."""
    given = {name: value for name, value in flags.items() if value is not None}
    try:
        return ServerSettings(**given)  # type: ignore[arg-type]  # validated by pydantic
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from None


def _fail(exc: ConfigError) -> typer.Exit:
    typer.echo(f"topgun: configuration error: {exc}", err=True)
    return typer.Exit(CONFIG_ERROR_EXIT)


@app.command()
def serve(  # noqa: PLR0913, PLR0917 - typer maps one parameter to one flag
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (0: any free port).")] = None,
    storage: Annotated[
        str | None, typer.Option(help="memory | sqlite:///path | postgresql://…")
    ] = None,
    env: Annotated[str | None, typer.Option(help="development | production")] = None,
    jwt_secret: Annotated[
        str | None, typer.Option(help="HS256 secret (prefer TOPGUN_JWT_SECRET).")
    ] = None,
    jwt_public_key_file: Annotated[
        Path | None, typer.Option(help="PEM public key (RS256/ES256).")
    ] = None,
    policies_file: Annotated[Path | None, typer.Option(help="JSON list of policies.")] = None,
    connections_max: Annotated[int | None, typer.Option(help="Maximum open connections.")] = None,
    client_msgs_per_s: Annotated[
        float | None, typer.Option(help="Per-client message rate.")
    ] = None,
    log_level: Annotated[str | None, typer.Option(help="CRITICAL|ERROR|WARNING|INFO|DEBUG")] = None,
) -> None:
    """Run the server (WebSocket at /ws, HTTP on the same port)."""
    try:
        settings = settings_from_flags(
            host=host, port=port, storage=storage, env=env, jwt_secret=jwt_secret,
            jwt_public_key_file=jwt_public_key_file, policies_file=policies_file,
            connections_max=connections_max, client_msgs_per_s=client_msgs_per_s,
            log_level=log_level,
        )  # fmt: skip
        # Read once here (HARDENING §14): TOPGUN_DEBUG turns on debug logging everywhere.
        level = "DEBUG" if settings.debug else settings.log_level
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        keys = load_keys(settings)
        application = build_app(settings, keys=keys)
    except ConfigError as exc:
        raise _fail(exc) from None
    _announce_dev_key(keys)
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        typer.echo(f"topgun: cannot listen on {settings.host}:{settings.port}: {exc}", err=True)
        raise typer.Exit(1) from None
    bound_host, bound_port = sock.getsockname()[:2]
    _log.info(
        "listening on http://%s:%d (WebSocket: ws://%s:%d/ws)",
        bound_host,
        bound_port,
        bound_host,
        bound_port,
    )
    server = TopGunServer(uvicorn_config(application, settings))
    asyncio.run(server.serve(sockets=[sock]))


def _announce_dev_key(keys: KeyMaterial) -> None:
    if not keys.generated or keys.signing_secret is None:
        return
    token = mint_token(
        keys.signing_secret, sub="dev", roles=("ADMIN", "USER"), ttl_s=DEV_TOKEN_TTL_S
    )
    _log.warning(
        "development mode: no JWT secret configured, generated one for this run "
        "(set TOPGUN_JWT_SECRET to keep tokens valid across restarts).\n"
        "  dev token (sub=dev, roles ADMIN+USER, valid 24 h):\n  %s",
        token,
    )


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="The user id (sub claim).")],
    roles: Annotated[str, typer.Option(help="Comma-separated roles.")] = "USER",
    ttl_s: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 3600,
) -> None:
    """Print a token signed with the configured TOPGUN_JWT_SECRET."""
    try:
        settings = settings_from_flags()
        settings.check_production()
    except ConfigError as exc:
        raise _fail(exc) from None
    if settings.jwt_secret is None:
        raise _fail(ConfigError("set TOPGUN_JWT_SECRET to mint tokens (public keys cannot sign)"))
    role_list = [r.strip() for r in roles.split(",") if r.strip()] or ["USER"]
    typer.echo(
        mint_token(
            settings.jwt_secret.get_secret_value(),
            sub=sub,
            roles=role_list,
            ttl_s=ttl_s,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    )


def main() -> None:
    """Console-script entry point."""
    app()
