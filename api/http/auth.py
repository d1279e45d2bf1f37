"""Who is calling, and may they: API keys with a name and a role, checked per request.

Keys come from ``ROUTEPLAN_API_KEYS`` (see :func:`parse_api_keys`) and from the key table in
the database (``routeplan keys``, :mod:`engine.jobs.keys`). :class:`ApiKeyMiddleware` runs
before any body is read: no key or a wrong one is a 401 ``unauthorized``, a key whose role
does not grant the endpoint (:func:`required_role`) a 403 ``forbidden``. The caller (a
:class:`Principal`) is then available to handlers through :func:`current_principal`; jobs
record its name and a key sees only its own jobs unless it is ``admin`` (:func:`can_see`).

Env keys are checked in memory first, so a database outage never stops them. Database keys
are cached for :data:`KEY_CACHE_S` (a revoked key stops working within that time); while the
database is unreachable, a key seen in the last :data:`STALE_S` still works, and any other
database key gets a 503 ``store_unavailable``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

import anyio
import anyio.to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.http.errors import ApiError, error_json
from api.settings import Settings
from engine.jobs.keys import NAME_PATTERN, RESERVED_ROLES, KeyStore, Role
from models.errors import ErrorCode, InvalidInputError, StoreUnavailableError, detail

#: The variable that lists the env keys.
ENV_VAR = "ROUTEPLAN_API_KEYS"
#: The entry of ``ROUTEPLAN_API_KEYS`` that turns keys on with database keys only.
DB_ONLY = "@db"
#: Seconds a database key's check is reused before the database is asked again.
KEY_CACHE_S = 30.0
#: Seconds a database key seen valid keeps working while the database is unreachable.
STALE_S = 300.0
#: Most database checks kept in the cache.
MAX_CACHED = 10_000
#: Database checks run at once (each holds a worker thread).
DB_CHECKS_AT_ONCE = 4
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_RETRY_AFTER_S = 5


@dataclass(frozen=True)
class Principal:
    """The caller of a request: a key's name (None without keys), role and where it is kept."""

    name: str | None
    role: Role
    source: str  # "env", "db" or "none" (the server has no keys)


#: The caller of every request of a server without keys: may do anything, owns nothing.
ANONYMOUS = Principal(None, Role.ADMIN, "none")

_principal: ContextVar[Principal | None] = ContextVar("routeplan_principal", default=None)


def current_principal() -> Principal | None:
    """The caller of the request being handled (None outside a checked request)."""
    return _principal.get()


def creator_name() -> str | None:
    """The name a job made in this request records as its creator (None without keys)."""
    principal = _principal.get()
    return None if principal is None else principal.name


def can_see(principal: Principal | None, created_by: str | None) -> bool:
    """Whether ``principal`` may see (and cancel) a job created by ``created_by``: admins
    see every job, other keys their own; nobody outside a checked request sees any."""
    if principal is None:
        return False
    return principal.role is Role.ADMIN or (
        principal.name is not None and principal.name == created_by
    )


@dataclass(frozen=True)
class EnvKey:
    """A key from ``ROUTEPLAN_API_KEYS``."""

    name: str
    role: Role
    secret: str = field(repr=False)


@dataclass(frozen=True)
class KeyList:
    """What ``ROUTEPLAN_API_KEYS`` says: whether keys are on, and the env keys."""

    enabled: bool
    env_keys: tuple[EnvKey, ...]


def _refused(where: str, why: str) -> InvalidInputError:
    """A broken entry, named by its place only: its text may hold a secret."""
    return InvalidInputError(f"{where}: {why}", [detail(where, None, why)])


def _entry(entry: str, position: int) -> EnvKey:
    """One entry: ``name:role:secret``, or a bare secret (role admin, name ``key-<n>``)."""
    where = f"{ENV_VAR}[{position}]"
    if ":" not in entry:
        return EnvKey(f"key-{position}", Role.ADMIN, entry)
    name, _, rest = (part.strip() for part in entry.partition(":"))
    role, sep, secret = (part.strip() for part in rest.partition(":"))
    form = "write name:role:secret, or a bare secret with no ':'"
    if not sep:
        raise _refused(where, f"has one ':': {form}")
    if not NAME_PATTERN.fullmatch(name):
        raise _refused(where, f"has no valid name (1-64 letters, digits, '.', '_', '-'): {form}")
    if role.lower() in RESERVED_ROLES:
        raise _refused(where, f"role {role.lower()!r} {RESERVED_ROLES[role.lower()]}")
    if role.lower() not in set(Role):
        roles = ", ".join(r.value for r in Role)
        raise _refused(where, f"has no valid role (one of {roles}): {form}")
    if not secret:
        raise _refused(where, "has an empty secret")
    return EnvKey(name, Role(role.lower()), secret)


def parse_api_keys(text: str) -> KeyList:
    """Parse ``ROUTEPLAN_API_KEYS``: comma-separated entries, each ``name:role:secret`` or a
    bare secret (role ``admin``, named ``key-<n>`` after its place in the list, from 1), or
    ``@db`` (keys on, from the database only).

    Empty (``''``): keys are off. Not empty but with no entry (``' , '``, ``' '``):
    InvalidInputError, so that a broken variable never leaves the API open. Also refused: a
    bad name or role, two keys of one name, one secret twice (no message shows a secret).
    """
    if text == "":
        return KeyList(False, ())
    entries = [entry.strip() for entry in text.split(",")]
    keys: list[EnvKey] = []
    db_only = False
    for position, entry in enumerate([e for e in entries if e], start=1):
        if entry == DB_ONLY:
            db_only = True
            continue
        key = _entry(entry, position)
        where = f"{ENV_VAR}[{position}]"
        if any(key.name == other.name for other in keys):
            raise InvalidInputError.for_field(where, key.name, "names a key twice")
        if any(hmac.compare_digest(key.secret, other.secret) for other in keys):
            raise InvalidInputError.for_field(where, key.name, "repeats another key's secret")
        keys.append(key)
    if not keys and not db_only:
        raise InvalidInputError.for_field(
            ENV_VAR,
            text,
            f"is set but holds no key: list keys (name:role:secret,...), write {DB_ONLY} "
            "for database keys only, or leave it empty for an open API",
        )
    return KeyList(True, tuple(keys))


def given_secret(headers: Headers) -> str | None:
    """The key sent as ``X-API-Key``, else as ``Authorization: Bearer``; None if neither."""
    given = headers.get("x-api-key")
    authorization = headers.get("authorization")
    if not given and authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            given = token.strip()
    return given or None


class Authenticator:
    """Finds the principal of a secret: env keys in memory, then the key table (cached)."""

    def __init__(
        self,
        keys: KeyList,
        store: KeyStore | None = None,
        *,
        cache_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = keys.enabled
        self.env_keys = keys.env_keys
        self.store = store if keys.enabled else None
        self.cache_s = KEY_CACHE_S if cache_s is None else cache_s
        self.clock = clock
        #: sha256 of a secret -> (when it was checked, its principal or None).
        self._cache: dict[bytes, tuple[float, Principal | None]] = {}
        self._limiter: anyio.CapacityLimiter | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        """The keys of ``settings`` (InvalidInputError for a broken key list); database keys
        from the job store's database."""
        keys = parse_api_keys(settings.api_keys)
        store = KeyStore(settings.job_database_url()) if keys.enabled else None
        return cls(keys, store)

    def env_principal(self, secret: str) -> Principal | None:
        """The env key of ``secret``: compared with every key in constant time."""
        found: EnvKey | None = None
        for key in self.env_keys:  # no early stop: the time does not tell which key matched
            if hmac.compare_digest(secret.encode(), key.secret.encode()):
                found = key
        return None if found is None else Principal(found.name, found.role, "env")

    def _from_store(self, secret: str) -> Principal | None:
        assert self.store is not None
        record = self.store.verify(secret)
        return None if record is None else Principal(record.name, record.role, "db")

    def _remember(self, digest: bytes, principal: Principal | None) -> None:
        now = self.clock()
        if len(self._cache) >= MAX_CACHED:
            horizon = now - max(self.cache_s, STALE_S)
            self._cache = {k: v for k, v in self._cache.items() if v[0] >= horizon}
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
        self._cache[digest] = (now, principal)

    async def authenticate(self, secret: str) -> Principal | None:
        """The principal of ``secret``, None for no key; StoreUnavailableError when only the
        unreachable database could tell."""
        principal = self.env_principal(secret)
        if principal is not None or self.store is None:
            return principal
        digest = hashlib.sha256(secret.encode()).digest()
        cached = self._cache.get(digest)
        if cached is not None and self.clock() - cached[0] < self.cache_s:
            return cached[1]
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(DB_CHECKS_AT_ONCE)
        try:
            principal = await anyio.to_thread.run_sync(
                self._from_store, secret, limiter=self._limiter
            )
        except StoreUnavailableError:
            if cached is not None and self.clock() - cached[0] < STALE_S and cached[1]:
                return cached[1]
            raise
        self._remember(digest, principal)
        return principal

    def forget(self) -> None:
        """Drop every cached database check."""
        self._cache.clear()


#: Endpoints (method, path after ``/v1``) that a ``read`` key may call besides every GET.
READ_ENDPOINTS = {("POST", "/routes/check")}
#: Endpoints that need ``plan``; anything else not read-only needs ``admin``.
PLAN_ENDPOINTS = {
    ("POST", "/routes"),
    ("POST", "/allocations"),
    ("POST", "/plans"),
    ("POST", "/vroom"),
    ("POST", "/jobs"),
    ("POST", "/cartons/pack"),
}
#: The order book's endpoints that need ``plan`` (capture, payments, reservations,
#: commits and re-plans, picking and packing, returns up to their receipt), as (method,
#: path pattern); sites, the catalogue,
#: stock movements and a return's restock or disposal need ``admin``.
PLAN_PATTERNS = [
    (method, re.compile(pattern))
    for method, pattern in (
        ("POST", r"/orders"),
        ("POST", r"/orders/import"),
        ("POST", r"/orders/[^/]+/(payment|cancel|status)"),
        ("POST", r"/reservations"),
        ("DELETE", r"/reservations/[^/]+"),
        ("POST", r"/plans/[^/]+/(commit|replan)"),
        ("POST", r"/returns"),
        ("POST", r"/returns/[^/]+/(approve|reject|receive)"),
        ("POST", r"/plans/[^/]+/sites/[^/]+/pack"),
        ("POST", r"/plans/[^/]+/shipments/[^/]+/(picked|packed)"),
        ("POST", r"/routes/[^/]+/(dispatch|events)"),
        ("POST", r"/vehicles/[^/]+/position"),
    )
]
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def required_role(method: str, path: str) -> Role:
    """The role an endpoint needs (``path`` after ``/v1``): webhooks ``admin``; GET, HEAD,
    OPTIONS and plan checks ``read``; solves, jobs and cancels ``plan``; anything else
    ``admin``."""
    method, path = method.upper(), path.rstrip("/")
    if path == "/webhooks" or path.startswith("/webhooks/"):
        return Role.ADMIN  # even reading: their URLs say where the data goes
    if method in _SAFE_METHODS or (method, path) in READ_ENDPOINTS:
        return Role.READ
    if (method, path) in PLAN_ENDPOINTS:
        return Role.PLAN
    if method == "DELETE" and path.startswith("/jobs/") and path.count("/") == 2:
        return Role.PLAN  # cancel: of its own jobs (the handler sees to that)
    if any(method == m and pattern.fullmatch(path) for m, pattern in PLAN_PATTERNS):
        return Role.PLAN
    return Role.ADMIN


def check_role(principal: Principal, method: str, path: str, prefix: str) -> ApiError | None:
    """The 403 to answer for ``principal`` calling ``method path``, or None."""
    needed = required_role(method, path.removeprefix(prefix))
    if principal.role.grants(needed):
        return None
    return ApiError(
        403,
        ErrorCode.FORBIDDEN,
        f"the key {principal.name!r} (role {principal.role.value}) may not {method} {path}: "
        f"that needs role {needed.value}",
        [{"field": "role", "value": principal.role.value, "message": f"needs {needed.value}"}],
    )


class ApiKeyMiddleware:
    """401 for protected paths without a valid key, 403 for a role that does not grant the
    endpoint, both before any body is read; sets :func:`current_principal`."""

    def __init__(
        self,
        app: ASGIApp,
        authenticator: Authenticator,
        prefix: str = "/v1",
        open_paths: Sequence[str] = ("/v1/health",),
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.prefix = prefix
        self.open_paths = set(open_paths)

    async def _principal(self, scope: Scope) -> Principal | ApiError:
        if not self.authenticator.enabled:
            return ANONYMOUS
        secret = given_secret(Headers(scope=scope))
        if secret is None:
            return ApiError(
                401,
                ErrorCode.UNAUTHORIZED,
                "an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>",
                headers=_CHALLENGE,
            )
        try:
            principal = await self.authenticator.authenticate(secret)
        except StoreUnavailableError:
            return ApiError(
                503,
                ErrorCode.STORE_UNAVAILABLE,
                "this API key cannot be checked now: the key store is unreachable; retry later",
                headers={"Retry-After": str(_RETRY_AFTER_S)},
            )
        if principal is None:
            return ApiError(
                401, ErrorCode.UNAUTHORIZED, "the API key is not valid", headers=_CHALLENGE
            )
        error = check_role(principal, scope.get("method", "GET"), scope["path"], self.prefix)
        return principal if error is None else error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith(self.prefix)
            or path.rstrip("/") in self.open_paths
        ):
            await self.app(scope, receive, send)
            return
        found = await self._principal(scope)
        if isinstance(found, ApiError):
            response = error_json(
                found.status_code, found.code, found.message, found.details, found.headers
            )
            await response(scope, receive, send)
            return
        token = _principal.set(found)
        try:
            await self.app(scope, receive, send)
        finally:
            _principal.reset(token)
