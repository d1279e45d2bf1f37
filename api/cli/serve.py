"""``routeplan serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.app import app

#: Seconds a stopping server waits for open connections (event streams) to end.
GRACEFUL_SHUTDOWN_S = 5


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level")] = "info",
) -> None:
    """Serve the API (/v1, docs at /docs). Settings come from ROUTEPLAN_* variables."""
    import uvicorn

    uvicorn.run(
        "api.http.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,  # open event streams do not hold it
    )
