"""`coach user` (accounts, SPEC.md section 10) and `coach audit`.

Registered lazily in coach.cli (LAZY_COMMANDS). Whoever runs these commands can already read the
database, so they act as the operator (recorded as `cli` in the audit log).
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from coach.errors import InputError

#: Where links point when COACH_PUBLIC_URL is not set (the app's default address).
DEFAULT_PUBLIC_URL = "http://127.0.0.1:7860"


def _store() -> Any:
    from coach.cli import settings_with_kb
    from coach.store import open_store

    return open_store(settings_with_kb(()))


def public_url() -> str:
    """The app's address for links: COACH_PUBLIC_URL, or the local default."""
    raw = (os.environ.get("COACH_PUBLIC_URL") or "").strip().rstrip("/")
    if raw and not raw.startswith(("http://", "https://")):
        raise InputError("$COACH_PUBLIC_URL", "COACH_PUBLIC_URL", f"an http:// or https:// address, got {raw!r}")
    return raw or DEFAULT_PUBLIC_URL


@click.group()
def user() -> None:
    """Accounts: add, list, remove, API tokens, invitation and password-reset links."""


@user.command("add")
@click.argument("email")
@click.option("--name", required=True, help="The person's name.")
@click.option("--role", default="participant", show_default=True, help="admin or participant.")
@click.option("--pair", "pair_id", default=None, metavar="PAIR_ID", help="Participant: the pair they are in.")
@click.option("--side", default=None, help="Participant: mentor or mentee in that pair.")
def user_add(email: str, name: str, role: str, pair_id: str | None, side: str | None) -> None:
    """Create an account; run again with another --pair to link a participant to one more pair."""
    account = _store().add_account(email, name, role=role, pair=pair_id, side=side)
    links = ", ".join(f"{side} of {pid}" for pid, side in account.pairs.items()) or "every pair"
    click.echo(f"{account.email} ({account.role}): {links}")


@user.command("token")
@click.argument("email")
def user_token(email: str) -> None:
    """Print a new API token for the account as the only line (shown once, stored hashed)."""
    click.echo(_store().issue_token(email))


@user.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def user_list(fmt: str) -> None:
    """Every account with its role and pairs."""
    accounts = _store().accounts()
    rows = [
        {"email": a.email, "name": a.name, "role": a.role, "pairs": a.pairs, "password_set": a.has_password}
        for a in accounts
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from coach.cli import print_table

    print_table(
        ["email", "name", "role", "pairs", "password"],
        [
            [
                r["email"],
                r["name"],
                r["role"],
                ", ".join(f"{p} ({s})" for p, s in r["pairs"].items()),
                "set" if r["password_set"] else "not set",
            ]
            for r in rows
        ],
    )


@user.command("remove")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def user_remove(email: str, yes: bool) -> None:
    """Delete an account, its tokens and links (the pairs and their records stay)."""
    store = _store()
    account = store.get_account(email)
    if account is None:
        raise InputError("EMAIL", "email", f"an existing account, but there is none for {email!r}")
    if not yes:
        click.confirm(f"Remove the account {account.email}?", abort=True)
    store.remove_account(account.email)
    store.audit("cli", "delete", f"account {account.email}")
    click.echo(f"removed {account.email}")


@user.command("invite")
@click.argument("email")
def user_invite(email: str) -> None:
    """Print a one-time link (valid 7 days) with which the person sets their password."""
    base = public_url()
    token = _store().create_link(email, "invite")
    click.echo(f"{base}/?invite={token}")


@user.command("reset-password")
@click.argument("email")
def user_reset(email: str) -> None:
    """Clear the account's password now and print a one-time link (7 days) to set a new one."""
    base = public_url()
    store = _store()
    token = store.create_link(email, "reset")
    store.audit("cli", "reset-password", f"account {email.strip().lower()}")
    click.echo(f"{base}/?invite={token}")


@click.command()
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000), help="Newest entries.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def audit(limit: int, fmt: str) -> None:
    """The audit log: admin reads, exports and deletions, oldest first."""
    entries = _store().audit_entries(limit)
    rows = [
        {
            "at": e.at.isoformat(timespec="seconds") + "Z",
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "detail": e.detail,
        }
        for e in entries
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from coach.cli import print_table

    print_table(["at", "actor", "action", "target", "detail"], [list(r.values()) for r in rows])
