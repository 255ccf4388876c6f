"""The API's one request parser: JSON, bounded in size and nesting.

DRF's JSONParser reads the whole body whatever its length (Django's upload limit only guards
``request.body`` and forms) and lets the RecursionError of a deeply nested document escape as
a 500. Every API client (the participant page's event logger, researchers' scripts) sends
small JSON, so anything else is refused with a 4xx that says why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

MAX_BODY_BYTES = 64 * 1024


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB."
    default_code = "payload_too_large"


class BoundedJSONParser(JSONParser):
    def parse(self, stream: IO[bytes], media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        encoding = _text_encoding(parser_context or {})
        raw = stream.read(MAX_BODY_BYTES + 1)  # never more than the limit, whatever is sent
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        try:
            return json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParseError(f"JSON parse error - {str(exc)[:200]}") from None


def _text_encoding(parser_context: Mapping[str, Any]) -> str:
    """The request's charset, if it is a text encoding: a codec such as ``bz2_codec`` would
    decompress a small body into a huge one."""
    encoding = str(parser_context.get("encoding") or settings.DEFAULT_CHARSET)
    try:
        "".encode(encoding)
    except (LookupError, UnicodeError):
        raise ParseError(f"Unsupported charset {encoding[:40]!r}.") from None
    return encoding


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
