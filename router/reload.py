"""Hot reload: notice changed subscription files and build a new Router, or keep the old one.

The service polls :meth:`SubscriptionSource.poll` (every second or so). A poll
only stats files, so it is cheap. Change detection follows symlinks, which is
what a Kubernetes ConfigMap update needs: kubelet writes a new ``..<timestamp>``
folder and atomically swaps the ``..data`` link, so the files users see keep
their names while their targets change inode. Routers are immutable, so a
delivery in flight keeps the subscription object it started with.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from router.catalog import load_catalog
from router.errors import SubscriptionError
from router.index import Router
from router.loader import SUFFIXES, load_subscriptions

__all__ = ["SubscriptionSource"]

_FileStamp = tuple[int, int, int, int] | None
_Signature = tuple[tuple[str, _FileStamp, str | None], ...]


def _stamp(path: str) -> _FileStamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def _link(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


class SubscriptionSource:
    """Subscriptions at ``path`` (file or folder) checked against the catalog at ``catalog_path``.

    ``last_error`` holds the latest rejected version's error (None once a valid
    version loads); ``rejected_count`` counts rejected versions, each once.
    """

    def __init__(
        self,
        path: Path,
        catalog_path: Path,
        *,
        development: bool = False,
        reserved: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self._path = path
        # Names held elsewhere (API-managed subscriptions): a file version taking one is refused.
        self._reserved = reserved
        self._catalog_path = catalog_path
        self._development = development
        self._signature: _Signature | None = None
        self._router: Router | None = None
        self.last_error: SubscriptionError | None = None
        self.rejected_count = 0

    @property
    def router(self) -> Router | None:
        """The Router in force: the last good version, None before one loaded."""
        return self._router

    def _scan(self) -> _Signature:
        entries: list[tuple[str, _FileStamp, str | None]] = []
        for path in (str(self._catalog_path), str(self._path)):
            entries.append((path, _stamp(path), _link(path)))
        if self._path.is_dir():
            data_link = os.path.join(self._path, "..data")
            entries.append((data_link, _stamp(data_link), _link(data_link)))
            with os.scandir(self._path) as children:
                names = sorted(
                    child.path
                    for child in children
                    if child.name.endswith(SUFFIXES) and not child.name.startswith(".")
                )
            entries.extend((name, _stamp(name), None) for name in names)
        return tuple(entries)

    def _build(self) -> Router:
        catalog = load_catalog(self._catalog_path)
        reserved = self._reserved() if self._reserved is not None else None
        subscriptions = load_subscriptions(
            self._path, catalog, development=self._development, reserved=reserved
        )
        return Router(subscriptions, catalog)

    def load(self) -> Router:
        """Load now, whatever changed; raises SubscriptionError (the Router in force stays)."""
        signature = self._scan()
        router = self._build()
        self._signature, self._router, self.last_error = signature, router, None
        return router

    def poll(self) -> Router | None:
        """A new Router when the files changed and are valid; None otherwise.

        An invalid version is counted and recorded in ``last_error`` once (the
        caller logs it); the last good Router stays in force.
        """
        # Stat before reading: a write landing while we read shows up at the next poll.
        signature = self._scan()
        if signature == self._signature:
            return None
        self._signature = signature
        try:
            router = self._build()
        except SubscriptionError as exc:
            self.last_error = exc
            self.rejected_count += 1
            return None
        self._router, self.last_error = router, None
        return router
