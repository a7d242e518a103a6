"""A fake peer instance on loopback: a real HTTP server with its own Ed25519 key, which checks
signatures with refuge.federation.signing and counts each message id it accepts."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from refuge.federation import sealing, signing
from tests.notifications.peers import free_port


class FakePeer:
    def __init__(self, *, recipient_key: str, sender_key: str) -> None:
        self.seed = signing.new_seed()
        self.key = signing.private_key(self.seed)
        self.public_key = signing.public_key_text(self.key)
        self.sealing_key = sealing.private_key(signing.new_seed())  # X25519, for records to it
        self.sealing_public_key = sealing.public_key_text(self.sealing_key)
        self.recipient_key = recipient_key  # its own key, as our messages must name it
        self.sender_key = sender_key  # ours: whom it trusts
        self.down = False
        self.fail_status = 0  # answer every message with this status (e.g. 500)
        self.fail_code = "error"  # and this refusal code
        self.hang_seconds = 0.0  # wait this long before answering (a peer that times out)
        self.lose_answers = 0  # accept the message, then drop the connection (lost answer)
        self.accepted: list[str] = []  # message ids, each acted on once
        self.received: dict[str, tuple[str, dict]] = {}  # message id -> (kind, body)
        self.posts = 0
        self.snapshot: dict = {"generated_at": None, "facilities": []}
        self.lock = threading.Lock()
        self.port = free_port()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                with peer.lock:
                    peer.posts += 1
                if peer.hang_seconds:
                    import time

                    time.sleep(peer.hang_seconds)
                if peer.fail_status:
                    self._answer(
                        peer.fail_status, {"code": peer.fail_code, "message": "", "details": None}
                    )
                    return
                if peer.down:
                    self._answer(503, {"code": "down", "message": "down", "details": None})
                    return
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                from datetime import UTC, datetime

                try:
                    env = signing.open_sealed(
                        json.loads(raw),
                        public_key=peer.sender_key,
                        recipient_key=peer.public_key,
                        now=datetime.now(UTC),
                        skew_seconds=300,
                    )
                except signing.BadMessage as exc:
                    self._answer(exc.status, {"code": exc.code, "message": "", "details": None})
                    return
                if self.path.endswith("/availability"):
                    body = {**peer.snapshot, "in_reply_to": env.id}
                    self._answer(
                        200,
                        signing.seal(
                            peer.key,
                            sender="fake",
                            recipient_key=peer.sender_key,
                            kind="availability.snapshot",
                            body=body,
                        ),
                    )
                    return
                with peer.lock:
                    duplicate = env.id in peer.accepted
                    if not duplicate:
                        peer.accepted.append(env.id)
                        peer.received[env.id] = (env.kind, env.body)
                    lose = peer.lose_answers > 0
                    if lose:
                        peer.lose_answers -= 1
                if lose:
                    self.close_connection = True
                    self.connection.close()
                    return
                self._answer(200, {"id": env.id, "duplicate": duplicate})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> FakePeer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
