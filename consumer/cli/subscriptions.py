"""``hookstream subscriptions ...``: manage API-managed subscriptions from a shell, through the same
service layer as the admin API (admin/subscriptions.py), over the subscriptions topic."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from admin.subscriptions import NameTaken, ReadOnlySubscription, SubscriptionNotFound, SubscriptionService
from consumer.settings import load_settings
from consumer.subscription_feed import SubscriptionFeed
from router import SubscriptionError, load_catalog, load_subscriptions

__all__ = ["add_subscription_commands"]

Action = Callable[[SubscriptionService, argparse.Namespace], Awaitable[Any]]


def _body(path: Path) -> Any:
    """A subscription as JSON or YAML (one mapping), from a file or ``-`` for stdin."""
    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _json(value: Any) -> str:
    def default(obj: object) -> object:
        return obj.isoformat() if isinstance(obj, datetime) else str(obj)

    return json.dumps(value, indent=2, default=default)


async def _with_service(action: Action, args: argparse.Namespace) -> Any:
    settings = load_settings()
    catalog = load_catalog(settings.catalog)
    # The files are read for their names and to be shown, never delivered with here: their secrets
    # need not be at hand in the shell.
    files = load_subscriptions(
        settings.subscriptions, catalog, development=settings.development, resolve_secrets=False
    )
    feed = SubscriptionFeed(settings, catalog=lambda: catalog)
    await feed.start()
    try:
        return await action(feed.service(lambda: files), args)
    finally:
        await feed.close()


def _run(action: Action) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            result = asyncio.run(_with_service(action, args))
        except SubscriptionError as exc:
            for issue in exc.issues:
                # A body's issues have no line: the path alone, as the API's 422 answer will give it.
                text = f"{issue.path}: {issue.message}" if issue.path else issue.message
                print(text if issue.line is None else str(issue), file=sys.stderr)
            return 1
        except (NameTaken, ReadOnlySubscription) as exc:
            print(exc, file=sys.stderr)
            return 1
        except SubscriptionNotFound as exc:
            print(f"no subscription named {exc}", file=sys.stderr)
            return 1
        if result is not None:
            print(_json(result))
        return 0

    return run


async def _list(service: SubscriptionService, args: argparse.Namespace) -> Any:
    views = service.list(entity=args.entity, source=args.source, name_contains=args.name_contains)
    return [asdict(view) for view in views]


async def _get(service: SubscriptionService, args: argparse.Namespace) -> Any:
    return asdict(service.get(args.name))


async def _create(service: SubscriptionService, args: argparse.Namespace) -> Any:
    return asdict(await service.create(_body(args.file), actor=args.actor))


async def _replace(service: SubscriptionService, args: argparse.Namespace) -> Any:
    return asdict(await service.replace(args.name, _body(args.file), actor=args.actor))


async def _delete(service: SubscriptionService, args: argparse.Namespace) -> Any:
    await service.delete(args.name, actor=args.actor)


async def _suspend(service: SubscriptionService, args: argparse.Namespace) -> Any:
    return asdict(await service.suspend(args.name, actor=args.actor))


async def _resume(service: SubscriptionService, args: argparse.Namespace) -> Any:
    return asdict(await service.resume(args.name, actor=args.actor))


async def _validate(service: SubscriptionService, args: argparse.Namespace) -> Any:
    issues = service.validate(_body(args.file))
    if issues:
        raise SubscriptionError(issues)
    return {"valid": True}


async def _rotate(service: SubscriptionService, args: argparse.Namespace) -> Any:
    return {"rewritten": await service.rotate_secrets(actor=args.actor)}


def add_subscription_commands(sub: Any) -> None:
    parser = sub.add_parser("subscriptions", help="API-managed subscriptions (the subscriptions topic)")
    commands = parser.add_subparsers(dest="subscriptions_command", required=True)

    def command(name: str, action: Action, help_: str, *, name_arg: bool = False, file: bool = False) -> None:
        cmd = commands.add_parser(name, help=help_)
        if name_arg:
            cmd.add_argument("name")
        if file:
            cmd.add_argument("file", type=Path, help="the subscription as JSON or YAML; - for stdin")
        cmd.add_argument("--actor", default=getpass.getuser(), help="recorded as created/modified by")
        cmd.set_defaults(func=_run(action))

    command("list", _list, "every subscription, files and API")
    lister = commands.choices["list"]
    lister.add_argument("--entity")
    lister.add_argument("--source", choices=["file", "api"])
    lister.add_argument("--name-contains")
    command("get", _get, "one subscription (secrets masked)", name_arg=True)
    command("create", _create, "create an API-managed subscription", file=True)
    command("replace", _replace, "replace an API-managed subscription", name_arg=True, file=True)
    command("delete", _delete, "delete an API-managed subscription", name_arg=True)
    command("suspend", _suspend, "suspend a subscription (file or API)", name_arg=True)
    command("resume", _resume, "resume a suspended subscription", name_arg=True)
    command("validate", _validate, "check a subscription without saving it", file=True)
    command("rotate-secrets", _rotate, "encrypt stored secrets again with the newest key")
