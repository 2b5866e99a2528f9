"""Sending e-mail: the SMTP server of `COACH_SMTP_URL`, multipart messages, and `.eml` files for dry runs.

`COACH_SMTP_URL` is `smtp://HOST[:PORT]` (plain, port 25), `smtp+starttls://USER:PASS@HOST[:PORT]`
(STARTTLS, port 587) or `smtps://USER:PASS@HOST[:PORT]` (TLS from the start, port 465); user and
password are percent-encoded. `COACH_MAIL_FROM` is the sender (default `Mentor Coach
<mentor-coach@localhost>`). Messages carry plain text and simple HTML, no images, links with no
tracking, and `Auto-Submitted: auto-generated` so auto-responders stay quiet.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from coach.errors import CoachError, InputError

SMTP_ENV = "COACH_SMTP_URL"
FROM_ENV = "COACH_MAIL_FROM"
DEFAULT_FROM = "Mentor Coach <mentor-coach@localhost>"
#: Seconds to wait for the server to answer (connect and each command).
TIMEOUT = 30.0
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
_LINE_BREAKS = re.compile(r"[\r\n\t]+")


class MailUnreachable(CoachError):
    """The SMTP server could not be reached, refused the sign-in, or dropped the connection."""


class MailRefused(CoachError):
    """The server refused one message (its recipient, its sender or its content)."""


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes: scheme (`smtp`, `smtp+starttls` or `smtps`), host, port and optional sign-in."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def safe_url(self) -> str:
        """The URL without the password, for messages."""
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(raw: str) -> SmtpServer:
    """Read an SMTP URL; InputError (exit 2) naming `COACH_SMTP_URL` when it is not one."""
    where, name = f"${SMTP_ENV}", SMTP_ENV
    expected = "smtp://HOST[:PORT], smtp+starttls://USER:PASS@HOST[:PORT] or smtps://USER:PASS@HOST[:PORT]"
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError:
        raise InputError(where, name, f"{expected}, got a URL with a bad port") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        shown = raw if "@" not in raw else raw.split("://", 1)[0] + "://…@" + raw.rsplit("@", 1)[1]
        raise InputError(where, name, f"{expected}, got {shown!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InputError(where, name, f"{expected} with nothing after the port")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise InputError(where, name, "a user name with the password (USER:PASS@HOST)")
    if username and scheme == "smtp":
        raise InputError(where, name, "smtps:// or smtp+starttls:// when signing in (no password over plain SMTP)")
    return SmtpServer(scheme, parts.hostname, port or DEFAULT_PORTS[scheme], username, password)


def smtp_server_from_env() -> SmtpServer:
    """The server of `COACH_SMTP_URL`; InputError when it is not set."""
    raw = os.environ.get(SMTP_ENV, "").strip()
    if not raw:
        raise InputError(
            f"${SMTP_ENV}", SMTP_ENV, "the mail server, e.g. smtp://127.0.0.1:25 (or use --dry-run to write .eml files)"
        )
    return parse_smtp_url(raw)


def sender_from_env() -> Address:
    """The From address: `COACH_MAIL_FROM` ("Name <address>" or an address), or the default."""
    raw = os.environ.get(FROM_ENV, "").strip() or DEFAULT_FROM
    name, addr = parseaddr(raw)
    if "@" not in addr or _LINE_BREAKS.search(raw):
        raise InputError(f"${FROM_ENV}", FROM_ENV, f"an address such as {DEFAULT_FROM!r}, got {raw!r}")
    local, _, domain = addr.rpartition("@")
    try:
        return Address(display_name=name or "Mentor Coach", username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise InputError(f"${FROM_ENV}", FROM_ENV, f"an address such as {DEFAULT_FROM!r}: {exc}") from None


def one_line(text: str) -> str:
    """Header-safe text: line breaks and tabs become single spaces."""
    return _LINE_BREAKS.sub(" ", text).strip()


@dataclass(frozen=True)
class Mail:
    """One message to one person: `key` names it for good (a message is sent once per key)."""

    key: str
    to_name: str
    to_email: str
    subject: str
    text: str
    html: str


def build_message(mail: Mail, sender: Address, now: dt.datetime | None = None) -> EmailMessage:
    """The message with its headers (Date, Message-ID, From, To with the name) as plain text plus HTML."""
    now = now or dt.datetime.now(dt.UTC)
    local, _, domain = mail.to_email.rpartition("@")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = Address(display_name=one_line(mail.to_name), username=local, domain=domain)
    msg["Subject"] = one_line(mail.subject)
    msg["Date"] = format_datetime(now if now.tzinfo else now.replace(tzinfo=dt.UTC))
    msg["Message-ID"] = make_msgid(domain=sender.domain or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg


def write_eml(folder: Path, name: str, msg: EmailMessage) -> Path:
    """Write `msg` as `folder/name.eml`, readable by its owner only (it names people); returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")[:120] or "message"
    path = folder / f"{safe}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(msg.as_bytes())
    path.chmod(0o600)
    return path


def _cause(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {one_line(text)}"
    return one_line(str(exc)) or type(exc).__name__


class Outbox:
    """One connection to the SMTP server for a run: `with Outbox(server) as box: box.send(msg)`."""

    def __init__(self, server: SmtpServer, timeout: float = TIMEOUT) -> None:
        self.server = server
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Outbox:
        return self.connect()

    def connect(self) -> Outbox:
        """Connect (TLS and sign-in as the URL says) unless connected; MailUnreachable when that fails."""
        if self._smtp is not None:
            return self
        s = self.server
        try:
            if s.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            try:
                smtp.ehlo()
                if s.scheme == "smtp+starttls":
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, s.password or "")
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPAuthenticationError as exc:
            raise MailUnreachable(f"the mail server {s.safe_url()} refused the sign-in: {_cause(exc)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnreachable(f"cannot reach the mail server {s.safe_url()}: {_cause(exc)}") from None
        self._smtp = smtp
        return self

    def send(self, msg: EmailMessage) -> None:
        """Hand one message to the server; returns only once the server accepted it."""
        if self._smtp is None:
            raise MailUnreachable(f"not connected to the mail server {self.server.safe_url()}")
        try:
            refused = self._smtp.send_message(msg)
        except smtplib.SMTPServerDisconnected as exc:
            self._smtp = None
            raise MailUnreachable(
                f"the mail server {self.server.safe_url()} closed the connection: {_cause(exc)}"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            causes = "; ".join(
                f"{addr}: {_cause(smtplib.SMTPResponseException(*r))}" for addr, r in exc.recipients.items()
            )
            raise MailRefused(f"the mail server refused the recipient ({causes})") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            if exc.smtp_code == 421:  # the server is going away: smtplib has closed the connection
                self._smtp = None
                raise MailUnreachable(
                    f"the mail server {self.server.safe_url()} closed the connection: {_cause(exc)}"
                ) from None
            raise MailRefused(f"the mail server refused the message: {_cause(exc)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            self._smtp = None
            raise MailUnreachable(f"lost the mail server {self.server.safe_url()}: {_cause(exc)}") from None
        if refused:
            raise MailRefused(f"the mail server refused {', '.join(refused)}")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Say goodbye to the server (or just drop the connection if it has gone)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
