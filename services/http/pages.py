"""The API's Blueprint, and list endpoints in pages (DESIGN "Lists and formats"): flask-smorest's
own pagination, `page` and `page_size` (default 100, at most 1000) in the query, the
`X-Pagination` header in the answer (total, total_pages, first_page, last_page, page,
previous_page, next_page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask_smorest import Blueprint
from flask_smorest.pagination import PaginationParameters

T = TypeVar("T")
PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000


class ApiBlueprint(Blueprint):
    """The API's Blueprint: its X-Pagination header documented as what it is, JSON text (OpenAPI 3
    `content`), rather than as an object, which a header cannot carry; and each argument schema
    made once (webargs makes a schema class into an instance on every request, marshmallow copying
    every declared field into it)."""

    def arguments(self, schema: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)

    def _document_pagination_metadata(self, spec: Any, resp_doc: dict[str, Any]) -> None:
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "Pagination metadata: total, total_pages, first_page, last_page, page, "
                           "previous_page, next_page",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaginationMetadata"}}},
        }


def paginated(blp: Blueprint) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Place under `@blp.response`; the view takes `pagination_parameters` and answers `page_of`."""
    return blp.paginate(page=1, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)


def page_of(items: list[T], pagination: PaginationParameters) -> list[T]:
    """The requested page of `items`, the total count recorded for the X-Pagination header."""
    pagination.item_count = len(items)
    return items[pagination.first_item : pagination.last_item + 1]
