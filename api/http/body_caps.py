"""Caps counted on the raw JSON body, before any model of it is built.

Parsing a 20 MiB body of 680,000 minimal stops into models takes seconds and more than a
gigabyte before the caps of :mod:`api.http.limits` could refuse it. :func:`count_arrays`
finds the lengths of the lists that cost (stops, shipments, vehicles, orders, matrix rows
and cells) with a few vectorised passes over the bytes, building nothing per element:

1. escapes (``\\x``) are dropped (after ``\\u0073``-style letters are read, as keys may
   be spelt with them), so every ``"`` left opens or closes a string;
2. the structural characters ``[ ] { } ,`` outside strings are kept, with the nesting
   depth after each (a cumulative sum);
3. an array ends at the first closing bracket after it back at the depth before it, and its
   elements are the commas at its depth inside it, plus one (a matrix's cells: the same
   one level down);
4. the keys that matter (``"stops": [``) are found by a regular expression and kept only at
   the depth where the contract has them (``request.stops`` of a job is one level deeper).

A body that is not balanced JSON is left to the parser, which names the error.
:class:`BodyCapsMiddleware` answers 422 ``limit_exceeded`` naming the field and the setting,
and hands memory back to the system after large bodies (:func:`release_memory`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import anyio.to_thread
import numpy as np
import numpy.typing as npt
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.errors import error_json
from api.http.limits import cap_problem, visits_problem
from api.settings import Settings
from models.errors import ErrorCode


@dataclass(frozen=True)
class Count:
    """A list of the contract to count: its JSON ``key``, the ``depth`` of the key (objects
    and arrays around it: 1 at the top level), the caller's ``field`` and what it is."""

    key: str
    depth: int
    field: str
    kind: str  # stops, shipments, vehicles, orders or matrix


def _routing(prefix: str, depth: int) -> list[Count]:
    out = [Count(key, depth, f"{prefix}{key}", kind) for key, kind in _ROUTING_LISTS]
    out.append(Count("jobs", depth, f"{prefix}stops", "stops"))  # the alias of stops
    for key in ("durations_s", "distances_m"):
        out.append(Count(key, depth + 1, f"{prefix}matrix.{key}", "matrix"))
    return out


def _plan(prefix: str, depth: int) -> list[Count]:
    out = [
        Count("orders", depth, f"{prefix}orders", "orders"),
        Count("fleet", depth, f"{prefix}fleet", "vehicles"),
    ]
    for key in ("durations_s", "distances_m"):
        out.append(Count(key, depth + 2, f"{prefix}options.matrix.{key}", "matrix"))
    return out


_ROUTING_LISTS = (("stops", "stops"), ("shipments", "shipments"), ("vehicles", "vehicles"))

#: What is counted in the body of each endpoint (path without the trailing slash).
RULES: dict[str, list[Count]] = {
    "/v1/routes": _routing("", 1),
    "/v1/routes/check": _routing("request.", 2),
    "/v1/plans": _plan("", 1),
    "/v1/allocations": [Count("orders", 1, "orders", "orders")],
    "/v1/jobs": _routing("request.", 2) + _plan("request.", 2),
    "/v1/vroom": [
        Count("jobs", 1, "jobs", "stops"),
        Count("shipments", 1, "shipments", "shipments"),
        Count("vehicles", 1, "vehicles", "vehicles"),
        Count("matrix", 1, "matrix", "matrix"),
        *(
            Count(key, 3, f"matrices.<profile>.{key}", "matrix")
            for key in ("durations", "distances", "costs")
        ),
    ],
}

_KEYS = sorted({c.key for rules in RULES.values() for c in rules})
_KEY_ARRAY = re.compile(rb'"(' + "|".join(_KEYS).encode() + rb')"\s*:\s*\[')
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
#: A ``\\u`` escape of a printable ASCII character: a key may be spelt ``"st\\u006fps"``.
_ASCII_ESCAPE = re.compile(rb"\\u00([2-7][0-9a-fA-F])")
_STRUCTURAL = np.zeros(256, dtype=bool)
_STRUCTURAL[list(b'"[]{},')] = True
#: +1 for an opening bracket, -1 for a closing one, 0 for anything else.
_DEPTH_CHANGE = np.zeros(256, dtype=np.int8)
_DEPTH_CHANGE[list(b"[{")] = 1
_DEPTH_CHANGE[list(b"]}")] = -1


@dataclass(frozen=True)
class Counted:
    """The arrays found for one :class:`Count`: their elements, and for a matrix its cells."""

    count: Count
    elements: int
    cells: int


class _Structure:
    """The structural characters of a JSON text outside strings and the depth after each
    (see the module's docstring)."""

    def __init__(self, text: bytes) -> None:
        chars = np.frombuffer(text, np.uint8)
        at = np.flatnonzero(_STRUCTURAL[chars])
        symbols = chars[at]
        quote = symbols == ord('"')
        outside = ~np.logical_xor.accumulate(quote) & ~quote
        self.at, self.symbols = at[outside], symbols[outside]
        del at, symbols, quote, outside
        self.level = np.cumsum(_DEPTH_CHANGE[self.symbols], dtype=np.int32)
        self.balanced = len(self.level) == 0 or bool(self.level[-1] == 0 and self.level.min() >= 0)

    def closes(self, level: int, start: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """The structural index that closes each bracket at ``start`` opened to ``level``:
        the first bracket after it that returns to ``level - 1``."""
        back = np.flatnonzero((self.level == level - 1) & (_DEPTH_CHANGE[self.symbols] < 0))
        return back[np.searchsorted(back, start)]

    def commas(
        self, level: int, start: npt.NDArray[np.intp], end: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.intp]:
        """Commas at ``level`` strictly between structural indices ``start`` and ``end``."""
        commas = np.flatnonzero((self.level == level) & (self.symbols == ord(",")))
        return np.searchsorted(commas, end) - np.searchsorted(commas, start)


def _utf8(body: bytes) -> bytes:
    """The body as UTF-8 (JSON may come as UTF-16 or UTF-32, which the parser accepts)."""
    encoding = json.detect_encoding(body)
    if encoding == "utf-8":
        return body
    try:
        return body.decode(encoding).encode()
    except UnicodeDecodeError:
        return body


def _unescape_word(match: re.Match[bytes]) -> bytes:
    """A letter, digit or ``_`` written as ``\\u00XX``, as itself; any other escape kept."""
    char = bytes([int(match.group(1), 16)])
    return char if char.isalnum() or char == b"_" else match.group(0)


def count_arrays(body: bytes, rules: list[Count]) -> list[Counted] | None:
    """The length of every array of ``rules`` in a JSON body, or None when the body is not
    balanced JSON (the parser will say why)."""
    text = _ESCAPE.sub(b"", _ASCII_ESCAPE.sub(_unescape_word, _utf8(body)))
    found = [(m.group(1).decode(), m.end() - 1) for m in _KEY_ARRAY.finditer(text)]
    if not found:
        return []
    structure = _Structure(text)
    if not structure.balanced:
        return None
    names = np.array([name for name, _ in found])
    brackets = np.array([pos for _, pos in found], dtype=np.int64)
    index = np.minimum(np.searchsorted(structure.at, brackets), len(structure.at) - 1)
    real = structure.at[index] == brackets  # not inside a string
    names, index = names[real], index[real]
    level = structure.level[index]
    out = []
    for rule in rules:
        mine = (names == rule.key) & (level == rule.depth + 1)
        if not mine.any():
            continue
        start, depth = index[mine], rule.depth + 1
        end = structure.closes(depth, start)
        elements = structure.commas(depth, start, end) + 1
        empty = end == start + 1  # nothing structural inside: empty, or one scalar
        for k in np.flatnonzero(empty):
            inner = text[structure.at[start[k]] + 1 : structure.at[end[k]]]
            elements[k] = 1 if inner.strip() else 0
        cells = structure.commas(depth + 1, start, end) + elements
        out.append(Counted(rule, int(elements.sum()), int(cells.sum())))
    return out


def body_problems(path: str, body: bytes, settings: Settings) -> list[dict[str, Any]]:
    """The caps a body breaks, one detail each (field, count, setting); none for paths
    without rules or bodies the parser will refuse."""
    rules = RULES.get(path.rstrip("/"))
    counted = count_arrays(body, rules) if rules else None
    if not counted:
        return []
    totals: dict[str, int] = {}
    fields: dict[str, str] = {}
    problems = []
    for item in counted:
        kind = item.count.kind
        totals[kind] = totals.get(kind, 0) + item.elements
        fields.setdefault(kind, item.count.field)
        if kind == "matrix":
            rows = item.elements
            cells = max(item.cells, rows * rows)
            if cells > settings.max_matrix_cells:
                value = f"{rows} rows, {item.cells} cells"
                cap, what = settings.max_matrix_cells, "matrix cells"
                problems.append(cap_problem(item.count.field, value, what, cap, "MAX_MATRIX_CELLS"))
    stops_field = fields.get("stops", "stops")
    prefix, _, stops_key = stops_field.rpartition(".")
    prefix = f"{prefix}." if prefix else ""
    problems += visits_problem(
        totals.get("stops", 0), totals.get("shipments", 0), settings, prefix, stops_key
    )
    for kind, cap, setting in (
        ("vehicles", settings.max_vehicles, "MAX_VEHICLES"),
        ("orders", settings.max_orders, "MAX_ORDERS"),
    ):
        if totals.get(kind, 0) > cap:
            value = f"{totals[kind]} {kind}"
            problems.append(cap_problem(fields[kind], value, kind, cap, setting))
    return problems


#: Bodies smaller than this are counted on the event loop (it takes microseconds).
_INLINE_BYTES = 64 * 1024


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc: nothing to call
        return None
    return trim


def release_memory() -> None:
    """Collect garbage and hand the freed heap back to the system (glibc ``malloc_trim``):
    after a large request, the server's memory returns to its size before it."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class BodyCapsMiddleware:
    """422 ``limit_exceeded`` for a body whose lists break the caps, counted on its bytes
    (:func:`body_problems`) before the app parses it; memory is released after large ones."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).rstrip("/")
        if scope["type"] != "http" or scope.get("method") != "POST" or path not in RULES:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        try:
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                chunks.append(message.get("body", b""))
                more = bool(message.get("more_body", False))
        except HTTPException as error:  # the body-size cap, met while streaming
            response = error_json(
                error.status_code,
                ErrorCode.PAYLOAD_TOO_LARGE,
                "the request body is larger than this server accepts (ROUTEPLAN_MAX_BODY_BYTES)",
            )
            await response(scope, receive, send)
            return
        body = b"".join(chunks)
        del chunks
        try:
            await self._answer(scope, receive, send, path, body)
        finally:
            large = self.settings.release_memory_after_bytes
            if large > 0 and len(body) >= large:
                del body
                await anyio.to_thread.run_sync(release_memory)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, path: str, body: bytes
    ) -> None:
        if len(body) < _INLINE_BYTES:
            problems = body_problems(path, body, self.settings)
        else:  # a large body's count takes a while: off the event loop
            problems = await anyio.to_thread.run_sync(body_problems, path, body, self.settings)
        if problems:
            response = error_json(422, ErrorCode.LIMIT_EXCEEDED, problems[0]["message"], problems)
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
