"""Routing scenario: 10,000 subscriptions loaded from YAML, then the mean cost of routing one event.

Prints one JSON line: ``{"scenario": "routing", "subscriptions": .., "mean_us": .., "events": ..}``
plus how many subscriptions an event matched on average and how long loading took.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from router import Catalog, DomainEvent, Router, load_catalog, load_subscriptions

CATALOG_PATH = Path(__file__).resolve().parents[1] / "config" / "catalog.yaml"
PER_FILE = 1000
# A deployment with 10,000 subscriptions serves many tenants: most subscriptions filter on a brand.
BRANDS = [f"brand-{index:03d}" for index in range(500)]


def _ids(catalog: Catalog, component: str) -> list[Any]:
    return list(catalog.components[component].by_id())


def _trigger(rng: random.Random, catalog: Catalog, entity: str, used_channels: bool) -> dict[str, Any]:
    event_type = rng.choice(sorted(catalog.entities[entity].triggers))
    trigger: dict[str, Any] = {"event_type": event_type}
    if event_type == "OnNewActivity":
        activities = rng.sample(_ids(catalog, "activity_types"), rng.randint(1, 3))
        if 2 in activities and rng.random() < 0.5:
            trigger["statuses"] = rng.sample(_ids(catalog, "statuses"), rng.randint(1, 3))
        trigger["activity_types"] = activities
        if not used_channels and rng.random() < 0.5:
            trigger["channels"] = rng.sample(_ids(catalog, "channels"), rng.randint(1, 3))
    elif event_type == "OnMessageStatus":
        trigger["whatsapp_statuses"] = rng.sample(_ids(catalog, "whatsapp_statuses"), rng.randint(1, 2))
    return trigger


def generate(rng: random.Random, catalog: Catalog, count: int) -> list[dict[str, Any]]:
    """Subscriptions spread over every entity and trigger, with component filters like real ones."""
    entities = sorted(catalog.entities)
    weights = [6 if name == "Object" else 1 for name in entities]
    subs = []
    for index in range(count):
        entity = rng.choices(entities, weights)[0]
        triggers: list[dict[str, Any]] = []
        for _ in range(rng.randint(1, 2)):
            trigger = _trigger(rng, catalog, entity, any("channels" in t for t in triggers))
            if "statuses" in trigger and any("statuses" in t for t in triggers):
                del trigger["statuses"]
            triggers.append(trigger)
        if rng.random() < 0.99:
            brand = rng.choice(BRANDS)
            for trigger in triggers:
                trigger["brands"] = [brand]
        subs.append(
            {
                "name": f"sub-{index:05d}",
                "active": rng.random() > 0.05,
                "entity": entity,
                "triggers": triggers,
                "endpoint": {"url": f"https://receiver-{index % 500}.example.com/hooks/{index}"},
                "retry": {"attempts": rng.randint(0, 5), "interval": rng.choice(["30s", "5m", "1h"])},
            }
        )
    return subs


def events(rng: random.Random, catalog: Catalog, count: int) -> list[DomainEvent]:
    entities = sorted(catalog.entities)
    weights = [6 if name == "Object" else 1 for name in entities]
    out = []
    for index in range(count):
        entity = rng.choices(entities, weights)[0]
        event_type = rng.choice(sorted(catalog.entities[entity].triggers))
        out.append(
            DomainEvent(
                event_id=f"evt-{index}",
                event_time=datetime.now(UTC),
                entity=entity,
                event_type=event_type,
                entity_id=str(index),
                data={"id": index},
                brand=rng.choice(BRANDS),
                channel=rng.choice(_ids(catalog, "channels")),
                activity_type=rng.choice(_ids(catalog, "activity_types")),
                status_id=rng.choice(_ids(catalog, "statuses")),
                whatsapp_status=rng.choice(_ids(catalog, "whatsapp_statuses")),
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.routing")
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args([] if argv is None else argv)
    rng = random.Random(args.seed)
    catalog = load_catalog(CATALOG_PATH)
    generated = generate(rng, catalog, args.subscriptions)
    with tempfile.TemporaryDirectory(prefix="hookstream-routing-") as folder:
        for start in range(0, len(generated), PER_FILE):
            chunk = {"subscriptions": generated[start : start + PER_FILE]}
            (Path(folder) / f"subs-{start // PER_FILE:03d}.yaml").write_text(
                yaml.safe_dump(chunk, sort_keys=False), encoding="utf-8"
            )
        began = time.perf_counter()
        subscriptions = load_subscriptions(Path(folder), catalog)
        router = Router(subscriptions, catalog)
        load_s = time.perf_counter() - began

    batch = events(rng, catalog, 10_000)
    rounds = max(1, args.events // len(batch))
    for event in batch:  # warm up
        router.match(event)
    matched = sum(len(router.match(event)) for event in batch)
    match = router.match
    began_ns = time.perf_counter_ns()
    for _ in range(rounds):
        for event in batch:
            match(event)
    elapsed_ns = time.perf_counter_ns() - began_ns
    routed = rounds * len(batch)
    print(
        json.dumps(
            {
                "scenario": "routing",
                "subscriptions": len(subscriptions),
                "mean_us": round(elapsed_ns / routed / 1000, 3),
                "events": routed,
                "matches_per_event": round(matched / len(batch), 2),
                "load_s": round(load_s, 2),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
