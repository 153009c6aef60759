"""The web console in a real Chromium (Debian's, driven by Playwright) against a live hookstream.

One ``hookstream run`` (role ``all``: deliveries and the console in one process) per test module,
on the session's Kafka broker, with a SQLite store, a receiver on loopback and a token per role.
Every test signs in through the sign-in page, as a person would.

``screenshot`` saves a page's picture in the test's folder; with ``HOOKSTREAM_SCREENSHOTS=<folder>``
(``make screenshots``) the light-theme pictures the README shows are written there too.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

from admin.actor import ROLE_RANK, Role
from admin.api import hash_token
from admin.secrets import generate_key
from store import FailedEventRecord, Store
from tests.integration.test_pipeline import subscription
from tests.support.kafka import unique_prefix
from tests.support.receiver import Receiver
from tests.support.service import ServiceProcess, write_subscriptions
from tests.support.store_bulk import run_apart

CHROMIUM = os.environ.get("HOOKSTREAM_CHROMIUM", "/usr/bin/chromium")
TOKENS: dict[Role, str] = {role: secrets.token_urlsafe(24) for role in ROLE_RANK}
NAMES: dict[Role, str] = {"viewer": "vera", "operator": "otto", "admin": "ada"}


class Console:
    """The live process behind the pages, its store and its receiver."""

    def __init__(self, service: ServiceProcess, receiver: Receiver, bootstrap: str) -> None:
        self.service = service
        self.receiver = receiver
        self.bootstrap = bootstrap
        self.base = f"http://127.0.0.1:{service.admin_port}"
        self.store_url = service.env["HOOKSTREAM_STORE_URL"]

    def url(self, path: str) -> str:
        return self.base + path

    def api(self, method: str, path: str, body: Any = None, role: Role = "admin") -> tuple[int, Any]:
        """The admin API, to set up and check what the pages did."""
        headers = {"Authorization": f"Bearer {TOKENS[role]}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.base + "/api/v1" + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                raw = answer.read()
                return answer.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else None

    def seed(self, *records: FailedEventRecord) -> list[int]:
        """Failed events written straight to the store, as the dead-letter writer would."""

        async def record_all() -> list[int]:
            async with Store(self.store_url) as store:
                return [(await store.record_failure(record)).id for record in records]

        return run_apart(record_all())


def start_console(
    bootstrap: str,
    workdir: Path,
    subscriptions: list[dict[str, Any]],
    env: dict[str, str] | None = None,
) -> ServiceProcess:
    tokens = [{"name": NAMES[role], "sha256": hash_token(t), "role": role} for role, t in TOKENS.items()]
    service = ServiceProcess(
        bootstrap,
        unique_prefix("console"),
        write_subscriptions(workdir / "subs.yaml", subscriptions),
        workdir,
        env={
            "HOOKSTREAM_ADMIN__TOKENS": json.dumps(tokens),
            "HOOKSTREAM_SECRET_KEY": generate_key(),
            "HOOKSTREAM_KAFKA__CREATE_INPUT_TOPICS": "true",
            # The tests' browser is on loopback, where a proxy is trusted: its headers sign in too.
            "HOOKSTREAM_ADMIN__PROXY__GROUPS": json.dumps({"sre": "operator"}),
            **(env or {}),
        },
    )
    return service.start()


@pytest.fixture(scope="module")
def console(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    workdir = tmp_path_factory.mktemp("console")
    with Receiver() as receiver:
        receiver.behave("/ok", status=200)
        service = start_console(
            kafka_bootstrap,
            workdir,
            [subscription("file-orders", receiver.url("/ok"), log="all")],
        )
        try:
            yield Console(service, receiver, kafka_bootstrap)
        finally:
            service.stop()


# Per module, not per session: Playwright's sync API keeps an event loop running on the test thread
# while it is open, and every later test that calls asyncio.run() would find it there.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


SignIn = Callable[..., Page]


@pytest.fixture
def sign_in(browser: Browser, console: Console) -> Iterator[SignIn]:
    """``sign_in("operator")``: a new browser tab, signed in on the sign-in page with that role's token."""
    contexts = []

    def open_as(
        role: Role = "admin",
        *,
        theme: Literal["light", "dark"] = "light",
        width: int = 1400,
        height: int = 900,
    ) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=theme, timezone_id="Europe/Berlin"
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(console.url("/sign-in"))
        page.get_by_label("Token").fill(TOKENS[role])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/subscriptions")
        return page

    yield open_as
    for context in contexts:
        context.close()


def accessible(page: Page) -> None:
    """axe-core finds nothing serious or critical on the page as it is now."""
    results = Axe().run(page)
    grave = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not grave, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in grave
    )


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[Page, str], Path]:
    def take(page: Page, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        wanted = os.environ.get("HOOKSTREAM_SCREENSHOTS")
        if wanted:
            Path(wanted).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(wanted) / f"{name}.png"), full_page=True)
        return path

    return take
