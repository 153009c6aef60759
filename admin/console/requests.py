"""The Requests page (CRM.COM's Webhook Requests): successful and rejected requests in one list,
filtered by state; resend a rejected one, delete one or many."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from admin.api.problems import ProblemError
from admin.api.schemas import RequestDeleteResult, RequestOut, RequestPage, ResendItem
from admin.console.app import Page, page
from admin.console.failed_events import said_of_resend
from admin.console.lists import (
    PAGE_SIZE,
    Paging,
    back_to,
    choices,
    day_range,
    filter_errors,
    plural,
    selected_ids,
    zone,
)
from store import InvalidCursor

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
    tz_name = query.get("tz", "")
    since, until, errors = day_range(values["since"], values["until"], zone(tz_name))
    asked: dict[str, Any] = {
        name: values[name] for name in FILTERS if values[name] and name not in ("since", "until")
    }
    if since is not None:
        asked["since"] = since.isoformat()
    if until is not None:
        asked["until"] = until.isoformat()
    paging = Paging.of(query)
    listed = RequestPage(items=[], total=0, next_cursor=None)
    if not errors:
        try:
            listed = await view.call(
                RequestPage,
                "list_requests",
                query={**asked, "limit": PAGE_SIZE, **({"cursor": paging.cursor} if paging.cursor else {})},
            )
        except ProblemError as exc:
            if exc.problem.status != 422:
                raise
            errors = filter_errors(exc)
            paging = Paging()
        except InvalidCursor:
            errors = {"cursor": "this page's place in the list is not one this console made"}
            paging = Paging()
    params = {name: values[name] for name in FILTERS if values[name]}
    if tz_name and (values["since"] or values["until"]):
        params["tz"] = tz_name
    first_page = LIST + ("?" + urlencode(params) if params else "")
    links = paging.links(
        params, shown=len(listed.items), total=listed.total, next_cursor=listed.next_cursor, base=LIST
    )
    known = (await choices(view)).with_current(values)
    # The state tabs above the list: the other filters kept, the state changed.
    kept = {name: value for name, value in params.items() if name != "state"}
    return view.render(
        "requests.html",
        title="Requests",
        values=values,
        errors=errors,
        filtered=any(values[name] for name in FILTERS if name != "state"),
        options=known.options(),
        states=STATES,
        kept=kept,
        listed=listed,
        rows=[_row(item) for item in listed.items],
        links=links,
        first_page=first_page,
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
