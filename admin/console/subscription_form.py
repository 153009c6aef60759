"""The New and Edit subscription pages: one server-rendered form in four steps.

Details (name, entity, triggers and their components, complete data) → Webhook type (REST or SOAP,
URL, client certificate) → Authentication → Retries. The posted form becomes the subscription as a
subscriptions file would hold it, and the API's own ``create_subscription`` or ``replace_subscription``
checks it; a refusal comes back with each error next to its field.

Without JavaScript every step is visible and the form works: adding or removing a trigger and
changing the entity are round trips to the server that keep what was typed. The script
(``static/subscription_form.js``) shows one step at a time and greys out component values as the
user ticks them; the server renders the same greying on every round trip.

On edit, a saved secret is never put in the page: its field is empty ("saved — leave empty to
keep"), and an empty field is sent back as ``[redacted]``, which keeps the stored secret. What the
form does not show (headers, fields, signing secrets, log, description, timeout...) is taken from the
subscription as it is and kept.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web

from admin.api.problems import Issue, ProblemError, ValidationProblem
from admin.api.schemas import CatalogOut, EntityOut, SubscriptionOut, TriggerComponentOut
from admin.console.app import Page, page

__all__ = ["AUTH_TYPES", "ROUTES", "form_body"]

#: What a read shows in place of a saved secret; written back, it keeps that secret.
MASK = "[redacted]"

STEPS = (
    ("details", "Details"),
    ("webhook", "Webhook type"),
    ("auth", "Authentication"),
    ("retries", "Retries"),
)


@dataclass(frozen=True, slots=True)
class AuthField:
    name: str
    label: str
    secret: bool = False
    hint: str = ""
    placeholder: str = ""


AUTH_TYPES: dict[str, tuple[str, tuple[AuthField, ...]]] = {
    "none": ("None", ()),
    "basic": ("Basic", (AuthField("username", "User name"), AuthField("password", "Password", secret=True))),
    "bearer": (
        "OAuth 2.0 access token",
        (
            AuthField("token", "Access token", secret=True),
            AuthField("header", "Header", placeholder="Authorization", hint="Empty: Authorization"),
            AuthField("header_prefix", "Header prefix", placeholder="Bearer", hint="Empty: Bearer"),
        ),
    ),
    "oauth2_client_credentials": (
        "OAuth 2.0 client credentials",
        (
            AuthField("token_url", "Token URL", placeholder="https://auth.example.com/oauth/token"),
            AuthField("scope", "Scope", hint="Optional; several separated by spaces"),
            AuthField("client_id", "Client ID"),
            AuthField("client_secret", "Client secret", secret=True),
        ),
    ),
    "oauth2_password": (
        "OAuth 2.0 password credentials",
        (
            AuthField("token_url", "Token URL", placeholder="https://auth.example.com/oauth/token"),
            AuthField("scope", "Scope", hint="Optional; several separated by spaces"),
            AuthField("client_id", "Client ID"),
            AuthField("client_secret", "Client secret", secret=True),
            AuthField("username", "User name"),
            AuthField("password", "Password", secret=True),
        ),
    ),
    "api_key": (
        "API key",
        (
            AuthField("header", "Header name", placeholder="X-Api-Key"),
            AuthField("key", "API key", secret=True),
        ),
    ),
}
_SOAP_KEYS = ("wsdl", "operation", "service", "port")
_TLS_KEYS = ("client_cert", "client_key")
_KEY_PASSWORD = "endpoint.tls.client_key_password"  # noqa: S105 (an input name, not a secret)
_COMPONENT_LABELS = {
    "activity_types": "Activity types",
    "statuses": "Status changes",
    "channels": "Channels",
    "whatsapp_statuses": "WhatsApp statuses",
    "brands": "Brands",
}
MAX_TRIGGERS = 20
_SECRET_INPUTS = frozenset(
    {_KEY_PASSWORD}
    | {f"auth.{kind}.{f.name}" for kind, (_label, fields) in AUTH_TYPES.items() for f in fields if f.secret}
)


# --- the form's state -------------------------------------------------------------------------------


@dataclass
class Slot:
    """One trigger block: its event type and, per event type's panel, the values ticked (as ids)."""

    event_type: str = ""
    chosen: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def values(self, event_type: str, component: str) -> list[str]:
        return self.chosen.get(event_type, {}).get(component, [])


@dataclass
class FormState:
    """What the form shows: typed values by input name, the trigger blocks, and what is saved."""

    values: dict[str, str] = field(default_factory=dict)
    slots: list[Slot] = field(default_factory=list)
    #: secret inputs whose value is saved (input name -> the stored value as a read shows it)
    saved: dict[str, str] = field(default_factory=dict)
    #: secret inputs typed in but not saved, which a page shown again asks for again
    retype: set[str] = field(default_factory=set)
    #: the time between retries (not changed here)
    interval: str = "5m"

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


def _first(posted: Mapping[str, list[str]], name: str) -> str:
    found = posted.get(name)
    return found[0].strip() if found else ""


def _components(entity: EntityOut | None) -> dict[str, dict[str, TriggerComponentOut]]:
    """event type -> component name -> its description in the catalog."""
    if entity is None:
        return {}
    return {t.name: {c.name: c for c in t.components} for t in entity.triggers}


def _entity(catalog: CatalogOut, name: str) -> EntityOut | None:
    return next((e for e in catalog.entities if e.name == name), None)


def _ids(component: TriggerComponentOut, written: Any) -> list[str]:
    """The checkbox values (ids as text) for a component's values as written (ids or names)."""
    if not isinstance(written, list | tuple):
        return []
    if component.values is None:
        return [str(v) for v in written]
    by_key: dict[str, str] = {}
    for value in component.values:
        by_key[str(value.id).casefold()] = str(value.id)
        by_key[value.name.casefold()] = str(value.id)
    return [by_key.get(str(v).casefold(), str(v)) for v in written]


def state_of_config(config: Mapping[str, Any], catalog: CatalogOut) -> FormState:
    """The form filled in from a subscription as a read shows it (secrets masked)."""
    state = FormState()
    values = state.values
    values["name"] = str(config.get("name", ""))
    values["entity"] = str(config.get("entity", ""))
    if config.get("include_complete_data") is True:
        values["include_complete_data"] = "on"
    usage = _components(_entity(catalog, values["entity"]))
    triggers = config.get("triggers")
    for raw in triggers if isinstance(triggers, list) else []:
        if not isinstance(raw, Mapping):
            continue
        slot = Slot(event_type=str(raw.get("event_type", "")))
        for name, written in raw.items():
            component = usage.get(slot.event_type, {}).get(name)
            if component is not None:
                slot.chosen.setdefault(slot.event_type, {})[name] = _ids(component, written)
        state.slots.append(slot)
    endpoint = config.get("endpoint")
    endpoint = endpoint if isinstance(endpoint, Mapping) else {}
    values["endpoint.type"] = "soap" if endpoint.get("type") == "soap" else "rest"
    for key in ("url", *_SOAP_KEYS):
        if isinstance(endpoint.get(key), str):
            values[f"endpoint.{key}"] = endpoint[key]
    parameters = endpoint.get("parameters")
    if isinstance(parameters, Mapping):
        values["endpoint.parameters"] = "\n".join(f"{k} = {v}" for k, v in parameters.items())
    tls = endpoint.get("tls")
    if isinstance(tls, Mapping):
        for key in _TLS_KEYS:
            if isinstance(tls.get(key), str):
                values[f"endpoint.tls.{key}"] = tls[key]
        if isinstance(tls.get("client_key_password"), str):
            state.saved[_KEY_PASSWORD] = tls["client_key_password"]
    auth = config.get("auth")
    auth = auth if isinstance(auth, Mapping) else {}
    kind = str(auth.get("type", "none"))
    values["auth.type"] = kind if kind in AUTH_TYPES else "none"
    for auth_field in AUTH_TYPES.get(kind, ("", ()))[1]:
        value = auth.get(auth_field.name)
        if not isinstance(value, str):
            continue
        if auth_field.secret:
            state.saved[f"auth.{kind}.{auth_field.name}"] = value
        else:
            values[f"auth.{kind}.{auth_field.name}"] = value
    retry = config.get("retry")
    retry = retry if isinstance(retry, Mapping) else {}
    values["retry.attempts"] = str(retry.get("attempts", 3))
    state.interval = str(retry.get("interval", "5m"))
    return state


def state_of_post(
    posted: Mapping[str, list[str]], catalog: CatalogOut, saved: Mapping[str, str] | None = None
) -> FormState:
    """The form as posted (secrets typed in are kept only to be sent, never shown again)."""
    state = FormState(saved=dict(saved or {}))
    for name, found in posted.items():
        if found and (name in ("name", "entity") or name.startswith(("endpoint.", "auth.", "retry."))):
            state.values[name] = found[0] if name in _SECRET_INPUTS else found[0].strip()
    if _first(posted, "include_complete_data"):
        state.values["include_complete_data"] = "on"
    state.values.setdefault("endpoint.type", "rest")
    state.values.setdefault("auth.type", "none")
    state.values.setdefault("retry.attempts", "3")
    usage = _components(_entity(catalog, state.get("entity")))
    try:
        count = min(int(_first(posted, "trigger_count") or "1"), MAX_TRIGGERS)
    except ValueError:
        count = 1
    for index in range(max(count, 0)):
        slot = Slot(event_type=_first(posted, f"t{index}.event_type"))
        for event_type, components in usage.items():
            for name, component in components.items():
                raw = posted.get(f"t{index}.{event_type}.{name}", [])
                if component.values is None:
                    listed = [part.strip() for text in raw for part in text.split(",") if part.strip()]
                else:
                    listed = [value for value in raw if value]
                if listed:
                    slot.chosen.setdefault(event_type, {})[name] = listed
        state.slots.append(slot)
    return state


# --- the subscription the form stands for ------------------------------------------------------------


def _component_body(component: TriggerComponentOut, ids: Sequence[str]) -> list[Any]:
    """Ticked ids -> the values' names, as a person would write them in a file."""
    if component.values is None:
        return list(ids)
    names = {str(value.id): value.name for value in component.values}
    return [names.get(ident, ident) for ident in ids]


def _set_or_drop(target: dict[str, Any], key: str, value: str) -> None:
    if value:
        target[key] = value
    else:
        target.pop(key, None)


def _parameters(text: str) -> dict[str, str] | str:
    """``name = data.path`` lines; the text itself when a line is not one (the API says what is wrong)."""
    parameters: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, path = line.partition("=")
        if not sep or not name.strip():
            return text
        parameters[name.strip()] = path.strip()
    return parameters


@dataclass(frozen=True, slots=True)
class Body:
    """The subscription to send, and which form block each of its triggers came from."""

    data: dict[str, Any]
    slot_of_trigger: list[int]


def form_body(state: FormState, catalog: CatalogOut, current: Mapping[str, Any] | None = None) -> Body:
    """The subscription the form stands for: ``current`` (on edit, as a read shows it) with what the
    form shows replaced, so what the form does not show is kept."""
    body: dict[str, Any] = copy.deepcopy(dict(current or {}))
    _set_or_drop(body, "name", state.get("name"))
    _set_or_drop(body, "entity", state.get("entity"))
    if state.get("include_complete_data"):
        body["include_complete_data"] = True
    else:
        body.pop("include_complete_data", None)
    usage = _components(_entity(catalog, state.get("entity")))
    triggers: list[dict[str, Any]] = []
    slot_of_trigger: list[int] = []
    for index, slot in enumerate(state.slots):
        if not slot.event_type and not any(slot.chosen.values()):
            continue  # an empty block
        trigger: dict[str, Any] = {"event_type": slot.event_type}
        for name, component in usage.get(slot.event_type, {}).items():
            ids = slot.values(slot.event_type, name)
            if ids:
                trigger[name] = _component_body(component, ids)
        triggers.append(trigger)
        slot_of_trigger.append(index)
    body["triggers"] = triggers

    endpoint = body.get("endpoint")
    endpoint = dict(endpoint) if isinstance(endpoint, Mapping) else {}
    kind = "soap" if state.get("endpoint.type") == "soap" else "rest"
    endpoint["type"] = kind
    _set_or_drop(endpoint, "url", state.get("endpoint.url"))
    if kind == "soap":
        for key in _SOAP_KEYS:
            _set_or_drop(endpoint, key, state.get(f"endpoint.{key}"))
        text = state.get("endpoint.parameters")
        if text.strip():
            endpoint["parameters"] = _parameters(text)
        else:
            endpoint.pop("parameters", None)
    else:
        for key in (*_SOAP_KEYS, "parameters"):
            endpoint.pop(key, None)
    tls = endpoint.get("tls")
    tls = dict(tls) if isinstance(tls, Mapping) else {}
    for key in _TLS_KEYS:
        _set_or_drop(tls, key, state.get(f"endpoint.tls.{key}"))
    _set_or_drop(tls, "client_key_password", _secret(state, _KEY_PASSWORD))
    if tls:
        endpoint["tls"] = tls
    else:
        endpoint.pop("tls", None)
    body["endpoint"] = endpoint

    auth_kind = state.get("auth.type") or "none"
    previous = body.get("auth")
    same = isinstance(previous, Mapping) and previous.get("type") == auth_kind
    auth: dict[str, Any] = dict(previous) if same and isinstance(previous, Mapping) else {}
    auth["type"] = auth_kind
    for auth_field in AUTH_TYPES.get(auth_kind, ("", ()))[1]:
        key = f"auth.{auth_kind}.{auth_field.name}"
        _set_or_drop(auth, auth_field.name, _secret(state, key) if auth_field.secret else state.get(key))
    body["auth"] = auth

    retry = body.get("retry")
    retry = dict(retry) if isinstance(retry, Mapping) else {}
    attempts = state.get("retry.attempts", "3")
    retry["attempts"] = int(attempts) if attempts.isdigit() else attempts
    body["retry"] = retry
    return Body(body, slot_of_trigger)


def _secret(state: FormState, name: str) -> str:
    """A secret as typed; left empty, the saved one (``[redacted]``, or its reference as written)."""
    return state.get(name) or state.saved.get(name, "")


# --- errors by their field ------------------------------------------------------------------------

_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[(\"(?:[^\"\\]|\\.)*\")\]")


def _parts(path: str) -> list[int | str] | None:
    """``$.triggers[1].statuses[0]`` -> ``["triggers", 1, "statuses", 0]``."""
    if not path.startswith("$"):
        return None
    parts: list[int | str] = []
    at = 1
    while at < len(path):
        found = _PART.match(path, at)
        if found is None:
            return None
        key, index, quoted = found.groups()
        parts.append(key if key is not None else int(index) if index is not None else quoted[1:-1])
        at = found.end()
    return parts


def _field_of(parts: list[int | str], state: FormState, body: Body, fields: Mapping[str, str]) -> str | None:
    """The form input an error at ``parts`` (a path in the body) belongs to, if the form shows it."""
    if not parts:
        return None
    if parts[0] == "triggers":
        if len(parts) == 1:
            return "triggers"
        index = parts[1]
        if not isinstance(index, int) or index >= len(body.slot_of_trigger):
            return "triggers"
        slot = body.slot_of_trigger[index]
        if len(parts) >= 3 and isinstance(parts[2], str):
            if parts[2] == "event_type":
                return f"t{slot}.event_type"
            candidate = f"t{slot}.{state.slots[slot].event_type}.{parts[2]}"
            if candidate in fields:
                return candidate
        return f"t{slot}.event_type"
    if parts[0] == "auth":
        kind = state.get("auth.type")
        if len(parts) >= 2 and f"auth.{kind}.{parts[1]}" in fields:
            return f"auth.{kind}.{parts[1]}"
        return "auth.type" if len(parts) <= 2 else None
    if parts[0] == "endpoint" and len(parts) >= 2 and parts[1] == "parameters":
        return "endpoint.parameters"
    for length in range(len(parts), 0, -1):
        candidate = ".".join(str(part) for part in parts[:length])
        if candidate in fields:
            return candidate
    return None


@dataclass
class Errors:
    """The server's refusals: by field (input name) and all of them in order, for the summary."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str, str | None]] = field(default_factory=list)

    def add(self, message: str, at: str | None) -> None:
        if at is not None:
            self.by_field.setdefault(at, []).append(message)
        self.summary.append((message, at))


def _label_of(path: str) -> str:
    return path.removeprefix("$.") if path.startswith("$.") else path


_TRIGGER_REF = re.compile(r"triggers\[(\d+)\]")


def _trigger_numbers(message: str, body: Body) -> str:
    """``already in triggers[0]`` -> ``already in trigger 1``: the form numbers its blocks from 1."""

    def number(found: re.Match[str]) -> str:
        index = int(found.group(1))
        slots = body.slot_of_trigger
        return f"trigger {(slots[index] if index < len(slots) else index) + 1}"

    return _TRIGGER_REF.sub(number, message)


def errors_of(issues: Sequence[Issue], state: FormState, body: Body, fields: Mapping[str, str]) -> Errors:
    errors = Errors()
    for issue in issues:
        parts = _parts(issue.path) if issue.location == "body" else None
        at = _field_of(parts, state, body, fields) if parts is not None else None
        message = _trigger_numbers(issue.message, body)
        if at is None and issue.path not in ("$", ""):
            message = f"{_label_of(issue.path)}: {message}"
        errors.add(message, at)
    return errors


# --- what the template shows ---------------------------------------------------------------------


def field_id(name: str) -> str:
    return "f-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name)


def _component_label(name: str) -> str:
    return _COMPONENT_LABELS.get(name, name.replace("_", " ").capitalize())


def _refines_hint(component: TriggerComponentOut, usage: Mapping[str, TriggerComponentOut]) -> str:
    if not component.refines:
        return ""
    said = []
    for parent, values in component.refines.items():
        parent_def = usage.get(parent)
        names = {str(v.id): v.name for v in (parent_def.values or [])} if parent_def else {}
        listed = ", ".join(names.get(str(v), str(v)) for v in values)
        said.append(f"{_component_label(parent).lower()} {listed}")
    return "Only with " + " and ".join(said) + " ticked."


def trigger_views(state: FormState, entity: EntityOut | None) -> list[dict[str, Any]]:
    """Each trigger block with, per event type of the entity, its components and their choices: which
    are ticked, which are greyed out because another trigger chose them, which are set on the first
    trigger only."""
    usage = _components(entity)
    views = []
    for index, slot in enumerate(state.slots):
        panels = []
        for event_type, components in usage.items():
            groups = []
            for name, component in components.items():
                key = f"t{index}.{event_type}.{name}"
                ticked = slot.values(event_type, name)
                locked_by = None
                if component.once_per_subscription and not ticked:
                    locked_by = next(
                        (j for j, other in enumerate(state.slots[:index]) if other.event_type == event_type),
                        None,
                    )
                taken: dict[str, int] = {}
                if component.unique_across_triggers:
                    for j, other in enumerate(state.slots):
                        if j != index and other.event_type == event_type:
                            for value in other.values(event_type, name):
                                taken.setdefault(value, j)
                options = [
                    {
                        "id": str(value.id),
                        "name": value.name,
                        "checked": str(value.id) in ticked,
                        "taken_by": None if str(value.id) in ticked else taken.get(str(value.id)),
                    }
                    for value in component.values or []
                ]
                groups.append(
                    {
                        "key": key,
                        "name": name,
                        "label": _component_label(name),
                        "description": component.description,
                        "free_text": component.values is None,
                        "text": ", ".join(ticked),
                        "options": options,
                        "unique": component.unique_across_triggers,
                        "once": component.once_per_subscription,
                        "locked_by": locked_by,
                        "refines": _refines_hint(component, components),
                    }
                )
            groups.sort(key=lambda group: bool(group["free_text"]))  # brands after the choices
            panels.append({"event_type": event_type, "groups": groups})
        views.append({"index": index, "event_type": slot.event_type, "panels": panels})
    return views


_LABELS = {
    "name": "Name",
    "entity": "Entity",
    "include_complete_data": "Complete data",
    "triggers": "Triggers",
    "endpoint.type": "Webhook type",
    "endpoint.url": "URL",
    "endpoint.wsdl": "WSDL",
    "endpoint.operation": "Operation",
    "endpoint.service": "Service",
    "endpoint.port": "Port",
    "endpoint.parameters": "Message parameters",
    "endpoint.tls.client_cert": "Client certificate",
    "endpoint.tls.client_key": "Client key",
    _KEY_PASSWORD: "Client key password",
    "auth.type": "Authentication",
    "retry.attempts": "Retries",
}


def shown_fields(state: FormState, entity: EntityOut | None) -> dict[str, str]:
    """The inputs the form shows, which errors can be put next to, and what each is called."""
    labels = dict(_LABELS)
    for kind, (_label, auth_fields) in AUTH_TYPES.items():
        labels |= {f"auth.{kind}.{f.name}": f.label for f in auth_fields}
    usage = _components(entity)
    for index in range(len(state.slots)):
        labels[f"t{index}.event_type"] = f"Trigger {index + 1}"
        for event_type, components in usage.items():
            labels |= {
                f"t{index}.{event_type}.{name}": f"Trigger {index + 1}, {_component_label(name).lower()}"
                for name in components
            }
    return labels


_STEP_OF_PREFIX = (("endpoint.", 1), ("auth.", 2), ("retry.", 3))


def _step_of(name: str) -> int:
    return next((step for prefix, step in _STEP_OF_PREFIX if name.startswith(prefix)), 0)


def _render(
    view: Page,
    *,
    catalog: CatalogOut,
    state: FormState,
    editing: str | None,
    errors: Errors | None = None,
    open_step: int = 0,
    focus: str | None = None,
    status: int = 200,
) -> web.StreamResponse:
    entity = _entity(catalog, state.get("entity"))
    errors = errors or Errors()
    errors.summary.sort(key=lambda said: 0 if said[1] is None else _step_of(said[1]) + 1)  # page order
    fielded = [at for _message, at in errors.summary if at is not None]
    if fielded:
        open_step = min(_step_of(at) for at in fielded)
    title = f"Edit {editing}" if editing else "New subscription"
    return view.render(
        "subscription_form.html",
        status=status,
        title=title,
        heading=title,
        editing=editing,
        action=f"/subscriptions/{quote(editing, safe='')}/edit" if editing else "/subscriptions/new",
        catalog=catalog,
        entity=entity,
        state=state,
        triggers=trigger_views(state, entity),
        auth_types=AUTH_TYPES,
        steps=STEPS,
        errors=errors,
        labels=shown_fields(state, entity),
        step_errors={_step_of(at) for at in fielded},
        interval_words=_interval_words(state.interval),
        field_id=field_id,
        open_step=open_step,
        focus=focus,
    )


def _interval_words(interval: str) -> str:
    """``5m`` -> ``5 minutes``; other ways of writing it are shown as written."""
    found = re.fullmatch(r"(\d+)(s|m|h)", interval.strip())
    if not found:
        return interval
    count, unit = int(found.group(1)), {"s": "second", "m": "minute", "h": "hour"}[found.group(2)]
    return f"{count} {unit}" + ("" if count == 1 else "s")


# --- the pages -------------------------------------------------------------------------------------


async def _catalog(view: Page) -> CatalogOut:
    return await view.call(CatalogOut, "get_catalog")


def _apply_action(action: str, state: FormState, catalog: CatalogOut) -> tuple[int, str | None]:
    """A round trip that changes the form, not the subscription: (step to open, input to focus)."""
    if action == "add_trigger":
        if len(state.slots) < MAX_TRIGGERS:
            state.slots.append(Slot())
        return 0, f"t{len(state.slots) - 1}.event_type"
    if action.startswith("remove_trigger:"):
        index = action.partition(":")[2]
        if index.isdigit() and int(index) < len(state.slots):
            del state.slots[int(index)]
        if not state.slots:
            state.slots.append(Slot())
        return 0, "add-trigger"
    if action == "entity":
        known = _components(_entity(catalog, state.get("entity")))
        for slot in state.slots:
            if slot.event_type not in known:
                slot.event_type = ""
            slot.chosen = {k: v for k, v in slot.chosen.items() if k in known}
        return 0, "entity"
    return 0, None


async def _submit(view: Page, *, editing: str | None) -> web.StreamResponse:
    posted = await view.form_lists()
    catalog = await _catalog(view)
    current: dict[str, Any] | None = None
    saved: dict[str, str] = {}
    interval = "5m"
    if editing is not None:
        item = await view.call(SubscriptionOut, "get_subscription", path={"name": editing})
        _refuse_file(item)
        current = dict(item.config)
        stored = state_of_config(current, catalog)
        saved, interval = stored.saved, stored.interval
    state = state_of_post(posted, catalog, saved)
    state.interval = interval
    if editing is not None:
        state.values["name"] = editing
    action = _first(posted, "action") or "save"
    if action != "save":
        step, focus = _apply_action(action, state, catalog)
        _forget_typed_secrets(state)
        return _render(view, catalog=catalog, state=state, editing=editing, open_step=step, focus=focus)
    body = form_body(state, catalog, current)
    try:
        if editing is None:
            await view.call(SubscriptionOut, "create_subscription", body=body.data)
        else:
            await view.call(SubscriptionOut, "replace_subscription", path={"name": editing}, body=body.data)
    except ProblemError as exc:
        problem = exc.problem
        errors = Errors()
        if isinstance(problem, ValidationProblem) and problem.status == 422:
            entity = _entity(catalog, state.get("entity"))
            errors = errors_of(problem.errors, state, body, shown_fields(state, entity))
        elif problem.status == 409 and editing is None:
            errors.add(problem.detail or "this name is taken", "name")
        else:
            raise
        _forget_typed_secrets(state)
        return _render(view, catalog=catalog, state=state, editing=editing, errors=errors, status=422)
    name = editing or state.get("name")
    said = f"{name} is saved" if editing else f"{name} is created: it delivers within a second"
    return view.redirect(f"/subscriptions/{quote(name, safe='')}", said)


def _forget_typed_secrets(state: FormState) -> None:
    """A page shown again never holds a secret: the ones typed in are asked for again."""
    for name in _SECRET_INPUTS:
        if state.values.pop(name, ""):
            state.retype.add(name)


def _refuse_file(item: SubscriptionOut) -> None:
    if item.source == "file":
        raise ProblemError(
            409,
            f"{item.name} comes from a subscriptions file, so it is changed there, in Git, and not "
            "here. The console edits the subscriptions created in it or through the API.",
        )


@page("admin")
async def new_page(view: Page) -> web.StreamResponse:
    catalog = await _catalog(view)
    first = catalog.entities[0].name if catalog.entities else ""
    state = FormState(
        values={"entity": first, "endpoint.type": "rest", "auth.type": "none", "retry.attempts": "3"},
        slots=[Slot()],
    )
    return _render(view, catalog=catalog, state=state, editing=None)


@page("admin")
async def create(view: Page) -> web.StreamResponse:
    return await _submit(view, editing=None)


@page("admin")
async def edit_page(view: Page) -> web.StreamResponse:
    name = view.request.match_info["name"]
    item = await view.call(SubscriptionOut, "get_subscription", path={"name": name})
    _refuse_file(item)
    catalog = await _catalog(view)
    state = state_of_config(item.config, catalog)
    state.values["name"] = item.name
    if not state.slots:
        state.slots.append(Slot())
    return _render(view, catalog=catalog, state=state, editing=item.name)


@page("admin")
async def update(view: Page) -> web.StreamResponse:
    return await _submit(view, editing=view.request.match_info["name"])


# Before subscriptions.ROUTES: /subscriptions/new is this page, not the details of one named "new".
ROUTES = [
    web.get("/subscriptions/new", new_page),
    web.post("/subscriptions/new", create),
    web.get("/subscriptions/{name}/edit", edit_page),
    web.post("/subscriptions/{name}/edit", update),
]
