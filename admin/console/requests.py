"""The Requests page (CRM.COM's Webhook Requests): successful and rejected requests in one list,
filtered by state; resend a rejected one, delete one or many."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from admin.api.problems import ProblemError
from admin.api.schemas import RequestDeleteResult, RequestOut, RequestPage, ResendItem
from admin.console.app import Page, page
from admin.console.failed_events import said_of_resend
from admin.console.lists import (
    back_to,
    choices,
    fetch_listing,
    plural,
    selected_ids,
)

__all__ = ["ROUTES"]

LIST = "/requests"
FILTERS = ("state", "subscription", "entity", "entity_id", "trigger", "error_code", "since", "until")
STATES = ("Successful", "Rejected")


def _pretty(text: str | None) -> str:
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _row(item: RequestOut) -> dict[str, Any]:
    return {"item": item, "request": _pretty(item.request), "response": item.response or ""}


@page()
async def list_page(view: Page) -> web.StreamResponse:
    query = view.request.query
    values = {name: query.get(name, "").strip() for name in FILTERS}
    if values["state"] not in STATES:
        values["state"] = ""
    listing = await fetch_listing(
        view, RequestPage, "list_requests", values=values, asked={}, params={}, base=LIST
    )
    known = (await choices(view)).with_current(values)
    # The state tabs above the list: the other filters kept, the state changed.
    kept = {name: value for name, value in listing.params.items() if name != "state"}
    return view.render(
        "requests.html",
        title="Requests",
        values=values,
        errors=listing.errors,
        filtered=any(values[name] for name in FILTERS if name != "state"),
        options=known.options(),
        states=STATES,
        kept=kept,
        listed=listing.listed,
        rows=[_row(item) for item in listing.listed.items],
        links=listing.links,
        first_page=listing.first_page,
        here=view.request.path_qs,
    )


@page("operator")
async def resend(view: Page) -> web.StreamResponse:
    """A rejected request is an open failed event: it is resent by the failed events' rule."""
    request_id = view.request.match_info["id"]
    form = await view.form()
    back = back_to(form.get("back"), LIST)
    state, _, number = request_id.rpartition("-")
    if state != "rejected" or not number.isdigit():
        raise ProblemError(409, f"only a rejected request can be resent; {request_id} is not one")
    item = await view.call(ResendItem, "resend_failed_event", path={"id": number})
    return view.redirect(
        back, said_of_resend(item, f"Request {request_id}"), warn=item.result.value != "delivered"
    )


@page("operator")
async def delete_many(view: Page) -> web.StreamResponse:
    lists = await view.form_lists()
    back = back_to(lists.get("back", [""])[0], LIST)
    ids = selected_ids(lists)
    if not ids:
        return view.redirect(back, "Select the requests to delete first", warn=True)
    done = await view.call(RequestDeleteResult, "bulk_delete_requests", body={"ids": ids})
    gone = len(done.results) - done.deleted
    said = f"Deleted {plural(done.deleted, 'request')}"
    if gone:
        said += f" ({plural(gone, 'was', 'were')} already gone)"
    return view.redirect(back, said)


ROUTES = [
    web.get(LIST, list_page),
    web.post(f"{LIST}/delete", delete_many),
    web.post(LIST + "/{id}/resend", resend),
]
