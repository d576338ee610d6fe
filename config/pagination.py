"""The API's pagination: DRF's page numbers, held to what the schema says a page is."""

import re
from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

PAGE_NUMBER = re.compile(r"[0-9]{1,18}")


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` takes a page number (the schema's integer) and nothing else.

    DRF reads ``page=`` as the first page, ``page=last`` as the last and ``page=1_0`` as
    page 10; here each is an invalid page, a 404 like a page past the end.
    """

    invalid_page_message = "Invalid page: ?page= takes a page number from 1 to the last page."
    last_page_strings = ()

    def get_page_number(self, request: Request, paginator: Any) -> int | str:
        page = request.query_params.get(self.page_query_param)
        if page is None:
            return 1
        if not PAGE_NUMBER.fullmatch(page):
            raise NotFound(self.invalid_page_message)
        return page
