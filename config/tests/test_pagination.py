"""?page= takes a page number: anything else, or a page past the end, is a JSON 404."""

import pytest
from rest_framework.test import APIClient

from config.pagination import PageNumberPagination

URL = "/api/orders/products/"
INVALID = {"detail": PageNumberPagination.invalid_page_message}

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["", "0", "2", "-1", "last", "1_0", " 1", "+1", "1.0", "x"])
def test_a_page_that_is_not_an_existing_page_number_is_a_404(page: str) -> None:
    # when (the catalogue is empty: one page)
    response = APIClient().get(URL, {"page": page})

    # then
    assert response.status_code == 404
    assert response.json() == INVALID


@pytest.mark.parametrize("query", [{}, {"page": "1"}, {"page": "01"}])
def test_no_page_or_page_one_is_the_first_page(query: dict[str, str]) -> None:
    # when
    response = APIClient().get(URL, query)

    # then
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
