"""Shared machinery of the fake HTTP services used by the sync tests.

A fake is a real HTTP/1.1 server (``http.server.ThreadingHTTPServer``) on 127.0.0.1 in a daemon
thread, so the adapter under test talks to it over real sockets exactly as it would to the real
service. Every fake records each call it receives and can inject the failures a real API produces:
scripted status codes, timeouts, random 429/5xx, a rolling-window rate limit, slow responses and
"applied but the response was lost" (a write that succeeded while the client saw a 502).

Order of processing of one request (each step can end it):

1. the body is read and the call is recorded (``requests``; ``status`` is ``None`` while in flight);
2. ``delay_seconds`` of artificial latency;
3. the next scripted fault (``fail_next`` / ``fail_next_with_timeout``): nothing applied;
4. a random fault with probability ``failure_rate`` (429, 500, 502 or 503): nothing applied;
5. authentication (``authorize``): nothing applied, does not count against the rate limit;
6. the rolling-window rate limit (``rate_limit``): nothing applied;
7. the service itself (``handle``), under the store lock;
8. with probability ``lost_response_rate`` a successful (2xx) answer is replaced by a 502: the
   change IS applied but the client never learns it.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

#: Status codes chosen by random faults (``failure_rate``).
RANDOM_FAULT_STATUSES: tuple[int, ...] = (429, 500, 502, 503)

_GATEWAY_PAGES = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}


@dataclass
class IncomingRequest:
    """One request as the service sees it: header names are lower-cased."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw_body: bytes
    json: Any = None
    json_error: str | None = None

    def bearer_token(self, *schemes: str) -> str | None:
        """The token of an ``Authorization: <scheme> <token>`` header (default scheme Bearer)."""
        value = self.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        accepted = {s.lower() for s in (schemes or ("Bearer",))}
        if scheme.lower() not in accepted or not token.strip():
            return None
        return token.strip()


@dataclass
class RecordedRequest:
    """A call received by a fake, kept for assertions.

    ``outcome`` is one of: ``pending`` (in flight), ``applied`` (state changed), ``processed``
    (2xx, nothing changed), ``rejected`` (4xx from auth or validation), ``rate_limited``,
    ``scripted_fault``, ``random_fault``, ``timeout``, ``lost_response`` (processed and any
    change kept, but answered 502),
    ``duplicate`` (webhook delivery acknowledged again without re-applying).
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    status: int | None = None
    outcome: str = "pending"
    response_body: Any = None
    received_at: float = field(default_factory=time.time)


@dataclass
class Reply:
    """What a service answers. ``body`` is JSON-encoded unless it is ``str`` or ``bytes``."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    applied: bool = False
    content_type: str = "application/json;charset=utf-8"
    outcome: str | None = None


@dataclass
class _ScriptedFault:
    status: int
    retry_after: str | None = None
    body: Any = None
    timeout: bool = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are written separately; without TCP_NODELAY every keep-alive call
    # would wait for a delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: _Server

    def _dispatch(self) -> None:
        self.server.service._serve(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the fakes print nothing."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], service: FakeService) -> None:
        self.service = service
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut kept-alive connections so a stopped fake really stops answering."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that hung up (e.g. after its own timeout) is not an error here."""


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length > 0 else b""


def _parse(handler: BaseHTTPRequestHandler, raw: bytes) -> IncomingRequest:
    split = urlsplit(handler.path)
    headers: Message = handler.headers
    request = IncomingRequest(
        method=handler.command,
        path=split.path,
        query=parse_qs(split.query, keep_blank_values=True),
        headers={k.lower(): v for k, v in headers.items()},
        raw_body=raw,
    )
    if raw.strip():
        try:
            request.json = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            request.json_error = str(exc)
    return request


def _encode(reply: Reply) -> bytes:
    if isinstance(reply.body, bytes):
        return reply.body
    if isinstance(reply.body, str):
        return reply.body.encode()
    if reply.body is None:
        return b""
    return json.dumps(reply.body, separators=(",", ":")).encode()


class FakeService:
    """Base of the fakes: a local HTTP server with recording and fault injection.

    Use as a context manager (``with FakeHubSpot("token") as hs: ... hs.base_url``) or call
    ``start()`` / ``stop()``; ``start()`` after ``stop()`` serves the same store on the same port,
    which simulates an outage. Subclasses implement ``handle`` (and usually ``authorize``,
    ``error_body`` and ``rate_limited_reply``) to speak a real service's wire format.
    """

    #: Used in thread names only.
    name = "fake"

    def __init__(
        self,
        *,
        failure_rate: float = 0.0,
        lost_response_rate: float = 0.0,
        seed: int = 0,
        rate_limit: tuple[int, float] | None = None,
        delay_seconds: float = 0.0,
        timeout_seconds: float = 2.0,
    ) -> None:
        if not 0.0 <= failure_rate <= 1.0 or not 0.0 <= lost_response_rate <= 1.0:
            raise ValueError("failure_rate and lost_response_rate must be within [0, 1]")
        if rate_limit is not None and (rate_limit[0] < 1 or rate_limit[1] <= 0):
            raise ValueError("rate_limit is (max_calls >= 1, per_seconds > 0)")
        self.failure_rate = failure_rate
        self.lost_response_rate = lost_response_rate
        self.seed = seed
        self.rate_limit = rate_limit
        self.delay_seconds = delay_seconds
        self.timeout_seconds = timeout_seconds
        #: Calls that reached the service and changed its state (including lost responses).
        self.applied_calls = 0
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._requests: list[RecordedRequest] = []
        self._faults: deque[_ScriptedFault] = deque()
        self._window: deque[float] = deque()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Start serving on 127.0.0.1 (a free port the first time, the same port afterwards)."""
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self._stopping.clear()
        server = _Server(("127.0.0.1", self._port or 0), self)
        self._port = server.server_address[1]
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name}-{self._port}",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open connections; the recorded state is kept."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    # -- recording -------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every call received so far, in arrival order (failed ones included)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Wait until at least ``count`` calls were received; raise ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            snapshot = self.requests
            if len(snapshot) >= count:
                return snapshot
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{len(snapshot)} of {count} requests after {timeout}s")
            time.sleep(0.01)

    # -- scripted faults -------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        body: object | None = None,
    ) -> None:
        """Answer the next ``times`` calls with ``status`` before any processing (nothing applied).

        ``retry_after`` becomes a ``Retry-After`` header; ``body`` replaces the service's usual
        error body for that status (dict/list → JSON, str → text).
        """
        with self._lock:
            for _ in range(times):
                self._faults.append(_ScriptedFault(status, retry_after, body))

    def fail_next_with_timeout(self, times: int = 1) -> None:
        """Let the next ``times`` calls hang ``timeout_seconds`` and then answer 504.

        A client whose read timeout is shorter sees a timeout; nothing is applied.
        """
        with self._lock:
            for _ in range(times):
                self._faults.append(_ScriptedFault(504, timeout=True))

    # -- hooks for subclasses --------------------------------------------------------------------

    def authorize(self, request: IncomingRequest) -> Reply | None:
        """Return an error reply when the call is not authenticated (default: everything is)."""
        return None

    def handle(self, request: IncomingRequest) -> Reply:
        """Process an admitted call. Runs under the store lock."""
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        """The service's body for a generic error status (scripted or random faults)."""
        return {"error": f"HTTP {status}"}

    def rate_limited_reply(self, retry_after_seconds: float) -> Reply:
        """The service's answer when the rolling-window rate limit is exceeded."""
        return Reply(
            429,
            self.error_body(429),
            headers={"Retry-After": str(max(1, math.ceil(retry_after_seconds)))},
        )

    def rate_limit_remaining(self) -> int | None:
        """Calls left in the current window (``None`` without a rate limit); use under the lock."""
        if self.rate_limit is None:
            return None
        self._expire_window(time.monotonic())
        return max(0, self.rate_limit[0] - len(self._window))

    # -- internals -------------------------------------------------------------------------------

    def error_reply(
        self, status: int, *, body: object | None = None, retry_after: str | None = None
    ) -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        if body is not None:
            content_type = (
                "text/plain;charset=utf-8"
                if isinstance(body, str | bytes)
                else "application/json;charset=utf-8"
            )
            return Reply(status, body, headers=headers, content_type=content_type)
        if status in _GATEWAY_PAGES:
            # Load balancers in front of the real APIs answer these with an HTML page, not JSON.
            title = _GATEWAY_PAGES[status]
            page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
            return Reply(status, page, headers=headers, content_type="text/html")
        if status == 429:
            reply = self.rate_limited_reply(1.0)
            reply.headers = {k: v for k, v in reply.headers.items() if k != "Retry-After"}
            reply.headers.update(headers)
            return reply
        return Reply(status, self.error_body(status), headers=headers)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _expire_window(self, now: float) -> None:
        assert self.rate_limit is not None
        while self._window and self._window[0] <= now - self.rate_limit[1]:
            self._window.popleft()

    def _admit(self) -> float | None:
        """Count the call in the rolling window, or return the seconds until a slot frees up."""
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        self._expire_window(now)
        max_calls, per_seconds = self.rate_limit
        if len(self._window) >= max_calls:
            return self._window[0] + per_seconds - now
        self._window.append(now)
        return None

    def _process(self, request: IncomingRequest) -> tuple[Reply, str]:
        self._sleep(self.delay_seconds)
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            if fault.timeout:
                self._sleep(self.timeout_seconds)
                return self.error_reply(504), "timeout"
            reply = self.error_reply(fault.status, body=fault.body, retry_after=fault.retry_after)
            return reply, "scripted_fault"
        if self.failure_rate:
            with self._lock:
                failed = self._rng.random() < self.failure_rate
                status = self._rng.choice(RANDOM_FAULT_STATUSES) if failed else 0
            if failed:
                return self.error_reply(status), "random_fault"
        denied = self.authorize(request)
        if denied is not None:
            return denied, "rejected"
        with self._lock:
            wait = self._admit()
            if wait is not None:
                return self.rate_limited_reply(wait), "rate_limited"
            reply = self.handle(request)
            if reply.applied:
                self.applied_calls += 1
            lost = (
                self.lost_response_rate > 0
                and 200 <= reply.status < 300
                and self._rng.random() < self.lost_response_rate
            )
        if lost:
            return self.error_reply(502), "lost_response"
        if reply.outcome is not None:
            return reply, reply.outcome
        if reply.applied:
            return reply, "applied"
        return reply, "processed" if 200 <= reply.status < 300 else "rejected"

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        raw = _read_body(handler)
        request = _parse(handler, raw)
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            headers=request.headers,
            body=request.json,
            raw_body=raw,
        )
        with self._lock:
            self._requests.append(record)
        try:
            reply, outcome = self._process(request)
        except Exception as exc:  # a bug in a fake must surface as a 500, not a hung client
            reply, outcome = Reply(500, {"error": f"fake crashed: {exc!r}"}), "rejected"
        payload = _encode(reply)
        with self._lock:
            record.status = reply.status
            record.outcome = outcome
            record.response_body = reply.body
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
            handler.wfile.flush()
        except OSError:
            handler.close_connection = True  # the client gave up (its own timeout)
