"""What every endpoint of /api/v1/ answers when it refuses, for the OpenAPI document.

Every error is ``{"code", "message", "details"}`` (refuge.api's handlers write it). An endpoint
declares each refusal it can give with ``errors(...)``::

    @router.get("/things/{id}", response={200: ThingOut, **errors(403, 404)})

401 (for endpoints that take a key or a session) and 422 (for endpoints with parameters or a
body) come from the framework and are added to the document for every such operation by
``refuge.api``; the rest (400, 403, 404, 409, 413, ...) each endpoint declares itself.
This module imports nothing of the project, so any app's api.py can import it.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field


class ErrorOut(Schema):
    """An error: a stable machine code, a sentence for people, and details (or null)."""

    code: str
    message: str
    details: Any = Field(
        ..., description="More about the error (e.g. each invalid field), or null."
    )


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    return dict.fromkeys(statuses, ErrorOut)
