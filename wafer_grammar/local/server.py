"""The local HTTP server: Wafer's ``/v1/models``, ``/v1/completions``, ``/v1/chat/completions``
and the Anthropic-compatible ``/v1/messages``.

Standard library only (``ThreadingHTTPServer``): one thread per connection
parses, validates and streams; all decoding happens on the engine's worker,
which batches the requests in flight. Shutdown is graceful: new requests get 503, those in flight
finish (up to a grace period, then they are cut), then the engine stops.

The front door: a connection may idle, and send its headers and body, only for
so long (:class:`~wafer_grammar.local.connection.Timeouts`); the Content-Length
and the API key are checked before any of the body is read; a client that hangs
up has its generation cancelled (:class:`~wafer_grammar.local.disconnect.ClientWatch`).
"""

from __future__ import annotations

import hmac
import io
import json
import logging
import math
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wafer_grammar.errors import InvalidRequest
from wafer_grammar.local import anthropic, streaming
from wafer_grammar.local.app import App, error_answer
from wafer_grammar.local.connection import (
    DeadlineIO,
    Timeouts,
    content_length,
    linger,
    read_body,
)
from wafer_grammar.local.disconnect import InFlight
from wafer_grammar.local.engine import Engine, Generation
from wafer_grammar.local.engine_config import EngineConfig
from wafer_grammar.local.faults import Fault, FaultPlan, RequestRecord
from wafer_grammar.local.protocol import Request, parse_json
from wafer_grammar.local.responses import Shaper, error_body

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_wafer_grammar/"
MESSAGES = "/v1/messages"
MIN_BACKLOG = 128
RETRY_AFTER = "1"
"""Seconds a 429 from the engine (its queue is full) tells the client to wait."""


class _Cut(Exception):
    """A cut_stream fault: drop the connection now."""


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    _io: DeadlineIO
    _unread: int
    """Body bytes not read yet; -1 while unknown (or lost)."""
    _continue: bool
    _raw: bytearray
    protocol_version = "HTTP/1.1"
    server_version = "wafer-grammar-local"

    # ------------------------------------------------------------ plumbing

    def setup(self) -> None:
        super().setup()
        # Headers and body are separate writes; with Nagle on, each response would
        # stall ~40 ms waiting for the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile.close()  # reads go through the deadlines instead
        self._io = DeadlineIO(self.connection, self.server.timeouts)
        self.rfile = io.BufferedReader(self._io)
        self._continue = False

    def handle_one_request(self) -> None:
        self._io.await_request()
        super().handle_one_request()

    def handle_expect_100(self) -> bool:
        # "100 Continue" asks for the body: sent only once the key and length are checked.
        self._continue = True
        return True

    def log_message(self, format: str, *args: Any) -> None:
        # The request line and status only: headers (and so the API key) are never logged.
        logger.info("%s %s", self.address_string(), format % args)

    def _send_json(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        fault: Fault | None = None,
    ) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if fault is not None and fault.kind == "malformed_json":
            data = data[: max(1, len(data) // 2)]  # valid UTF-8 start, invalid JSON
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection or self._unread != 0:
            self.send_header("Connection", "close")
        self.end_headers()
        if fault is not None and fault.kind == "cut_stream":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            raise _Cut
        self.wfile.write(data)
        self._status = status

    def _error(
        self,
        status: int,
        message: str,
        code: str,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if self._anthropic:
            body = anthropic.error_body(status, message)
        else:
            body = error_body(message, status=status, code=code, param=param)
        self._send_json(status, body, headers)

    def _answer_error(self, exc: BaseException, chat: bool) -> None:
        answer = error_answer(exc, chat=chat)
        # A 429 from the engine (its queue is full) says when to come back; injected
        # faults send their own Retry-After, or none.
        headers = {"Retry-After": RETRY_AFTER} if answer.status == 429 else None
        if self._anthropic:
            message = answer.body["error"]["message"]
            body = anthropic.error_body(answer.status, message)
            self._send_json(answer.status, body, headers)
        else:
            self._send_json(answer.status, answer.body, headers)

    def _read_body(self) -> bytearray:
        """The declared body (:meth:`_dispatch` checked its length), as it arrives."""
        if self._continue:
            self._continue = False
            self.send_response_only(100)
            self.end_headers()
        size, self._unread = self._unread, -1  # until it is all in, the framing is at stake
        body = read_body(self.rfile, self._io, size, self.server.timeouts.body)
        self._unread = 0
        return body

    def _authorized(self) -> bool:
        key = self.server.api_key
        if key is None:
            return True
        header = self.headers.get("Authorization")
        anthropic_key = self.headers.get("x-api-key")
        if header is None and anthropic_key is None:
            self._error(
                401,
                "missing API key: send the header 'Authorization: Bearer <key>'"
                + (" (or 'x-api-key: <key>')" if self._anthropic else ""),
                "missing_api_key",
            )
            return False
        if header is not None:
            scheme, _, token = header.partition(" ")
            ok = scheme.lower() == "bearer"
        else:
            token, ok = anthropic_key or "", True
        # compare_digest: the time taken does not reveal how much of the key matched.
        if not ok or not hmac.compare_digest(token.strip().encode(), key):
            self._error(401, "invalid API key", "invalid_api_key")
            return False
        return True

    def _zdr_ok(self) -> bool:
        """``Wafer-ZDR: required`` is accepted (nothing leaves this machine); any other
        value is refused, as a header Wafer does not define."""
        value = self.headers.get("Wafer-ZDR")
        if value is None or value.strip().lower() == "required":
            return True
        self._error(
            400,
            f"Wafer-ZDR must be 'required' (the only value Wafer defines), not {value!r}",
            "invalid_request",
            "Wafer-ZDR",
        )
        return False

    def _dispatch(self, method: str) -> None:
        self._status = 0
        self._unread = -1  # unknown until the Content-Length is checked
        self._raw = bytearray()
        fault: Fault | None = None
        path = self.path.split("?", 1)[0]
        self._anthropic = path == MESSAGES
        # The log's readers wait for the requests in flight; a control request (which
        # reads the log) must not wait for itself.
        tracked = not path.startswith(CONTROL_PREFIX)
        if tracked:
            self.server.faults.begin()
        try:
            # Nothing of the body is read before its length and the key are checked;
            # an answer given before (or instead of) reading it closes the connection,
            # as the unread body would be taken for the next request.
            self._unread = content_length(self.headers, needs_body=method == "POST")
            if path == "/health" and method == "GET":
                self._send_json(200, {"status": "ok"})
                return
            if not self._authorized():
                return
            if path.startswith("/v1/") and not self._zdr_ok():
                return
            if method in ("POST", "DELETE"):
                self._raw = self._read_body()
            if path.startswith(CONTROL_PREFIX):
                self._control(method, path)
                return
            fault = self.server.faults.take(path)
            if fault is not None and fault.kind == "status":
                self._fault_status(fault)
                return
            if fault is not None and fault.kind == "slow_first_byte":
                time.sleep(fault.delay)
                fault = None
            self._route(method, path, fault)
        except _Cut:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # gone, or not reading what it asked for
        except InvalidRequest as exc:
            self.close_connection = True  # the body may be unread
            self._answer_error(exc, chat=False)
        finally:
            if self._unread != 0:
                self.close_connection = True
                # Nothing to protect when no answer went out, or the body was never asked for.
                if self._status and not self._continue:
                    timeouts = self.server.timeouts
                    linger(self.connection, self.rfile, self._io, self._unread, timeouts.linger)
            self._continue = False
            self.server.faults.record(
                RequestRecord(method, path, self._status, fault.kind if fault else None),
                began=tracked,
            )

    def _fault_status(self, fault: Fault) -> None:
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(math.ceil(fault.retry_after))
        phrase = (
            HTTPStatus(fault.status).phrase
            if fault.status in HTTPStatus._value2member_map_
            else "Error"
        )
        code = "rate_limit_exceeded" if fault.status == 429 else "injected_fault"
        self._error(fault.status, f"{phrase} (injected fault)", code, headers=headers)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # ------------------------------------------------------------ routes

    def _route(self, method: str, path: str, fault: Fault | None) -> None:
        app = self.server.app
        if path == "/v1/models" and method == "GET":
            self._send_json(200, app.models(), fault=fault)
        elif path == f"/v1/models/{app.model_id}" and method == "GET":
            self._send_json(200, app.card(), fault=fault)
        elif path.startswith("/v1/models/") and method == "GET":
            self._error(
                404,
                f"model {path[len('/v1/models/') :]!r} does not exist; this server "
                f"serves {app.model_id!r}",
                "model_not_found",
                "model",
            )
        elif path in ("/v1/completions", "/v1/chat/completions", MESSAGES):
            if method != "POST":
                self._error(405, f"{path} takes POST", "method_not_allowed")
            else:
                self._generate(path, fault)
        else:
            self._error(404, f"no route {method} {path}", "not_found")

    def _generate(self, path: str, fault: Fault | None) -> None:
        chat = path != "/v1/completions"
        if self.server.draining:
            self._error(503, "the server is shutting down", "shutting_down")
            return
        try:
            request = self.server.app.parse(path, parse_json(self._raw))
            generation, shaper = self.server.app.start(request)
        except Exception as exc:  # every refusal becomes an error answer
            self._answer_error(exc, chat)
            return
        with self.server.in_flight.track(generation, self.connection):
            if request.stream:
                self._stream(request, generation, shaper, fault)
                return
            try:
                completion = generation.result()
            except Exception as exc:
                self._answer_error(exc, chat)
                return
            if self.server.in_flight.gone(self.connection):
                self.close_connection = True  # cancelled: nobody is waiting for the answer
                return
            if self._anthropic:
                body = anthropic.message_body(
                    anthropic.new_id(), shaper.model, completion.choices[0], completion.usage
                )
            else:
                body = shaper.completion(completion.choices, completion.usage)
            self._send_json(200, body, fault=fault)

    def _stream(
        self, request: Request, generation: Generation, shaper: Shaper, fault: Fault | None
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # the stream ends when the connection does
        self.end_headers()
        self.close_connection = True
        self._status = 200
        sent = 0

        def event(payload: str, name: str | None = None) -> None:
            nonlocal sent
            if self.server.in_flight.gone(self.connection):
                raise BrokenPipeError("the client hung up")
            if fault is not None and sent == fault.after_chunks:
                if fault.kind == "cut_stream":
                    raise _Cut
                if fault.kind == "malformed_json":
                    payload = payload[: max(1, len(payload) // 2)]
            head = f"event: {name}\n" if name else ""
            self.wfile.write(f"{head}data: {payload}\n\n".encode())
            self.wfile.flush()
            sent += 1

        def usage() -> Any:
            return generation.usage

        try:
            if self._anthropic:
                for name, body in anthropic.events(
                    anthropic.new_id(), shaper.model, generation, generation.prompt_tokens, usage
                ):
                    event(json.dumps(body, ensure_ascii=False), name)
            else:
                for body in streaming.chunks(
                    request, generation, shaper, generation.prompt_tokens, usage
                ):
                    event(json.dumps(body, ensure_ascii=False))
        except (_Cut, BrokenPipeError, ConnectionResetError, TimeoutError):
            generation.cancel()  # nobody is listening (or reading): stop decoding
            raise
        except Exception as exc:  # mid-stream: the status is sent, so the error is an event
            answer = error_answer(exc, chat=request.chat)
            if self._anthropic:
                message = answer.body["error"]["message"]
                event(json.dumps(anthropic.error_body(answer.status, message)), "error")
                return
            event(json.dumps(answer.body))
        if not self._anthropic:
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    def _control(self, method: str, path: str) -> None:
        plan = self.server.faults
        if not self.server.test_control:
            self._error(
                404,
                f"no route {method} {path} (start the server with "
                "--enable-test-control for test endpoints)",
                "not_found",
            )
            return
        if path == CONTROL_PREFIX + "faults" and method == "POST":
            doc = parse_json(self._raw)
            faults = doc.get("faults")
            if not isinstance(faults, list):
                raise InvalidRequest('send {"faults": [...]}', param="faults")
            plan.add(*(Fault.from_dict(f) for f in faults))
            self._send_json(200, {"pending": [f.to_dict() for f in plan.pending()]})
        elif path == CONTROL_PREFIX + "faults" and method == "DELETE":
            plan.clear()
            self._send_json(200, {"pending": []})
        elif path == CONTROL_PREFIX + "faults" and method == "GET":
            self._send_json(200, {"pending": [f.to_dict() for f in plan.pending()]})
        elif path == CONTROL_PREFIX + "requests" and method == "GET":
            self._send_json(200, {"requests": [r.__dict__ for r in plan.requests]})
        else:
            self._error(404, f"no route {method} {path}", "not_found")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # shutdown waits on in-flight generations itself, with a grace period

    def __init__(
        self,
        address: tuple[str, int],
        app: App,
        *,
        api_key: str | None,
        faults: FaultPlan,
        test_control: bool,
        timeouts: Timeouts,
        backlog: int,
    ) -> None:
        self.request_queue_size = backlog  # read by listen(), in super().__init__
        self.timeouts = timeouts
        super().__init__(address, _Handler)
        self.app = app
        self.api_key = api_key.encode() if api_key is not None else None
        self.faults = faults
        self.test_control = test_control
        self.draining = False
        self.in_flight = InFlight()

    def server_close(self) -> None:
        self.in_flight.close()
        super().server_close()


class LocalServer:
    """The embedded engine behind Wafer's HTTP API, on a loopback port.

    ``with LocalServer(port=0) as server: ... server.base_url ...`` runs it in a
    background thread; :meth:`serve_forever` runs it in the calling one.

    Parameters:
        engine: The engine to serve (default: a new one from ``config``); started here.
        host, port: Where to listen; port 0 picks a free one (read :attr:`port`).
        api_key: When set, every request needs ``Authorization: Bearer <api_key>``.
        faults: A fault plan (default: an empty one, which injects nothing).
        test_control: Serve ``/_wafer_grammar/faults`` and ``/_wafer_grammar/requests`` for tests.
        idle_timeout: Seconds a connection may wait for its next request (its first, too).
        header_timeout: Seconds for a request line and headers, from their first byte.
        body_timeout: Seconds for a whole body, once the headers are in (then 408).
        write_timeout: Seconds each write may wait on a client that does not read.

    A connection past a timeout is dropped, so held connections cannot pin threads.
    The listen backlog holds ``max_queued + max_batch`` (at least 128) connections.
    """

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        api_key: str | None = None,
        faults: FaultPlan | None = None,
        test_control: bool = False,
        config: EngineConfig | None = None,
        idle_timeout: float = Timeouts.idle,
        header_timeout: float = Timeouts.headers,
        body_timeout: float = Timeouts.body,
        write_timeout: float = Timeouts.write,
    ) -> None:
        self.timeouts = Timeouts(
            idle=idle_timeout,
            headers=header_timeout,
            body=body_timeout,
            write=write_timeout,
            linger=min(Timeouts.linger, body_timeout),
        )
        self.engine = engine or Engine(config)
        limits = self.engine.config
        self.backlog = max(MIN_BACKLOG, limits.max_queued + limits.max_batch)
        """The listen backlog: connections the kernel holds until they are accepted."""
        self.faults = faults or FaultPlan()
        self._host, self._port = host, port
        self._api_key = api_key
        self._test_control = test_control
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        # Never the key itself.
        auth = "on" if self._api_key else "off"
        where = self.base_url if self._httpd else f"http://{self._host}:{self._port}"
        return f"<LocalServer {where} model={self.engine.config.model_id!r} auth={auth}>"

    def bind(self) -> LocalServer:
        """Load the engine and open the socket (without serving yet)."""
        if self._httpd is None:
            self.engine.start()
            self._httpd = _HTTPServer(
                (self._host, self._port),
                App(self.engine),
                api_key=self._api_key,
                faults=self.faults,
                test_control=self._test_control,
                timeouts=self.timeouts,
                backlog=self.backlog,
            )
        return self

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not bound yet"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``: what an OpenAI-style client takes as its base URL."""
        host = self._host if ":" not in self._host else f"[{self._host}]"
        return f"http://{host}:{self.port}/v1"

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`stop` is called (from another thread)."""
        self.bind()
        assert self._httpd is not None
        self._httpd.serve_forever(poll_interval=0.2)

    def start(self) -> LocalServer:
        """Serve in a background thread."""
        self.bind()
        self._thread = threading.Thread(
            target=self.serve_forever, name="wafer-grammar-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, grace: float = 30.0) -> None:
        """Stop: refuse new requests, let those in flight finish for up to ``grace``
        seconds (then cut them), stop the engine and close the socket."""
        httpd = self._httpd
        if httpd is None:
            return
        httpd.draining = True
        if not httpd.in_flight.wait_idle(grace):
            if grace > 0:
                logger.warning("cutting requests still running after %.0f s", grace)
            httpd.in_flight.cancel_all()
            httpd.in_flight.wait_idle(5.0)
        httpd.shutdown()
        if self._thread is not None:
            self._thread.join()
        self.engine.close(timeout=10.0)
        httpd.server_close()
        self._httpd = None

    def cancel_running(self) -> None:
        """Cut every generation in flight now (their clients have gone); keep serving."""
        if self._httpd is not None:
            self._httpd.in_flight.cancel_all()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
