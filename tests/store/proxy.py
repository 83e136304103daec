"""A TCP proxy in front of the test store that corrupts request bodies in flight.

Why: a flipped bit between station and store (a bad cable, NIC or middlebox) must be caught by
the store (Content-MD5 / x-amz-checksum-sha256), and the record uploaded again intact. Each
request of ``StoreClient`` is one connection, so the proxy handles one request per connection.
"""

from __future__ import annotations

import socket
import threading

HEADER_END = b"\r\n\r\n"


def pump(src: socket.socket, dst: socket.socket) -> None:
    """Copy until ``src`` ends, then tell ``dst`` that nothing more comes."""
    try:
        while data := src.recv(65536):
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def read_request(conn: socket.socket) -> bytes:
    """One HTTP request: its header block and a Content-Length body."""
    data = b""
    while HEADER_END not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(HEADER_END)
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
         if line.lower().startswith(b"content-length:")),
        0,
    )  # fmt: skip
    while len(body) < length and (chunk := conn.recv(65536)):
        body += chunk
    return head + HEADER_END + body


class CorruptingProxy:
    """Forwards to ``127.0.0.1:upstream``; the next ``corrupt`` PUTs with a body arrive with
    their last byte flipped."""

    def __init__(self, upstream: int, corrupt: int) -> None:
        self.upstream, self.corrupt, self.corrupted = upstream, corrupt, 0
        self._lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, name="corrupting-proxy", daemon=True).start()

    def close(self) -> None:
        self.server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client, socket.create_connection(("127.0.0.1", self.upstream)) as upstream:
            upstream.sendall(self._maybe_corrupt(read_request(client)))
            threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
            pump(upstream, client)

    def _maybe_corrupt(self, request: bytes) -> bytes:
        has_body = not request.endswith(HEADER_END)
        with self._lock:
            if not (request.startswith(b"PUT ") and has_body and self.corrupted < self.corrupt):
                return request
            self.corrupted += 1
        return request[:-1] + bytes([request[-1] ^ 0x01])
