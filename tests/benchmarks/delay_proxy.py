# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A TCP proxy on loopback that adds a fixed delay to every round trip, and counts what passes through it.

The delay is spent once when a connection opens (the TCP handshake's round trip) and once whenever the client
speaks after the server did (one request/response turn), so an HTTP exchange on a kept-alive connection costs one
delay, and an NTLM handshake costs one per leg, as a network with that round-trip time would charge.
Every socket has TCP_NODELAY, so the proxy itself adds no delayed-ACK wait.
"""

from __future__ import annotations

import socket
import threading
import time

_CHUNK = 256 * 1024


def _no_delay(sock: socket.socket) -> socket.socket:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class DelayProxy:
    """Listens on 127.0.0.1 (a free port), forwards to ``target`` (host, port). Use as a context manager."""

    def __init__(self, target: tuple[str, int], delay_sec: float) -> None:
        self.target = target
        self.delay_sec = delay_sec
        self.connections = 0
        self.bytes_to_server = 0
        self.bytes_to_client = 0
        self._lock = threading.Lock()
        self._listener = _no_delay(socket.create_server(("127.0.0.1", 0)))
        self.address = self._listener.getsockname()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc_info) -> None:
        self._closed.set()
        self._listener.close()

    def reset_counters(self) -> None:
        with self._lock:
            self.connections = self.bytes_to_server = self.bytes_to_client = 0

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _peer = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(_no_delay(client),), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        time.sleep(self.delay_sec)
        try:
            server = _no_delay(socket.create_connection(self.target))
        except OSError:
            client.close()
            return
        with self._lock:
            self.connections += 1
        client_turn = threading.Event()
        client_turn.set()
        threading.Thread(target=self._pump, args=(server, client, False, client_turn), daemon=True).start()
        self._pump(client, server, True, client_turn)

    def _pump(self, source: socket.socket, sink: socket.socket, to_server: bool, client_turn: threading.Event) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    break
                if to_server:
                    if not client_turn.is_set():
                        time.sleep(self.delay_sec)
                        client_turn.set()
                else:
                    client_turn.clear()
                sink.sendall(data)
                with self._lock:
                    if to_server:
                        self.bytes_to_server += len(data)
                    else:
                        self.bytes_to_client += len(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            source.close()
