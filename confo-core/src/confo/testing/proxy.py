"""A TCP proxy on 127.0.0.1 whose connections a test can cut, to fault a client for real."""

from __future__ import annotations

import contextlib
import socket
import threading


class TCPProxy:
    """Forwards ``127.0.0.1:<port>`` to ``127.0.0.1:<upstream>``.

    ``cut()`` drops every connection and refuses new ones (they are accepted and closed at once,
    as a dead route looks to a client) until ``restore()``. ``freeze()`` keeps every connection
    open but lets no byte through, new ones included, until ``thaw()``: a server that accepts
    and never answers, or a network path that went silent. ``lose_replies()`` lets requests
    reach the server but drops every byte it answers, until ``restore()``: a write the store
    applied whose answer never came back; ``lose_replies_after(marker)`` does so from the first
    request that carries ``marker`` (a value only the write sends), so the requests before it
    are answered. ``attempts`` counts the connections clients tried,
    refused ones included. Use it as a context manager.
    """

    def __init__(self, upstream: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.upstream = upstream
        self._listener = socket.create_server((host, 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._open = True
        self._flowing = threading.Event()
        self._flowing.set()
        self._replies = True
        self._marker: bytes | None = None
        self.attempts = 0
        self._running = True
        self._acceptor = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._acceptor.start()

    def __enter__(self) -> TCPProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def cut(self) -> None:
        """Drop every connection now, and refuse new ones until :meth:`restore`."""
        with self._lock:
            self._open = False
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            _close(sock)

    def restore(self) -> None:
        """Accept connections again, and pass the server's answers again."""
        with self._lock:
            self._open = True
            self._replies = True
            self._marker = None

    def lose_replies(self) -> None:
        """From now on the server gets every request, and the client none of the answers."""
        with self._lock:
            self._replies = False

    def lose_replies_after(self, marker: bytes) -> None:
        """Answer as usual until a request carrying ``marker`` passes (within one read: keep it
        short); from then on, as :meth:`lose_replies`, until ``restore()``."""
        with self._lock:
            self._marker = marker

    def freeze(self) -> None:
        """Hold every byte in both directions, on every connection, until :meth:`thaw`."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        self._running = False
        self._flowing.set()
        self.cut()
        _close(self._listener)
        self._acceptor.join(2)

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refuse = not self._open
                self.attempts += 1
            if refuse:
                _close(client)
                continue
            try:
                server = socket.create_connection((self.host, self.upstream), timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets |= {client, server}
            for source, target, answers in ((client, server, False), (server, client, True)):
                threading.Thread(
                    target=self._pump,
                    args=(source, target, answers),
                    name="tcp-proxy pump",
                    daemon=True,
                ).start()

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                if answers and not self._replies:
                    continue  # the answer is lost on the way back
                if not answers:
                    self._watch_for_marker(data)
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets -= {source, target}
            _close(source)
            _close(target)

    def _watch_for_marker(self, request: bytes) -> None:
        with self._lock:
            if self._marker is not None and self._marker in request:
                self._marker = None
                self._replies = False  # before the request goes on: its answer is lost too


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
