"""OpenAPI declarations shared by the routes that answer with files rather than JSON."""

from __future__ import annotations

from litestar.openapi import ResponseSpec


def file_response(description: str, media_type: str = "application/octet-stream") -> dict[int, ResponseSpec]:
    """A 200 that is a downloaded file (exports, report tables, attachments), not a JSON document."""
    return {
        200: ResponseSpec(
            data_container=bytes, media_type=media_type, description=description, generate_examples=False
        )
    }
