"""Settings read from the environment (prefix ``ROUTEPLAN_``), behind a cached getter."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Where shared data lives and other deployment choices."""

    model_config = SettingsConfigDict(env_prefix="ROUTEPLAN_", extra="ignore")

    shared_data: Path = Path("../shared/data")
    #: Where built artefacts are cached (road graphs of OSM extracts, keyed by file hash).
    cache_dir: Path = Path("~/.cache/routeplan")

    # --- HTTP API and job store (issue 5) ---
    #: SQLAlchemy URL of the database (jobs, API keys, the order book); empty = a SQLite file
    #: ``jobs.db`` in ``cache_dir``. PostgreSQL (for several server processes):
    #: ``postgresql+psycopg://user@host:5432/db``.
    database_url: str = ""
    #: API keys, comma-separated ``name:role:secret`` (a bare secret is an ``admin`` key),
    #: or ``@db`` for keys kept in the database only; empty = no keys needed (see
    #: ``api/http/auth.py``). Sent as ``Authorization: Bearer`` or ``X-API-Key``;
    #: ``/v1/health`` never needs one.
    api_keys: str = ""
    #: Most visits in one routing request: stops (jobs) plus two per shipment; also the most
    #: orders a plan may route from one site.
    max_stops: int = 2000
    #: Most orders in one allocation or plan request.
    max_orders: int = 20_000
    #: Most vehicles (``vehicles``, a plan's ``fleet``) in one request.
    max_vehicles: int = 1000
    #: Most cells (rows x columns) of one explicit matrix in a request.
    max_matrix_cells: int = 4_500_000
    #: After a request body at least this large, the server collects garbage and hands
    #: freed memory back to the system (glibc ``malloc_trim``); 0 = never.
    release_memory_after_bytes: int = 64 * 1024
    #: Most visits (stops, plus two per shipment) one ``routeplan route`` or the orders of one
    #: ``routeplan plan`` may hold on the command line (its travel matrices grow as the square).
    cli_max_stops: int = 20_000
    #: Longest search time an async job may ask for, in seconds.
    max_time_limit_s: float = 600.0
    #: Longest search time a synchronous request may ask for, in seconds.
    max_sync_time_limit_s: float = 30.0
    #: Largest request body, in bytes (413 beyond).
    max_body_bytes: int = 20 * 1024 * 1024
    #: Most jobs waiting in the queue (429 beyond).
    max_queued_jobs: int = 100
    #: Synchronous solves run at once by one server (each uses a core); more wait in line.
    max_sync_solves: int = 2
    #: How long a synchronous request waits for a free solve before a 429.
    sync_wait_s: float = 10.0
    #: Most synchronous requests waiting for a free solve at once (waiting holds no thread);
    #: beyond, 429 ``busy`` at once. 0 = no waiting line.
    max_sync_waiting: int = 8
    #: Where synchronous solves run: ``process`` (a pool of ``max_sync_solves`` worker
    #: processes, so the event loop and cheap endpoints stay fast) or ``thread`` (a server
    #: thread: for tests that patch the engine, and for debugging).
    sync_solves_in: Literal["process", "thread"] = "process"
    #: A solve worker process is replaced after this many solves (memory goes back).
    sync_tasks_per_child: int = 50
    #: Jobs solved at once by one server (each in its own process).
    workers: int = 1
    #: A running job whose server sent no heartbeat for this long is queued again.
    job_lease_s: float = 30.0
    #: A job is given up (failed) after this many starts.
    job_max_attempts: int = 3
    #: Longest wait to connect to the job store's database, or for a pooled connection, in
    #: seconds (PostgreSQL counts at least 2).
    db_connect_timeout_s: float = 3.0
    #: Longest a statement may run on the job store's database (SQLite: wait for a lock), in
    #: seconds; a connection that answers nothing for a second longer is cut.
    db_statement_timeout_s: float = 5.0
    #: After the job store was unreachable, calls answer 503 at once for this long, in seconds.
    db_retry_s: float = 1.0
    #: How often the webhook worker looks for due deliveries, in seconds.
    webhook_poll_s: float = 0.5
    #: Tries of one delivery before it is ``dead``.
    webhook_max_attempts: int = 8
    #: Wait after a delivery's first failed try, in seconds; it doubles with each try...
    webhook_backoff_base_s: float = 1.0
    #: ...up to this many seconds.
    webhook_backoff_max_s: float = 300.0
    #: Longest wait for a webhook receiver's answer, in seconds.
    webhook_timeout_s: float = 5.0
    # --- dispatch (issue 13) ---
    #: A live ETA that moves by more than this many seconds is told as ``eta.changed``.
    eta_change_threshold_s: float = 300.0
    #: What a failed delivery does to its order: ``requeue`` (``ready`` again, for the next
    #: plan) or ``return`` (``returned``: the goods go back to the site).
    failed_delivery_policy: Literal["requeue", "return"] = "requeue"
    #: After this many failed deliveries an order is ``returned`` even under ``requeue``.
    max_delivery_attempts: int = 3
    #: Matrix providers that HTTP requests may use (``osm`` reads server files and ``osrm``
    #: calls other hosts, so both are off unless listed here).
    api_matrix_providers: str = "haversine,euclidean,explicit"
    #: The OpenStreetMap extract (``.osm.pbf``) of the server's region, whose roads
    #: ``GET /v1/basemap`` draws under the dashboard's routes; a relative path is looked up
    #: in the working folder, then in ``shared_data``. Unset: no base map (``available: false``).
    osm_file: Path | None = None

    def shared_data_dir(self) -> Path:
        """The shared data folder: as given if it exists, else relative to the repository."""
        if self.shared_data.is_absolute() or self.shared_data.is_dir():
            return self.shared_data.resolve()
        return (REPO_ROOT / self.shared_data).resolve()

    def graph_cache_dir(self) -> Path:
        """The folder that holds cached road graphs (created on first write), handed to the
        engine by the CLI and the server (the engine reads no settings; its own default,
        ``engine.matrices.DEFAULT_GRAPH_CACHE_DIR``, is this folder for the default
        ``cache_dir``)."""
        return self.cache_dir.expanduser() / "osm-graphs"

    def job_database_url(self) -> str:
        """The job store's URL: ``database_url``, or a SQLite file in the cache folder."""
        url = self.database_url
        for bare in ("postgresql://", "postgres://"):  # psycopg 3 is the driver installed
            if url.startswith(bare):
                url = "postgresql+psycopg://" + url.removeprefix(bare)
        if url:
            return url
        return f"sqlite:///{self.cache_dir.expanduser() / 'jobs.db'}"

    def osm_file_path(self) -> Path | None:
        """The base map's extract, resolved (None when unset)."""
        if self.osm_file is None or str(self.osm_file) in ("", "."):
            return None
        path = self.osm_file.expanduser()
        if path.is_absolute() or path.exists():
            return path.resolve()
        return self.shared_data_dir() / path

    def api_matrix_provider_set(self) -> set[str]:
        """Matrix providers allowed over HTTP."""
        return {name.strip() for name in self.api_matrix_providers.split(",") if name.strip()}


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests may clear the cache to override)."""
    return Settings()
