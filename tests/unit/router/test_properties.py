"""Property tests: the index equals the reference predicate, which equals the semantics written out;
shaping only ever removes data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from router import Catalog, DomainEvent, Router, Subscription, load_catalog, shape_body
from router.matching import compile_subscription
from router.shaping import pick_fields
from tests.unit.router.conftest import CATALOG_PATH
from tests.unit.router.helpers import subscription

CATALOG = load_catalog(CATALOG_PATH)
# Few values, so that generated events often meet generated triggers.
ACTIVITIES = [1, 2, 3]
STATUSES = [1, 2, 15]
CHANNELS = [4, 7, 16]
WHATSAPP = ["read", "failed"]
# Object has the richest triggers: draw it most often.
ENTITIES = ["Object"] * 6 + sorted(CATALOG.entities)
STATUS_CHANGE = 2


def matches(subscription: Subscription, event: DomainEvent, catalog: Catalog) -> bool:
    """The reference the router's index must equal: an active subscription and any clause that accepts."""
    return subscription.active and any(
        clause.accepts(event, catalog) for clause in compile_subscription(subscription, catalog)
    )


def _values(draw: st.DrawFn, choices: list[Any]) -> list[Any] | None:
    # Names or ids, as users may write either.
    component_names = {
        id(ACTIVITIES): CATALOG.components["activity_types"],
        id(STATUSES): CATALOG.components["statuses"],
        id(CHANNELS): CATALOG.components["channels"],
    }
    if not draw(st.booleans()):
        return None
    picked = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=4, unique=True))
    named = component_names.get(id(choices))
    if named is not None and draw(st.booleans()):
        return [named.name_of(value) for value in picked]
    return picked


@st.composite
def subscriptions(draw: st.DrawFn, name: str) -> Subscription:
    entity_name = draw(st.sampled_from(ENTITIES))
    trigger_names = sorted(CATALOG.entities[entity_name].triggers)
    if entity_name == "Object":  # the trigger with components, most often
        trigger_names += ["OnNewActivity"] * 4
    triggers: list[dict[str, Any]] = []
    channels_set = False
    used_statuses: set[Any] = set()
    for _ in range(draw(st.integers(1, 4))):
        trigger: dict[str, Any] = {"event_type": draw(st.sampled_from(trigger_names))}
        if trigger["event_type"] == "OnNewActivity":
            activity_types = _values(draw, ACTIVITIES)
            statuses = _values(draw, STATUSES)
            statuses = [
                s for s in statuses or [] if CATALOG.components["statuses"].resolve(s) not in used_statuses
            ]
            if statuses:
                used_statuses.update(CATALOG.components["statuses"].resolve(s) for s in statuses)
                trigger["statuses"] = statuses
                if activity_types is not None and "StatusChange" not in activity_types:
                    activity_types = [*activity_types, STATUS_CHANGE]
            if activity_types is not None:
                trigger["activity_types"] = activity_types
            channels = None if channels_set else _values(draw, CHANNELS)
            if channels is not None:
                trigger["channels"] = channels
                channels_set = True
        elif trigger["event_type"] == "OnMessageStatus":
            if (statuses := _values(draw, WHATSAPP)) is not None:
                trigger["whatsapp_statuses"] = statuses
            if (channels := _values(draw, ["WhatsApp", 16])) is not None:
                trigger["channels"] = channels
        triggers.append(trigger)
    return subscription(name, entity_name, *triggers, active=draw(st.booleans()))


@st.composite
def subscription_sets(draw: st.DrawFn) -> list[Subscription]:
    count = draw(st.integers(0, 10))
    return [draw(subscriptions(f"sub-{index}")) for index in range(count)]


@st.composite
def events(draw: st.DrawFn) -> DomainEvent:
    entity = draw(st.sampled_from([*ENTITIES, "Invoice"]))
    known = sorted(CATALOG.entities[entity].triggers) if entity in CATALOG.entities else ["OnNew"]
    if entity == "Object":
        known += ["OnNewActivity"] * 4
    return DomainEvent(
        event_id="e",
        event_time=datetime(2026, 1, 1, tzinfo=UTC),
        entity=entity,
        event_type=draw(st.sampled_from([*known, "OnSomethingElse"])),
        entity_id="1",
        data={},
        # Status changes most often: they exercise the refining statuses.
        activity_type=draw(st.sampled_from([None, *ACTIVITIES, STATUS_CHANGE, STATUS_CHANGE])),
        status_id=draw(st.sampled_from([None, *STATUSES])),
        channel=draw(st.sampled_from([None, *CHANNELS])),
        whatsapp_status=draw(st.sampled_from([None, *WHATSAPP])),
    )


def _ids(catalog: Catalog, component: str, values: Any) -> set[Any] | None:
    if values is None:
        return None
    return {catalog.components[component].resolve(value) for value in values}


def semantics(sub: Subscription, event: DomainEvent) -> bool:
    """The matching rules of the shipped catalog, written out by hand."""
    if not sub.active or sub.entity != event.entity:
        return False
    shared_channels = next(
        (t.channels for t in sub.triggers if t.event_type == "OnNewActivity" and t.channels is not None), None
    )
    for trigger in sub.triggers:
        if trigger.event_type != event.event_type:
            continue
        activities = _ids(CATALOG, "activity_types", trigger.activity_types)
        statuses = _ids(CATALOG, "statuses", trigger.statuses)
        channels = _ids(
            CATALOG,
            "channels",
            shared_channels if trigger.event_type == "OnNewActivity" else trigger.channels,
        )
        whatsapp = _ids(CATALOG, "whatsapp_statuses", trigger.whatsapp_statuses)
        if activities is None and statuses is not None:
            activities = {STATUS_CHANGE}
        if activities is not None and event.activity_type not in activities:
            continue
        if statuses is not None and event.activity_type == STATUS_CHANGE and event.status_id not in statuses:
            continue
        if channels is not None and event.channel not in channels:
            continue
        if whatsapp is not None and event.whatsapp_status not in whatsapp:
            continue
        return True
    return False


@settings(max_examples=300, deadline=None)
@given(subscription_sets(), st.lists(events(), min_size=1, max_size=8))
def test_the_index_routes_exactly_like_the_semantics(
    subs: list[Subscription], batch: list[DomainEvent]
) -> None:
    router = Router(subs, CATALOG)
    for event in batch:
        expected = [sub for sub in subs if semantics(sub, event)]
        assert [sub for sub in subs if matches(sub, event, CATALOG)] == expected
        assert list(router.match(event)) == expected


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
keys = st.sampled_from(["id", "name", "customer", "items", "sku", "email", "x"])
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=4),
    max_leaves=15,
)
documents = st.dictionaries(keys, json_values, max_size=5)
paths = st.lists(st.lists(keys, min_size=1, max_size=3).map(".".join), max_size=5)


def is_sub_document(part: Any, whole: Any) -> bool:
    """Every key of ``part`` is in ``whole`` with a value that is, again, a part of it."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(
            k in whole and is_sub_document(v, whole[k]) for k, v in part.items()
        )
    if isinstance(part, list) and isinstance(whole, list) and part != whole:
        objects = [item for item in whole if isinstance(item, dict | list)]
        return len(part) == len(objects) and all(map(is_sub_document, part, objects))
    return bool(part == whole)


def lookup(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return KeyError
        data = data[part]
    return data


@settings(max_examples=300, deadline=None)
@given(documents, paths)
def test_picked_fields_are_part_of_the_data_and_keep_every_path_found(
    data: dict[str, Any], picked: list[str]
) -> None:
    result = pick_fields(data, picked)
    assert is_sub_document(result, data)
    assert pick_fields(result, picked) == result
    for path in picked:
        value = lookup(data, path)
        if value is not KeyError and not any(
            other != path and path.startswith(other + ".") for other in picked
        ):
            assert lookup(result, path) == value


@settings(max_examples=200, deadline=None)
@given(
    documents,
    st.sampled_from(sorted(CATALOG.entities)),
    # Naive or UTC: two strategies, because hypothesis's stubs have no overload for bounds together
    # with a timezone strategy that may give None.
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
    | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(["trimmed", "complete", "fields"]),
    paths,
)
def test_the_body_has_the_design_fields_and_never_invents_data(
    data: dict[str, Any], entity: str, moment: datetime, mode: str, picked: list[str]
) -> None:
    sub = subscription(
        "shape",
        entity,
        {"event_type": sorted(CATALOG.entities[entity].triggers)[0]},
        include_complete_data=mode == "complete",
        fields=picked if mode == "fields" else [],
    )
    event = DomainEvent("e-1", moment, entity, "OnX", "id-1", data, current_context={"user": 1})
    body = shape_body(event, sub, CATALOG)
    assert list(body) == [
        "event_id",
        "event_time",
        "event_type",
        "entity",
        "entity_id",
        "current_context",
        "data",
    ]
    stamp = body["event_time"]
    assert stamp.endswith("Z")
    assert len(stamp) == len("2026-11-23T10:00:00.123Z")
    parsed = datetime.fromisoformat(stamp)
    expected = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    assert timedelta(0) <= expected - parsed < timedelta(milliseconds=1)
    if mode == "complete":
        assert body["data"] == data
    else:
        assert is_sub_document(body["data"], data)
        if mode == "trimmed":
            allowed = {path.split(".")[0] for path in CATALOG.entities[entity].data_fields}
            assert set(body["data"]) <= allowed
