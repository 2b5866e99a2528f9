"""Coach tab: chat with streamed answers grounded in the cards, a role switch and a pair picker."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import gradio as gr

from coach.models import Pair, Plan
from ui import access
from ui.common import PACKAGE_EXAMPLE, engine_info, provider, retriever, settings
from ui.render import answer_markdown, card_markdown
from ui.safe import escape

log = logging.getLogger(__name__)

ROLES: list[tuple[str, str]] = [("Senior leader", "mentee"), ("Junior mentor", "mentor")]
NO_PAIR = "none"
EXAMPLE_PAIR = "example"
PLAN_TAB = "plan-tab"

#: Example questions for the junior mentor (who teaches and meets the senior's cancellations).
EXAMPLES: list[str] = [
    "Prepare me for session 2",
    "Give me a 30-minute lesson on prompt writing for a CFO",
    "Explain hallucinations simply",
    "What should we do, my mentee keeps cancelling?",
    "How do Gen Z customers choose brands?",
]
#: The same examples as the senior leader would ask them: the chips change with "Who is asking?".
EXAMPLES_BY_ROLE: dict[str, list[str]] = {
    "mentor": EXAMPLES,
    "mentee": [
        "Prepare me for session 2",
        "What could I teach back in session 2?",
        "Explain hallucinations simply",
        "What should we do, my mentor keeps cancelling?",
        "How do Gen Z customers choose brands?",
    ],
}

#: The library speaks to command-line users; the app says the same things in its own terms.
_APP_WORDS: list[tuple[str, str]] = [
    (
        "I need your plan (--plan FILE) or your pair file (--pair FILE) to brief you on a session.",
        "Pick a pair above (or generate a plan in the Plan tab and pick 'My plan from the Plan tab') "
        "so I can brief you on a session.",
    ),
    (
        'Save it with `coach revise --plan FILE "..." --out FILE`.',
        "This chat does not change your saved plan: make the same change in the Plan tab to keep it.",
    ),
    ("or add a card of your own with --kb.", "or ask an admin to add a card in the Knowledge tab."),
    (
        '`coach revise --plan PLAN.json "session N was cancelled, compress the rest"`',
        'the Plan tab ("session N was cancelled, compress the rest")',
    ),
    ("set COACH_MODEL / --model", "ask your admin to configure a model"),
]


def for_app(text: str) -> str:
    """Replace command-line instructions in an answer with what to do in the app."""
    for old, new in _APP_WORDS:
        text = text.replace(old, new)
    return text


def pair_choices(stored: bool = True) -> list[tuple[str, str]]:
    """The pair picker: no pair, the example pair, the Plan tab's plan and (`stored`) every stored pair."""
    choices = [
        ("No pair: general questions", NO_PAIR),
        ("Example pair: Robert Klein (CFO) and Priya Shah", EXAMPLE_PAIR),
        ("My plan from the Plan tab", PLAN_TAB),
    ]
    if not stored:
        return choices
    try:
        from coach.store import open_store

        for info in open_store(settings()).list_pairs():
            choices.append((f"{info.mentee} and {info.mentor} ({info.id})", f"pair:{info.id}"))
    except Exception as exc:  # the program database is optional for the chat
        log.warning("could not list stored pairs: %s", exc)
    return choices


#: Said instead of using a stored pair when the session may not see the program's pairs.
LOGIN_FOR_PAIRS = "Stored pairs are for admins: log in in the Program tab to use one. I answered without it."


def context_for(
    choice: str | None, role: str, plan_json: dict[str, Any] | None, admin: bool = False
) -> tuple[Any, str | None]:
    """The chat context for the picked pair; returns (context, a note for the user or None).

    Stored pairs (names, goals, plans of real people) are used only when `admin` is true: the
    picker lists them only after an admin login, and this check holds for API callers too.
    """
    from coach.chat import ChatContext

    r = retriever()
    pair: Pair | None = None
    plan: Plan | None = None
    record: dict[int, str] = {}
    note = None
    if choice == EXAMPLE_PAIR:
        from coach.pairs import load_pair

        pair = load_pair(PACKAGE_EXAMPLE)
    elif choice == PLAN_TAB:
        if plan_json:
            plan = Plan.model_validate(plan_json)
        else:
            note = "There is no plan in the Plan tab yet, so I answered without one."
    elif choice and choice.startswith("pair:") and not admin:
        note = LOGIN_FOR_PAIRS
    elif choice and choice.startswith("pair:"):
        from coach.store import open_store

        store = open_store(settings())
        ident = choice.removeprefix("pair:")
        try:
            pair = store.get_pair(ident).pair
            stored = store.get_plan(ident)
            plan = stored.plan if stored is not None else None
            record = {n: rec.status for n, rec in store.session_status(ident).items()}
        except Exception:
            note = "That pair is no longer in the program, so I answered without it."
    return ChatContext(r, pair, plan, role if role in {"mentee", "mentor"} else "mentee", record=record), note


#: Said in place when the question box is empty (no error badge, nothing in the server log).
EMPTY_NOTE = "Type a question first, or click one of the examples below. For example: *Prepare me for session 2*."


def _text_of(content: Any) -> str:
    """A chat message's text: Gradio 6 sends it back as a list of parts ({"type": "text", "text": ...})."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list):
        return "\n".join(_text_of(part) for part in content if isinstance(part, (str, dict)))
    return ""


def earlier_turns(history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(question, answer) pairs from the chat history the browser sent (the conversation's memory)."""
    out: list[tuple[str, str]] = []
    question: str | None = None
    for m in history:
        text = _text_of(m.get("content"))
        if m.get("role") == "user":
            question = text
        elif m.get("role") == "assistant" and question is not None:
            out.append((question, text))
            question = None
    return out


def _chunks(piece: str) -> Iterator[str]:
    """Offline answers arrive in one piece: pass them on line by line so the page fills as it goes."""
    yield from piece.splitlines(keepends=True) or [piece]


def respond(
    message: str,
    history: list[dict[str, Any]] | None,
    role: str,
    choice: str | None,
    plan_json: dict[str, Any] | None,
    session: access.Session | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Answer one question as a stream; yields (chat history, cleared input, sources picker).

    The conversation's memory is the chat history the browser sends with each message (see
    coach.conversation): follow-ups such as "shorter" or "what about session 4?" build on it.
    """
    from coach.conversation import Conversation
    from coach.errors import InputError

    history = list(history or [])
    message = (message or "").strip()
    if not message:
        # A gentle note in place of an answer: no error badge, no traceback in the log.
        if not (history and history[-1].get("content") == EMPTY_NOTE):
            history.append({"role": "assistant", "content": EMPTY_NOTE})
        yield history, "", gr.update()
        return
    kb = retriever().kb
    earlier = earlier_turns(history)
    history.append({"role": "user", "content": escape(message)})
    history.append({"role": "assistant", "content": "…"})
    yield history, "", gr.update()
    ctx, note = context_for(choice, role, plan_json, admin=access.is_admin(session))
    try:
        conv = Conversation.replay(ctx, earlier)
        conv.provider = provider()
        turn = conv.turn(message)
    except InputError as exc:
        history[-1] = {"role": "assistant", "content": escape(f"I can't take that question: {exc.expected}.")}
        yield history, "", gr.update()
        return
    text = ""
    for piece in turn:
        for chunk in _chunks(piece):
            text += chunk
            history[-1] = {"role": "assistant", "content": answer_markdown(for_app(text), kb)}
            yield history, "", gr.update()
    answer = turn.answer
    final = for_app(text).strip()
    if note:
        final = f"*{note}*\n\n{final}"
    history[-1] = {"role": "assistant", "content": answer_markdown(final, kb)}
    cited = [c for c in (answer.cards if answer else []) if kb.get(c)]
    choices = [(kb.by_id[c].title, c) for c in cited]  # titles, as people read them; the id is the value
    sources = gr.update(choices=choices, value=cited[0] if cited else None)
    yield history, "", sources


def show_card(card_id: str | None) -> str:
    """A card for the sources panel."""
    if not card_id:
        return "*The cards an answer cites appear here. Click a citation in an answer to open it in full.*"
    card = retriever().kb.get(card_id)
    return card_markdown(card) if card else "That card is not in the knowledge base."


def build(plan_state: gr.State, session: gr.State) -> dict[str, Any]:
    """Lay out the Coach tab inside the current gr.Tab; returns components the app wires on load."""
    info = engine_info()
    with gr.Row():
        role = gr.Radio(ROLES, value="mentee", label="Who is asking?", scale=1, elem_id="coach-role")
        pair = gr.Dropdown(
            pair_choices(stored=False),
            value=EXAMPLE_PAIR,
            label="Which pair?",
            scale=2,
            elem_id="coach-pair",
            allow_custom_value=False,
        )
    engine_line = f"Answers by: **{escape(info.label)}**. Every answer cites the cards it used; click one to read it."
    if info.problem:
        engine_line += f"  \n⚠ {escape(info.problem)}"
    gr.Markdown(engine_line, elem_id="coach-engine")
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label="Coach",
                show_label=False,
                height=330,
                sanitize_html=True,
                allow_tags=False,
                render_markdown=True,
                buttons=["copy"],
                feedback_options=None,
                placeholder="Ask the coach to prepare you for a session, plan a short lesson, explain a term, "
                "or help when sessions keep being cancelled.",
                elem_id="coach-chat",
            )
            with gr.Row():
                msg = gr.Textbox(
                    placeholder="Type a question, e.g. 'Prepare me for session 2', and press Enter",
                    show_label=False,
                    scale=5,
                    max_length=2000,
                    elem_id="coach-input",
                )
                send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="coach-send")
            with gr.Row(elem_classes=["chips"]):
                chips = [
                    gr.Button(q, size="sm", variant="secondary", min_width=60, elem_classes=["coach-example"])
                    for q in EXAMPLES_BY_ROLE["mentee"]
                ]
            clear = gr.Button("Start a new conversation", size="sm", variant="secondary")
        with gr.Column(scale=2):
            sources = gr.Dropdown([], label="Cards cited in the last answer", elem_id="coach-sources")
            card_view = gr.Markdown(show_card(None), elem_id="coach-card", max_height=420)
    inputs = [msg, chatbot, role, pair, plan_state, session]
    outputs = [chatbot, msg, sources]
    msg.submit(respond, inputs, outputs, api_name="chat")
    send.click(respond, inputs, outputs, api_visibility="private")
    for chip in chips:
        # The chip's own label is the question (it changes with the role).
        chip.click(lambda q: q, chip, msg, api_visibility="private", queue=False).then(
            respond, inputs, outputs, api_visibility="private"
        )
    role.change(
        lambda r: [gr.update(value=q) for q in EXAMPLES_BY_ROLE.get(r, EXAMPLES)],
        role,
        chips,
        api_visibility="private",
        queue=False,
    )
    clear.click(
        lambda: ([], "", gr.update(choices=[], value=None)), None, outputs, api_visibility="private", queue=False
    )
    sources.change(show_card, sources, card_view, api_visibility="private")
    return {"pair": pair}
