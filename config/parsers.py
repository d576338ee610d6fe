"""The API's JSON parser: DRF's, with a limit on how deeply a document may nest.

A document nested deeper than ``max_depth`` answers 400 with a JSON message before any view
sees it, so nothing is written: ``json`` itself raises RecursionError on a deep enough
document, and a shallower but still deep one would reach serializers and services. (The
body's size is Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``, answered 413 by
``config.exceptions``.)
"""

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class DepthLimitedJSONParser(JSONParser):
    """JSON nested at most ``max_depth`` levels (each object or array inside another counts
    one more level; the document's own object is the first)."""

    max_depth = 32

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise self.too_deep() from None
        if nesting_depth(data) > self.max_depth:
            raise self.too_deep()
        return data

    def too_deep(self) -> ParseError:
        return ParseError(
            f"JSON parse error - the document is nested deeper than {self.max_depth} levels; "
            "send a flatter document."
        )


def nesting_depth(value: Any) -> int:
    """How many objects and arrays deep ``value`` goes (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest
