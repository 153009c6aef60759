"""The failed-events pages: the list (filters, pages, resend or delete one or many) and one failed
event's details in three tabs: Overview, Payload (as sent) and Trial History."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from admin.api.schemas import (
    BulkDeleteResult,
    BulkResendResult,
    FailedEventDetail,
    FailedEventPage,
    ResendItem,
)
from admin.console.app import Page, page
from admin.console.lists import (
    back_to,
    channel_names,
    choices,
    fetch_listing,
    plural,
    selected_ids,
    sentence,
)

__all__ = ["ROUTES", "resend_summary", "said_of_resend"]

LIST = "/failed-events"
#: The filters, as the query string names them (since and until are days, in the browser's zone).
FILTERS = ("subscription", "entity", "trigger", "channel", "subchannel", "error_code", "since", "until")
STATES = {"open": "Open", "closed": "Closed (resent and delivered)", "all": "Open and closed"}
TABS = {"overview": "Overview", "payload": "Payload", "history": "Trial History"}
#: Offered as you type an error code; any other (an HTTP status) may be typed.
KNOWN_CODES = (
    "400",
    "401",
    "403",
    "404",
    "408",
    "409",
    "410",
    "422",
    "429",
    "500",
    "502",
    "503",
    "504",
    "timeout",
    "connect_error",
    "connection_error",
    "dns_error",
    "tls_error",
    "protocol_error",
    "send_error",
    "invalid_url",
    "ssrf_blocked",
    "config_error",
    "oauth_token_error",
    "soap_fault",
    "wsdl_unavailable",
    "soap_build_error",
    "circuit_open",
    "endpoint_busy",
    "internal_error",
    "subscription_suspended",
)
# What happened to a resent failed event, as a flash message says it.
_RESULTS = {
    "delivered": "resent and delivered",
    "failed": "failed again",
    "not_open": "already closed",
    "not_found": "no longer there",
    "subscription_gone": "not sent: the subscription is deleted or suspended",
    "not_resendable": "not sent: the stored body cannot be resent",
}


def resend_summary(results: list[ResendItem]) -> str:
    """``2 resent and delivered and 1 failed again (503)``: counts by kind, with the new errors."""
    counts = Counter(item.result.value for item in results)
    errors = Counter(item.error_code for item in results if item.result.value == "failed" and item.error_code)
    parts = []
    for kind, words in _RESULTS.items():
        if counts[kind]:
            detail = f" ({', '.join(errors)})" if kind == "failed" and errors else ""
            parts.append(f"{counts[kind]:,} {words}{detail}")
    return sentence(parts)


def said_of_resend(item: ResendItem, what: str) -> str:
    if item.result.value == "delivered":
        return f"{what} was resent and delivered: it is closed"
    if item.result.value == "failed":
        why = f"{item.error_code}: {item.description}" if item.description else str(item.error_code)
        return f"{what} was resent and failed again ({why})"
    return f"{what}: {_RESULTS.get(item.result.value, item.result.value)}"


def _values(query: Any) -> dict[str, str]:
    values = {name: query.get(name, "").strip() for name in FILTERS}
    state = query.get("state", "open")
    values["state"] = state if state in STATES else "open"
    return values


@page()
async def list_page(view: Page) -> web.StreamResponse:
    query = view.request.query
    values = _values(query)
    listing = await fetch_listing(
        view,
        FailedEventPage,
        "list_failed_events",
        values={name: values[name] for name in FILTERS},
        asked={"state": values["state"]},
        params={"state": values["state"]} if values["state"] != "open" else {},
        base=LIST,
    )
    known = (await choices(view)).with_current(values)
    return view.render(
        "failed_events.html",
        title="Failed events",
        values=values,
        errors=listing.errors,
        filtered=any(values[name] for name in FILTERS) or values["state"] != "open",
        choices=known,
        options=known.options(),
        states=STATES,
        codes=KNOWN_CODES,
        listed=listing.listed,
        links=listing.links,
        first_page=listing.first_page,
        here=view.request.path_qs,
    )


def _pretty(detail: FailedEventDetail) -> tuple[str, str]:
    """The body as sent, and what it is: JSON pretty-printed, a SOAP envelope or other text as is."""
    if detail.payload is not None:
        return json.dumps(detail.payload, indent=2, ensure_ascii=False), "JSON"
    body = detail.request.body
    return body, "a SOAP envelope, XML" if body.lstrip().startswith("<") else "text"


@page()
async def details_page(view: Page) -> web.StreamResponse:
    failed_id = view.request.match_info["id"]
    detail = await view.call(FailedEventDetail, "get_failed_event", path={"id": failed_id})
    tab = view.request.query.get("tab", "overview")
    body, kind = _pretty(detail)
    channels = await channel_names(view)
    overview = detail.overview
    return view.render(
        "failed_event.html",
        title=f"Failed event {overview.id}",
        item=overview,
        detail=detail,
        body=body,
        body_kind=kind,
        channel_name=channels.get(overview.channel or ""),
        tab=tab if tab in TABS else "overview",
        tabs=TABS,
        back=back_to(view.request.query.get("back"), LIST),
        here=view.request.path_qs,
    )


@page("operator")
async def resend_many(view: Page) -> web.StreamResponse:
    lists = await view.form_lists()
    back = back_to(lists.get("back", [""])[0], LIST)
    ids = selected_ids(lists)
    if not ids:
        return view.redirect(back, "Select the failed events to resend first", warn=True)
    done = await view.call(BulkResendResult, "bulk_resend_failed_events", body={"ids": ids})
    return view.redirect(
        back,
        f"Resent {plural(len(done.results), 'failed event')}: {resend_summary(done.results)}",
        warn=any(item.result.value != "delivered" for item in done.results),
    )


@page("operator")
async def delete_many(view: Page) -> web.StreamResponse:
    lists = await view.form_lists()
    back = back_to(lists.get("back", [""])[0], LIST)
    ids = selected_ids(lists)
    if not ids:
        return view.redirect(back, "Select the failed events to delete first", warn=True)
    done = await view.call(BulkDeleteResult, "bulk_delete_failed_events", body={"ids": ids})
    gone = len(done.results) - done.deleted
    said = f"Deleted {plural(done.deleted, 'failed event')}"
    if gone:
        said += f" ({plural(gone, 'was', 'were')} already gone)"
    return view.redirect(back, said)


@page("operator")
async def resend_one(view: Page) -> web.StreamResponse:
    failed_id = view.request.match_info["id"]
    form = await view.form()
    item = await view.call(ResendItem, "resend_failed_event", path={"id": failed_id})
    said = said_of_resend(item, f"Failed event {item.id}")
    back = back_to(form.get("back"), LIST)
    if item.result.value == "delivered":
        return view.redirect(back, said)
    # Failed again: its trial history shows the new attempt.
    return view.redirect(f"{LIST}/{item.id}?" + urlencode({"tab": "history", "back": back}), said, warn=True)


@page("operator")
async def delete_one(view: Page) -> web.StreamResponse:
    failed_id = view.request.match_info["id"]
    form = await view.form()
    await view.act("delete_failed_event", path={"id": failed_id})
    return view.redirect(back_to(form.get("back"), LIST), f"Failed event {failed_id} is deleted")


ROUTES = [
    web.get(LIST, list_page),
    web.post(f"{LIST}/resend", resend_many),
    web.post(f"{LIST}/delete", delete_many),
    web.get(LIST + "/{id}", details_page),
    web.post(LIST + "/{id}/resend", resend_one),
    web.post(LIST + "/{id}/delete", delete_one),
]
