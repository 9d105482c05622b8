"""Noticing clients that hang up while their generation runs, and cancelling it.

One thread for the whole server polls the sockets of every request in flight
(waiting in the queue, prefilling, between stream events, or waiting for a whole
completion): a socket that turns readable and peeks as end of stream (or reset)
is a client gone, and its generation is cancelled. Only
:meth:`Generation.cancel` is used. A socket with input waiting that is not an end
of stream (a pipelined next request) is left alone for the rest of its request.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

logger = logging.getLogger(__name__)

POLL_INTERVAL = 0.1
"""Seconds between looks at the set of watched sockets (a new one waits at most this)."""


class Cancellable(Protocol):
    def cancel(self) -> None: ...


def client_gone(sock: socket.socket) -> bool:
    """Whether the peer closed or reset ``sock`` (peeks; consumes nothing)."""
    try:
        data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:  # reset, or closed under us
        return True
    return data == b""


class ClientWatch:
    """Cancels a watched generation when its client's socket reaches end of stream."""

    def __init__(self, interval: float = POLL_INTERVAL) -> None:
        self.interval = interval
        self._lock = threading.Condition()
        self._watched: dict[socket.socket, Cancellable] = {}
        self._gone: set[socket.socket] = set()
        self._thread: threading.Thread | None = None
        self._closed = False

    def watch(self, sock: socket.socket, generation: Cancellable) -> None:
        """Watch ``sock`` until :meth:`unwatch`; cancel ``generation`` if its client goes."""
        with self._lock:
            if self._closed:
                return
            self._watched[sock] = generation
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="wafer-grammar-client-watch", daemon=True
                )
                self._thread.start()
            self._lock.notify_all()

    def unwatch(self, sock: socket.socket) -> bool:
        """Stop watching ``sock``; whether its client was found gone."""
        with self._lock:
            self._watched.pop(sock, None)
            if sock in self._gone:
                self._gone.discard(sock)
                return True
            return False

    def gone(self, sock: socket.socket) -> bool:
        """Whether ``sock``'s client was found gone (and its generation cancelled)."""
        with self._lock:
            return sock in self._gone

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(5.0)

    def _run(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._closed or bool(self._watched))
                if self._closed:
                    return
                watched = list(self._watched)
            try:
                self._look(watched)
            except Exception:  # never let the watch die: requests would go unwatched
                logger.exception("watching clients failed")

    def _look(self, watched: list[socket.socket]) -> None:
        poller = select.poll()
        by_fd: dict[int, socket.socket] = {}
        for sock in watched:
            fd = sock.fileno()
            if fd >= 0:
                by_fd[fd] = sock
                poller.register(fd, select.POLLIN)
        for fd, _events in poller.poll(self.interval * 1000):
            sock = by_fd[fd]
            gone = client_gone(sock)
            with self._lock:
                generation = self._watched.pop(sock, None)  # None: its request just ended
                if generation is None:
                    continue
                if gone:
                    self._gone.add(sock)
            if gone:
                generation.cancel()


class InFlight:
    """The generations in flight: counted (a graceful shutdown waits for them), and each
    cancelled if its client hangs up first."""

    def __init__(self) -> None:
        self.watch = ClientWatch()
        self._active: set[Cancellable] = set()
        self._idle = threading.Condition()

    @contextmanager
    def track(self, generation: Cancellable, client: socket.socket) -> Iterator[None]:
        """Within the block: ``generation`` is in flight, cancelled if ``client`` goes."""
        with self._idle:
            self._active.add(generation)
        self.watch.watch(client, generation)
        try:
            yield
        finally:
            self.watch.unwatch(client)
            with self._idle:
                self._active.discard(generation)
                self._idle.notify_all()

    def gone(self, client: socket.socket) -> bool:
        """Whether ``client`` hung up (its generation is then cancelled)."""
        return self.watch.gone(client)

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for nothing to be in flight; whether it is so."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._active, timeout)

    def cancel_all(self) -> None:
        with self._idle:
            for generation in self._active:
                generation.cancel()

    def close(self) -> None:
        self.watch.close()
