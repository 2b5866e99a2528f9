"""My pairs tab: a participant signs in with their account and sees their own pair(s) only.

Signed in, they see each pair's current plan and session history (both sides' ratings and
comments), log a session for their own side and fill in their assessments (ui/assessment_form.py).
A sign-in opens a web session in the database (ui/web_session.py): the browser keeps it as a
cookie, so a reload keeps the sign-in, and every handler looks the account up again and asks
`coach.permissions`. Failed sign-ins are throttled in the database per account and per address.
An invitation or reset link (`/?invite=TOKEN`) opens the form that sets the password.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import gradio as gr

from ui import access, assessment_form, web_session
from ui.common import settings
from ui.safe import escape, escape_cell

YOURS = "Your pairs: the current plan, the sessions so far with both sides' ratings, and a form to log a session."
SIGNED_OUT = "Sign in with the email and password of your account (an admin sends you an invitation link)."
STATUS_CHOICES = ["held", "cancelled", "moved"]
RATING_CHOICES = ["(no rating)", "1", "2", "3", "4", "5"]


def _store() -> Any:
    from coach.store import open_store

    return open_store(settings())


def sign_in(email: str, password: str, address: str) -> tuple[Any, str]:
    """(account or None, message) for an email and password from `address`."""
    from coach.store import Throttled

    try:
        account = _store().sign_in(email or "", password or "", address)
    except Throttled as exc:
        return None, f"⚠ {escape(str(exc))}."
    if account is None:
        return None, "⚠ That email and password do not match an account."
    return account, f"Signed in as **{escape(account.name)}** ({escape(account.role)})."


def set_password(token: str, password: str) -> str:
    """Accept an invitation or reset link; a message saying what happened."""
    from coach.errors import InputError

    try:
        account = _store().accept_link((token or "").strip(), password or "")
    except InputError as exc:
        return f"⚠ {escape(exc.expected)}"
    return f"Password set for {escape(account.email)}. Sign in above."


def my_pairs(account: Any) -> list[tuple[str, str]]:
    """(label, pair id) for each pair the account may see."""
    if account is None:
        return []
    from coach.permissions import visible_pairs

    infos = _store().list_pairs()
    allowed = set(visible_pairs(account, [i.id for i in infos]))
    return [(f"{i.mentor} and {i.mentee} ({account.pairs.get(i.id, 'admin')})", i.id) for i in infos if i.id in allowed]


def pair_view(account: Any, pair_id: str | None) -> tuple[str, list[list[Any]]]:
    """The pair's current plan as Markdown and its session history rows; nothing for a pair not visible."""
    from coach.permissions import can_see_pair

    if account is None or not pair_id or not can_see_pair(account, pair_id):
        return "", []
    store = _store()
    found = store.get_plan(pair_id)
    from coach.export import to_markdown

    plan_md = to_markdown(found.plan) if found is not None else "No plan has been saved for this pair yet."
    rows = []
    for rec in store.sessions(pair_id):
        mentor = rec.ratings.get("mentor")
        mentee = rec.ratings.get("mentee")
        rows.append(
            [
                rec.number,
                rec.status,
                rec.date.isoformat(),
                "" if mentor is None else f"{mentor[0]}: {escape_cell(mentor[1])}",
                "" if mentee is None else f"{mentee[0]}: {escape_cell(mentee[1])}",
            ]
        )
    return plan_md, rows


def log_session(
    account: Any, pair_id: str | None, number: float | None, status: str, date: str, rating: str, comment: str
) -> str:
    """Log a session for the account's own side; a message saying what was stored or what is wrong."""
    from coach.errors import InputError
    from coach.permissions import Denied, NotVisible, side_for_logging

    if account is None:
        return "⚠ Sign in first."
    if not pair_id:
        return "⚠ Choose a pair."
    rated = rating not in (None, "", RATING_CHOICES[0])
    try:
        side = side_for_logging(account, pair_id, rated)
        try:
            day = dt.date.fromisoformat((date or "").strip())
        except ValueError:
            raise InputError("form", "date", f"a date as YYYY-MM-DD, got {date!r}") from None
        if number is None or int(number) != number:
            raise InputError("form", "session", "a whole session number")
        ratings = {side: (int(rating), (comment or "").strip()[:2000])} if rated and side else {}
        _store().log_session(pair_id, int(number), status, day, "", ratings)
    except NotVisible:
        return "⚠ No such pair."
    except (Denied, InputError) as exc:
        return f"⚠ {escape(str(exc))}"
    who = f" as the {side}" if side else ""
    return f"Logged session {int(number)} ({escape(status)}){who}."


def account_of(session: access.Session | None) -> Any:
    """The signed-in account of a page's session, looked up again in the database; or None."""
    web = session.web() if session is not None else None
    return web.account if web is not None else None


def build(session: gr.State) -> dict[str, Any]:
    """Lay out the tab and wire its events; returns its load function, outputs and sign-in events for ui/app.py."""
    with gr.Row() as signin_row:
        email = gr.Textbox(label="Email", max_length=254, scale=2, elem_id="signin-email")
        password = gr.Textbox(label="Password", type="password", max_length=200, scale=2, elem_id="signin-password")
        signin = gr.Button("Sign in", variant="primary", scale=1, min_width=100, elem_id="signin")
    message = gr.Markdown(SIGNED_OUT, elem_id="signin-message")
    # Carries a new sign-in's token to the page once, which posts it to /auth/adopt (the cookie).
    token_box = gr.Textbox(visible=False, elem_id="session-token")
    with gr.Accordion("Set your password (invitation or reset link)", open=False) as invite_box:
        invite = gr.Textbox(label="Link code", max_length=200, type="password")
        new_password = gr.Textbox(label="New password (10 characters or more)", type="password", max_length=200)
        set_btn = gr.Button("Set password")
        invite_msg = gr.Markdown("")
    with gr.Column(visible=False) as panel:
        # "Log out" sits above the tabs (ui/app.py): one sign-in per browser, whichever tab it came from.
        pair = gr.Dropdown(label="Pair", choices=[], elem_id="my-pair")
        with gr.Accordion("Log a session for your side", open=True):
            with gr.Row():
                number = gr.Number(label="Session", value=1, precision=0, minimum=1, maximum=24, elem_id="log-number")
                status = gr.Dropdown(label="What happened", choices=STATUS_CHOICES, value="held")
                date = gr.Textbox(
                    label="Date (YYYY-MM-DD)", value=dt.date.today().isoformat(), max_length=10, elem_id="log-date"
                )
                rating = gr.Dropdown(
                    label="Your rating", choices=RATING_CHOICES, value=RATING_CHOICES[0], elem_id="log-rating"
                )
            comment = gr.Textbox(label="Comment", lines=2, max_length=2000, elem_id="log-comment")
            log_btn = gr.Button("Log session", variant="primary", elem_id="log-session")
            log_msg = gr.Markdown("", elem_id="log-msg")
        assessment_form.build(session, pair, account_of)
        history = gr.Dataframe(
            headers=["Session", "Status", "Date", "Mentor rating", "Senior rating"],
            label="Session history",
            interactive=False,
            elem_id="my-history",
        )
        plan_md = gr.Markdown("", elem_id="my-plan")

    def shown(account: Any) -> list[Any]:
        choices = my_pairs(account)
        first = choices[0][1] if choices else None
        text, rows = pair_view(account, first)
        return [
            gr.update(visible=account is None),
            gr.update(visible=account is not None),
            gr.update(choices=choices, value=first),
            text,
            rows,
        ]

    view_outputs = [signin_row, panel, pair, plan_md, history]

    def do_sign_in(email_v: str, password_v: str, request: gr.Request) -> list[Any]:
        address = request.client.host if request is not None and request.client is not None else ""
        account, text = sign_in(email_v, password_v, address)
        if account is None:
            return [gr.update(), "", "", text, *shown(None)]
        token = web_session.open_session(account)
        # Who is signed in shows above the tabs; the tab says what it offers.
        return [access.Session(token=token), token, "", YOURS, *shown(account)]

    def do_log(s: access.Session | None, pid: str | None, n: float, st: str, d: str, r: str, c: str) -> list[Any]:
        account = account_of(s)
        text = log_session(account, pid, n, st, d, r, c)
        _plan, rows = pair_view(account, pid)
        return [text, rows]

    quiet: dict[str, Any] = {"show_progress": "minimal", "api_visibility": "private"}
    signin_outputs = [session, token_box, password, message, *view_outputs]
    signed_in = [
        signin.click(do_sign_in, [email, password], signin_outputs, **quiet),
        password.submit(do_sign_in, [email, password], signin_outputs, **quiet),
    ]
    for event in signed_in:
        event.then(None, token_box, None, js=web_session.ADOPT_JS, **quiet)
    pair.change(lambda s, p: list(pair_view(account_of(s), p)), [session, pair], [plan_md, history], **quiet)
    log_btn.click(do_log, [session, pair, number, status, date, rating, comment], [log_msg, history], **quiet)
    set_btn.click(lambda t, p: [set_password(t, p), ""], [invite, new_password], [invite_msg, new_password], **quiet)

    def on_load(s: access.Session | None, request: gr.Request) -> list[Any]:
        token = request.query_params.get("invite") if request is not None else None
        invite_updates = [gr.update(open=True), gr.update(value=token)] if token else [gr.update(), gr.update()]
        account = account_of(s)
        if account is None:
            return [*invite_updates, SIGNED_OUT, *shown(None)]
        return [*invite_updates, YOURS, *shown(account)]

    return {
        "load": on_load,
        "load_outputs": [invite_box, invite, message, *view_outputs],
        "signed_in": signed_in,
    }
