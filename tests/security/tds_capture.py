"""A fake SQL Server on 127.0.0.1 that records every byte a client sends, for wire-level checks.

It speaks just enough TDS for a client to show what it would send: it answers PRELOGIN with the
encryption mode it is told to offer and then keeps reading until the client gives up or the timeout
passes. Offering ENCRYPT_NOT_SUP tells a client that insists on TLS to stop before LOGIN7; offering
ENCRYPT_ON makes it start a TLS handshake the fake cannot finish. A client that does not insist sends
LOGIN7 in clear, which is what the positive control looks for.
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

PRELOGIN = 0x12
RESPONSE = 0x04
ENCRYPT_OFF, ENCRYPT_ON, ENCRYPT_NOT_SUP, ENCRYPT_REQ = 0x00, 0x01, 0x02, 0x03


def login7_obfuscated(password: str) -> bytes:
    """The password as LOGIN7 carries it: UTF-16LE, each byte's nibbles swapped, then XOR 0xA5."""
    return bytes((((b << 4) & 0xF0) | (b >> 4)) ^ 0xA5 for b in password.encode("utf-16-le"))


def password_forms(password: str) -> dict[str, bytes]:
    """Every form a password could leave in: ASCII/UTF-8, UTF-16LE, and LOGIN7's obfuscation."""
    return {
        "utf-8": password.encode(),
        "utf-16-le": password.encode("utf-16-le"),
        "login7": login7_obfuscated(password),
    }


def _prelogin_response(encryption: int) -> bytes:
    # Option tokens (VERSION, ENCRYPTION), terminator, then their data: 6 bytes of version, 1 of mode.
    header_len = 5 + 5 + 1
    options = (
        struct.pack(">BHH", 0x00, header_len, 6) + struct.pack(">BHH", 0x01, header_len + 6, 1) + b"\xff"
    )
    payload = options + bytes([16, 0, 0x10, 0x00, 0, 0]) + bytes([encryption])
    return struct.pack(">BBHHBB", RESPONSE, 0x01, 8 + len(payload), 0, 1, 0) + payload


class FakeTdsServer:
    """`with FakeTdsServer(offer) as server:` connect to server.port; server.received afterwards."""

    def __init__(self, offer: int = ENCRYPT_NOT_SUP, timeout: float = 5.0) -> None:
        self.offer = offer
        self.timeout = timeout
        self.received = bytearray()
        self.packet_types: list[int] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self._listener.settimeout(timeout)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._stop = threading.Event()

    def __enter__(self) -> FakeTdsServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(self.timeout + 1)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(self.timeout)
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        answered = False
        buffer = bytearray()
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            self.received += chunk
            buffer += chunk
            while len(buffer) >= 8:
                kind, _status, length = struct.unpack(">BBH", buffer[:4])
                if length < 8 or len(buffer) < length:
                    break
                self.packet_types.append(kind)
                del buffer[:length]
                if kind == PRELOGIN and not answered:
                    answered = True
                    conn.sendall(_prelogin_response(self.offer))
