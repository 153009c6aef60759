"""The web console at ``/``: subscriptions, failed events and requests, for people in a browser.

Pages are rendered on the server (Jinja2) and every action is a plain form post; the little script
there is (``static/console.js``) only adds comfort: local times, the theme switch, select-all. Each
page runs the admin API's own operations through :meth:`admin.api.Api.call` for its signed-in user,
so a page can neither show nor do more than that user could through the API.

Signing in: a token typed into the sign-in page (kept in an HttpOnly, SameSite=Strict cookie and
checked again on every request, so revoking it takes effect at once), or a trusted proxy's headers.
"""

from __future__ import annotations

from admin.console.install import install_console

__all__ = ["install_console"]
