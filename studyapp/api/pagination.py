"""Limit/offset pagination that refuses garbled parameters instead of guessing.

DRF's own class silently replaces a bad ``limit`` or ``offset`` with the default, so a client
with a bug reads the wrong page without noticing, and it passes any huge ``limit`` on to the
database (where it overflows the SQL integer: a 500). Here a bad value is a 400 naming the
parameter, and the bounds are part of the OpenAPI schema.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_LIMIT = 1000
MAX_OFFSET = 10**9
_DIGITS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() also takes "٣", " 3" and "3_0"


class StrictLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_limit(self, request: Request) -> int | None:
        return _parameter(request, self.limit_query_param, self.default_limit, 1, MAX_LIMIT)

    def get_offset(self, request: Request) -> int:
        return _parameter(request, self.offset_query_param, 0, 0, MAX_OFFSET)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        bounds = {self.limit_query_param: (1, MAX_LIMIT), self.offset_query_param: (0, MAX_OFFSET)}
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"].update(minimum=low, maximum=high)
        return parameters


def _parameter(request: Request, name: str, default: Any, low: int, high: int) -> Any:
    values = request.query_params.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise ValidationError({name: "give this parameter once"})
    if not _DIGITS.fullmatch(values[0]) or not low <= int(values[0]) <= high:
        raise ValidationError({name: f"expected an integer from {low} to {high}"})
    return int(values[0])
