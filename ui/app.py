"""The Gradio app: Coach, Plan, Knowledge, Program and Evals tabs. `demo` is built at import.

Building `demo` imports Gradio and lays out the page; it does not open the index, the database or
a model: those open on first use. `launch()` applies the security settings (queue bounds, upload
limit, blocked paths, loopback-only without an admin password, a Host check against DNS rebinding).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from coach import limits
from ui import (
    access,
    coach_tab,
    evals_tab,
    knowledge_tab,
    match_tab,
    my_pairs_tab,
    plan_tab,
    program_tab,
    web_session,
)
from ui.common import retriever
from ui.safe import escape

#: Largest file the server accepts in one upload (a pair file is a few hundred bytes).
MAX_UPLOAD = f"{limits.UPLOAD_BYTES // 1024}kb"
#: Every (seconds, seconds): how often Gradio sweeps its cache, and the age at which a file goes.
UPLOAD_CLEANUP = (900, 3600)
#: Requests waiting beyond the running ones; more are turned away with "the queue is full".
QUEUE_MAX_SIZE = 64
LOOPBACK = ("127.0.0.1", "localhost", "::1")

CSS = """
.field-error, .field-error * { color: #b42318 !important; font-weight: 600; }
.field-error { font-size: 0.92em; padding: 2px 12px 6px 12px; }
.field-error p { margin: 0; }
.chips button { white-space: normal; }
#app-header h2 { margin: 0 0 2px 0; }
#app-header p, #access-banner p { margin: 0; }
#access-banner { font-size: 0.9em; }
footer { display: none !important; }
#plan-sessions td:first-child, #plan-sessions th:first-child { white-space: nowrap; word-break: keep-all; overflow-wrap: normal; }
#plan-sessions td:last-child, #plan-sessions th:last-child { word-break: normal; overflow-wrap: normal; hyphens: none; min-width: 7em; }
#plan-sessions details.plan-session { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 4px 12px; margin: 6px 0; }
#plan-sessions summary { cursor: pointer; }
"""

HEADER = """## Mentor Coach
Reverse mentoring: a junior colleague teaches digital skills, a senior leader learns and shares strategy and leadership back."""


def _login_box(session: gr.State) -> tuple[gr.Row, gr.Textbox, gr.Button, gr.Markdown]:
    with gr.Row(visible=access.password_set()) as row:
        password = gr.Textbox(label="Admin password", type="password", scale=3, max_length=200)
        button = gr.Button("Log in", variant="primary", scale=1, min_width=100)
    message = gr.Markdown(access.status_text(None) if access.password_set() else "")
    return row, password, button, message


def build_demo() -> gr.Blocks:
    """Lay out the whole app and wire its events."""
    # Uploaded pair files and generated downloads are removed from Gradio's cache after an hour.
    with gr.Blocks(title="Mentor Coach", fill_width=True, delete_cache=UPLOAD_CLEANUP) as demo:
        session = gr.State(access.Session())
        plan_state = gr.State(None)
        pair_state = gr.State(None)
        gr.Markdown(HEADER, elem_id="app-header")
        banner = gr.Markdown("", elem_id="access-banner")
        with gr.Row(elem_id="who-row"):
            who = gr.Markdown("", elem_id="who")
            logout = gr.Button("Log out", visible=False, scale=0, min_width=100, size="sm", elem_id="logout")
        # Carries a new admin sign-in's token to the page once, which posts it to /auth/adopt (the cookie).
        admin_token = gr.Textbox(visible=False, elem_id="admin-token")
        with gr.Tabs(selected="coach") as tabs:
            with gr.Tab("Coach", id="coach", elem_id="tab-coach"):
                coach = coach_tab.build(plan_state, session)
            with gr.Tab("Plan", id="plan", elem_id="tab-plan"):
                plan_tab.build(session, plan_state, pair_state)
            with gr.Tab("Knowledge", id="knowledge", elem_id="tab-knowledge"):
                kb = knowledge_tab.build(session)
            with gr.Tab("My pairs", id="mine", elem_id="tab-mine"):
                mine = my_pairs_tab.build(session)
            with gr.Tab("Program (admin)", id="program", elem_id="tab-program"):
                p_row, p_pass, p_btn, p_msg = _login_box(session)
                program = program_tab.build(session)
            with gr.Tab("Evals (admin)", id="evals", elem_id="tab-evals"):
                e_row, e_pass, e_btn, e_msg = _login_box(session)
                evals = evals_tab.build(session)
            with gr.Tab("Match (admin)", id="match", elem_id="tab-match"):
                m_row, m_pass, m_btn, m_msg = _login_box(session)
                matcher = match_tab.build(session)

        admin_outputs = [p_row, e_row, p_msg, e_msg, program["panel"], evals["panel"], banner]
        admin_outputs += [m_row, m_msg, matcher["panel"]]  # the Match tab, gated like Program and Evals

        def admin_state(s: access.Session, messages: bool = True) -> list[Any]:
            # messages=False leaves the three login messages as they are (a refused password says so there).
            ok = access.is_admin(s)
            # Without a password the banner above the tabs says it once; the tabs need not repeat it.
            text: Any = (access.status_text(s) if access.password_set() else "") if messages else gr.update()
            need_login = access.password_set() and not ok
            banner_text = "" if access.password_set() else access.OPEN_BANNER
            return [
                gr.update(visible=need_login),
                gr.update(visible=need_login),
                text,
                text,
                gr.update(visible=ok),
                gr.update(visible=ok),
                banner_text,
                gr.update(visible=need_login),
                text,
                gr.update(visible=ok),
            ]

        def login(s: access.Session, password: str, request: gr.Request) -> list[Any]:
            address = request.client.host if request is not None and request.client is not None else ""
            try:
                refused = access.password_set() and not access.check_password(password, address)
                wrong = "⚠ That password is not right. Ask the person who runs the program for it."
            except access.LockedOut as exc:
                refused, wrong = True, str(exc)
            if refused:
                # Said next to the box (an error toast would cover the form with an error overlay).
                keep = [gr.update() for _ in range(len(program["outputs"]) + len(evals["outputs"]))]
                return [
                    *[s, "", "", gr.update(), gr.update(), wrong, wrong, gr.update(), gr.update(), gr.update()],
                    *[gr.update(), wrong, gr.update()],  # the Match tab's login box, message and panel
                    *keep,
                    gr.update(),
                    "",
                ]
            # A web session in the database: the page keeps its token, the browser its cookie (reloads).
            new = access.Session(token=web_session.open_session(None)) if access.password_set() else s
            # After a login the Coach tab may offer the program's stored pairs too.
            pairs = gr.update(choices=coach_tab.pair_choices(stored=True))
            return [new, "", "", *admin_state(new), *program["load"](new), *evals["load"](new), pairs, ""]

        login_outputs = [
            *[session, p_pass, e_pass, *admin_outputs],
            *program["outputs"],
            *evals["outputs"],
            coach["pair"],
            m_pass,
        ]
        quiet: dict[str, Any] = {"show_progress": "minimal"}
        login_events: list[Any] = []
        login_events.append(p_btn.click(login, [session, p_pass], login_outputs, api_name="admin_login", **quiet))
        login_events.append(e_btn.click(login, [session, e_pass], login_outputs, api_visibility="private", **quiet))
        login_events.append(p_pass.submit(login, [session, p_pass], login_outputs, api_visibility="private", **quiet))
        login_events.append(e_pass.submit(login, [session, e_pass], login_outputs, api_visibility="private", **quiet))
        login_events.append(m_btn.click(login, [session, m_pass], login_outputs, api_visibility="private", **quiet))
        login_events.append(m_pass.submit(login, [session, m_pass], login_outputs, api_visibility="private", **quiet))

        def who_is(s: access.Session) -> list[Any]:
            web = s.web() if s is not None else None
            if web is None:
                return ["", gr.update(visible=False)]
            name = web.account.name if web.account is not None else "admin"
            return [f"Signed in as **{escape(name)}**.", gr.update(visible=True)]

        def refresh(s: access.Session, request: gr.Request, messages: bool = True) -> list[Any]:
            # After any sign-in or log-out: who is shown, the admin tabs, My pairs and the Coach tab's pairs.
            return [
                *who_is(s),
                gr.update(choices=coach_tab.pair_choices(stored=access.is_admin(s))),
                *admin_state(s, messages),
                *program["load"](s),
                *evals["load"](s),
                *mine["load"](s, request)[2:],
            ]

        def refresh_after_login(s: access.Session, request: gr.Request) -> list[Any]:
            # A refused password keeps the message the login handler put next to the box.
            return refresh(s, request, messages=access.is_admin(s))

        refresh_outputs = [
            who,
            logout,
            coach["pair"],
            *admin_outputs,
            *program["outputs"],
            *evals["outputs"],
            *mine["load_outputs"][2:],
        ]
        private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
        for event in login_events:
            event.then(refresh_after_login, session, refresh_outputs, **private)
        for event in mine["signed_in"]:
            event.then(refresh, session, refresh_outputs, **private)
        for event in login_events:
            event.then(lambda s: s.token or "", session, admin_token, **private).then(
                None, admin_token, None, js=web_session.ADOPT_JS, **private
            )

        def log_out(s: access.Session) -> access.Session:
            web_session.end(s.token if s is not None else None)
            return access.Session()

        logged_out = logout.click(log_out, session, session, **private)
        logged_out.then(None, None, None, js=web_session.SIGN_OUT_JS, **private).then(
            refresh, session, refresh_outputs, **private
        )

        # Published pairs appear in the Program tab at once.
        matcher["published"].then(program["load"], session, program["outputs"], api_visibility="private")

        def on_load(s: access.Session, request: gr.Request) -> list[Any]:
            card_id = request.query_params.get("card") if request is not None else None
            tab: Any = gr.update()
            view: Any = gr.update()
            pick: Any = gr.update()
            if card_id:
                view = knowledge_tab.view(card_id)
                tab = gr.update(selected="knowledge")
                if knowledge_tab.known(card_id):
                    pick = gr.update(value=card_id)  # so "Edit this card" edits the card the link opened
            return [
                tab,
                view,
                pick,
                gr.update(choices=coach_tab.pair_choices(stored=access.is_admin(s))),
                *admin_state(s),
                *program["load"](s),
                *evals["load"](s),
            ]

        def restore(request: gr.Request) -> list[Any]:
            # A reload keeps the sign-in: the browser's cookie names a web session in the database.
            token = web_session.token_of(request)
            s = access.Session(token=token) if web_session.lookup(token) is not None else access.Session()
            return [s, *who_is(s)]

        restored = demo.load(restore, None, [session, who, logout], api_visibility="private")
        restored.then(
            on_load,
            session,
            [
                tabs,
                kb["card_view"],
                kb["picker"],
                coach["pair"],
                *admin_outputs,
                *program["outputs"],
                *evals["outputs"],
            ],
            api_visibility="private",
        )

        def open_invite(s: access.Session, request: gr.Request) -> list[Any]:
            # An invitation link (/?invite=TOKEN) opens My pairs with the set-password form filled in.
            updates = mine["load"](s, request)
            invited = request is not None and bool(request.query_params.get("invite"))
            return [gr.update(selected="mine") if invited else gr.update(), *updates]

        restored.then(open_invite, session, [tabs, *mine["load_outputs"]], api_visibility="private")
    return demo


def blocked_paths(home: Path) -> list[str]:
    """Folders Gradio's file route must never serve: $COACH_HOME, the working directory and the project.

    A folder that holds Gradio's own upload cache (say the app is started from /tmp) cannot be
    blocked whole, since downloads are served from there; $COACH_HOME is always blocked.
    """
    from gradio.utils import get_upload_folder, is_in_or_equal

    from coach.config import PACKAGE_ROOT

    cache = Path(get_upload_folder()).resolve()
    exports = Path(tempfile.gettempdir()).resolve()
    out = [str(home.resolve())]
    for p in (Path.cwd().resolve(), PACKAGE_ROOT.resolve()):
        if is_in_or_equal(str(cache), str(p)) or is_in_or_equal(str(exports), str(p)):
            continue
        out.append(str(p))
    return list(dict.fromkeys(out))


def check_bind(host: str, share: bool) -> None:
    """Refuse to serve beyond this machine when no admin password protects the admin views."""
    from coach.errors import InputError

    if access.password_set():
        return
    if share:
        raise InputError("--share", "share", "COACH_ADMIN_PASSWORD to be set before the app is shared")
    if host not in LOOPBACK:
        raise InputError(
            "--host",
            "host",
            f"127.0.0.1 while no COACH_ADMIN_PASSWORD is set (admin views would be open to the network), got {host!r}",
        )


def api_routes() -> list[Any]:
    """The JSON API of coach/api at /api/v1 (its OpenAPI page at /api/v1/docs) and the /auth cookie routes."""
    from starlette.routing import Mount

    from coach.api import PREFIX, create_api

    return [Mount(PREFIX, app=create_api()), *web_session.routes()]


def launch(
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> Any:
    """Start the server with the queue bounds, upload limit, blocked paths and Host check.

    Args:
        host: Interface to bind; anything but loopback needs COACH_ADMIN_PASSWORD.
        port: TCP port.
        share: Ask Gradio for a public share link (needs COACH_ADMIN_PASSWORD).
        prevent_thread_lock: Return after starting (tests); otherwise block until stopped.
        quiet: Do not print Gradio's banner.
    """
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    from ui.common import settings

    check_bind(host, share)
    s = settings()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    # The JSON API (SPEC.md section 10) on the same port, mounted before Gradio adds its own routes.
    app_kwargs: dict[str, Any] = {"routes": api_routes()}
    from ui.request_limits import BodyLimit

    # Every request body is bounded before it is read (uploads have their own limit).
    middleware = [Middleware(BodyLimit)]
    if host in LOOPBACK and not share:
        # Against DNS rebinding: a page on another site cannot reach the app through its own host name.
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost", "[::1]", "::1"]))
    else:
        # Served to the network: only a signed-in browser may upload files (pair and people files).
        middleware.append(Middleware(web_session.UploadGuard))
    app_kwargs["middleware"] = middleware
    demo.queue(default_concurrency_limit=s.concurrency, max_size=QUEUE_MAX_SIZE)
    return demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        max_file_size=MAX_UPLOAD,
        allowed_paths=[],
        blocked_paths=blocked_paths(s.home),
        app_kwargs=app_kwargs,
        footer_links=[],
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        theme=gr.themes.Soft(),
        css=CSS,
    )


def warm_up() -> None:
    """Open the retriever before the first request (builds the index if the cards changed)."""
    retriever()


demo = build_demo()
