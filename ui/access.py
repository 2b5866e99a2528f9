"""Who may see the admin views (Program, Evals) and edit cards.

With `COACH_ADMIN_PASSWORD` set, an admin signs in with it (or with an admin account in My pairs).
A browser keeps the sign-in as a web-session cookie (ui/web_session.py) that every admin handler
looks up in the database again, so a reload keeps it and "Log out" ends it in every app process;
an API client without cookies keeps it in server-side page state (a `gr.State`), which a client
cannot set itself. Without a password the app only binds to 127.0.0.1 and says plainly that the
admin views are open to anyone using this machine.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ui.common import settings

log = logging.getLogger(__name__)

#: One line above the tabs when no admin password is set.
OPEN_BANNER = (
    "⚠ **Admin views are open** (no COACH_ADMIN_PASSWORD): anyone on this computer can use Program, Evals "
    "and card editing; other computers cannot connect."
)
#: After this many wrong passwords in a row, each further try waits (slows down guessing).
FREE_TRIES = 3
MAX_DELAY_SECONDS = 5.0


@dataclass
class Session:
    """What one page has proved: the admin password in this page (`admin`) or a web session (`token`)."""

    admin: bool = False
    token: str | None = None

    def web(self) -> Any:
        """The live web session behind `token` (coach.store.WebSession), looked up again; or None."""
        from ui import web_session

        return web_session.lookup(self.token)


_fail_lock = threading.Lock()
_failures = 0


def password_set() -> bool:
    """Whether COACH_ADMIN_PASSWORD protects the admin views."""
    return bool(settings().admin_password)


def is_admin(session: Session | None) -> bool:
    """True when admin views are open (no password set) or this session logged in."""
    if not password_set():
        return True
    if session is None:
        return False
    if session.admin:
        return True
    web = session.web()
    return bool(web is not None and web.is_admin)


def require_admin(session: Session | None, what: str = "this view") -> None:
    """Refuse (with a message shown on the page) unless the session may use admin views."""
    if not is_admin(session):
        raise gr.Error(f"Log in as admin to use {what}: enter the admin password in the Program or Evals tab.")


class LockedOut(Exception):
    """Too many wrong admin passwords from this address, or for the admin password as a whole."""

    def __init__(self, minutes: int) -> None:
        super().__init__(
            f"⚠ Too many wrong passwords: admin sign-in is locked for about {minutes} minute"
            f"{'s' if minutes != 1 else ''}. Ask the person who runs the program if you have lost the password."
        )


def check_password(given: str | None, address: str = "") -> bool:
    """Compare in constant time; failures are logged, slowed down and locked out.

    Failures are kept in the program database (as for account sign-ins), under the admin password
    and under the caller's address, so every app process sees the same count: after five failures
    within 15 minutes either key is locked for 15 minutes.

    Raises:
        LockedOut: the admin password or this address is locked; the password was not checked.
    """
    global _failures
    expected = settings().admin_password
    if not expected:
        return True
    from coach.store import open_store, utcnow

    store = open_store(settings())
    keys = ["admin-password", *([f"address:{address}"] if address else [])]
    until = store.throttled_until(keys)
    if until is not None:
        log.warning("admin sign-in refused: locked until %s (address %s)", until.isoformat(), address or "unknown")
        raise LockedOut(max(1, round((until - utcnow()).total_seconds() / 60)))
    ok = hmac.compare_digest((given or "").encode(), expected.encode())
    store.record_sign_in(keys, ok, clear="admin-password")
    with _fail_lock:
        if ok:
            _failures = 0
            return True
        _failures += 1
        delay = min(MAX_DELAY_SECONDS, 0.5 * max(0, _failures - FREE_TRIES))
    # Never the password itself: only that it was wrong, and from where.
    log.warning("failed admin sign-in from %s", address or "unknown address")
    if delay:
        time.sleep(delay)
    return False


def status_text(session: Session | None) -> str:
    """One line for the page saying how admin access works right now."""
    if not password_set():
        return (
            "**Admin views are open**: no admin password is set (COACH_ADMIN_PASSWORD), so anyone using this "
            "computer can see the program and evals and edit cards. The app only accepts connections from this "
            "computer (127.0.0.1)."
        )
    if is_admin(session):
        return ""  # "Signed in as ..." and Log out show above the tabs
    return "The program, evals and card editing are for admins. Enter the admin password to continue."
