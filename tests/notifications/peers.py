"""Real protocol peers on loopback, on ports chosen at run time: an SMTP server (aiosmtpd), a
small Telegram Bot API that records sendMessage, and a Web Push endpoint (RFC 8030) whose
pushes the test decrypts with the subscription's own keys (RFC 8291)."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPPeer:
    """Counts every message by its Message-ID; `down` refuses every message with 421."""

    def __init__(self) -> None:
        self.messages: list = []
        self.sessions: list = []  # the SMTP session of every DATA, kept to tell them apart
        self.down = False
        self.lock = threading.Lock()
        peer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with peer.lock:
                    peer.sessions.append(session)
                if peer.down:
                    return "421 service not available"
                with peer.lock:
                    peer.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> SMTPPeer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def connections(self) -> int:
        """How many SMTP connections carried messages (or attempts at them)."""
        with self.lock:
            return len({id(s) for s in self.sessions})

    def ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.messages]


class _HTTPPeer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict, bytes]] = []
        self.lock = threading.Lock()
        self.status = 200  # what to answer (e.g. 502 while "down")
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                code, answer = peer.answer(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class TelegramPeer(_HTTPPeer):
    """The Bot API: records sendMessage calls (path /bot<token>/sendMessage)."""

    def answer(self, path, headers, body):
        if self.status != 200:
            return self.status, b'{"ok": false}'
        with self.lock:
            self.requests.append((path, headers, body))
            n = len(self.requests)
        return 200, json.dumps({"ok": True, "result": {"message_id": n}}).encode()

    def sent(self) -> list[dict]:
        with self.lock:
            return [json.loads(b) for p, _h, b in self.requests if p.endswith("/sendMessage")]


class PushPeer(_HTTPPeer):
    """A push service: every device is a path /push/<name>; `gone` paths answer 410."""

    def __init__(self) -> None:
        super().__init__()
        self.gone: set[str] = set()

    def answer(self, path, headers, body):
        if path in self.gone:
            return 410, b"{}"
        if self.status != 201 and self.status != 200:
            return self.status, b"{}"
        with self.lock:
            self.requests.append((path, headers, body))
        return 201, b"{}"


class Device:
    """A browser's push subscription: its own P-256 key pair and auth secret."""

    def __init__(self, peer: PushPeer, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = f"{peer.url}/push/{name}"
        self.path = f"/push/{name}"

    @staticmethod
    def _b64(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).decode().rstrip("=")

    @property
    def p256dh(self) -> str:
        return self._b64(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth_b64(self) -> str:
        return self._b64(self.auth)

    def decrypt(self, body: bytes) -> dict:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)
