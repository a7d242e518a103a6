"""Channels: each takes one outbox row and hands the neutral words to its provider.

A channel raises `ChannelError` with a short reason code (never content): `retry=True` when the
provider may work later (down, rate-limited), False when it never will (no address, unlinked).
"""

from __future__ import annotations


class ChannelError(Exception):
    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason[:60]
        self.retry = retry
