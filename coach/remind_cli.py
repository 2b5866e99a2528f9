"""`coach remind`: e-mail each participant their session briefing two days ahead and the assessments due.

Registered lazily in coach.cli (LAZY_COMMANDS). The server is `COACH_SMTP_URL`, the sender
`COACH_MAIL_FROM`; `--dry-run` writes `.eml` files instead. Run it once a day (cron or a timer).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click


@click.command("remind")
@click.option(
    "--dry-run",
    "dry_run",
    default=None,
    metavar="DIR",
    help="Write the messages due as .eml files in DIR instead of sending them (nothing is recorded).",
)
@click.option("--today", default=None, metavar="YYYY-MM-DD", help="Run as of this date (default: today).")
def remind(dry_run: str | None, today: str | None) -> None:
    """E-mail session briefings (two days ahead) and due assessments to every participant, each once.

    Sends over $COACH_SMTP_URL (smtp://HOST:PORT, smtp+starttls://USER:PASS@HOST:PORT or
    smtps://USER:PASS@HOST:PORT) from $COACH_MAIL_FROM. A message is recorded only once the server
    accepted it: if the server cannot be reached, nothing is lost and the next run sends it.
    """
    from coach.cli import settings_with_kb
    from coach.errors import CoachError, parse_iso_date
    from coach.mail import sender_from_env, smtp_server_from_env
    from coach.remind import send_reminders, write_reminders
    from coach.store import open_store
    from coach.user_cli import public_url

    day = parse_iso_date(today, "--today", "today") or dt.date.today()
    sender = sender_from_env()
    server = None if dry_run else smtp_server_from_env()
    store = open_store(settings_with_kb(()))
    # A link only to an address the admin set: the local default means nothing in someone's inbox.
    link = public_url() if os.environ.get("COACH_PUBLIC_URL", "").strip() else ""
    if dry_run is not None:
        result = write_reminders(store, day, Path(dry_run), sender, link)
        for path in result.written:
            click.echo(f"wrote {path}")
        click.echo(f"{len(result.written)} message(s) due on {day.isoformat()} written to {dry_run}; none sent")
    else:
        assert server is not None
        result = send_reminders(
            store, day, server, sender, link, progress=lambda m: click.echo(f"sent to {m.to_email}: {m.subject}")
        )
        click.echo(f"{len(result.sent)} message(s) sent for {day.isoformat()} via {server.safe_url()}")
    if result.already_sent:
        click.echo(f"{result.already_sent} message(s) due were sent before: not sent again")
    for why in result.skipped:
        click.echo(f"skipped: {why}", err=True)
    for mail, why in result.refused:
        click.echo(f"not sent to {mail.to_email} ({mail.subject}): {why}", err=True)
    if result.refused:
        raise CoachError(f"{len(result.refused)} message(s) refused by the mail server; the next run tries them again")
