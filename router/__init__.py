"""hookstream: router room — subscriptions, the event catalog, matching and payload shaping.

Pure logic: no Kafka, no HTTP. The consumer loads subscriptions (or watches
them with :class:`router.reload.SubscriptionSource`), routes each decoded
:class:`DomainEvent` with :meth:`Router.match` and shapes the body with
:func:`shape_body`.
"""

from router.catalog import Catalog, load_catalog
from router.errors import CatalogError, ConfigIssue, RouterError, SubscriptionError
from router.event import DomainEvent
from router.index import Router
from router.loader import load_subscriptions
from router.model import RetryPolicy, Subscription, Trigger
from router.shaping import shape_body

__all__ = [
    "Catalog",
    "CatalogError",
    "ConfigIssue",
    "DomainEvent",
    "RetryPolicy",
    "Router",
    "RouterError",
    "Subscription",
    "SubscriptionError",
    "Trigger",
    "load_catalog",
    "load_subscriptions",
    "shape_body",
]
