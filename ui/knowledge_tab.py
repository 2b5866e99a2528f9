"""Knowledge tab: search the cards and documents, browse, read one, and (admins) edit cards and add documents."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio as gr

from coach.models import DOMAINS
from ui import access
from ui.cardform import FIELDS, HELP, card_to_form, card_yaml, check_card, target_path
from ui.common import domain_label, reset_retriever, retriever, settings
from ui.render import card_markdown
from ui.safe import escape

log = logging.getLogger(__name__)

MODES: list[tuple[str, str]] = [
    ("Best match", "hybrid"),
    ("Exact words", "bm25"),
    ("Similar meaning", "dense"),
]
DOMAIN_CHOICES: list[tuple[str, str]] = [(domain_label(d), d) for d in DOMAINS]
RESULT_HEADERS = ["#", "Card", "Subject", "Evidence", "id"]
DOC_HEADERS = ["Id", "Title", "File", "Passages"]
#: What the document upload accepts (coach.documents reads these).
DOC_TYPES = [".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx"]
DOCUMENT = "Organisation document"


def competence_choices() -> list[tuple[str, str]]:
    """The DigComp 2.2 competences as (label, number), in framework order."""
    from coach.digcomp import competences

    return [(c.label, c.number) for c in competences().values()]


def due_ids() -> set[str]:
    """Ids of the cards due for review (reviewed 12 or more months ago, or never)."""
    from coach.knowledge import stale_cards

    return {s.card.id for s in stale_cards(retriever().kb.cards)}


def _label(card: Any, due: set[str]) -> str:
    # The title as people read it; the id stays in the row's hidden last cell and the picker's value.
    return card.title + (" (due for review)" if card.id in due else "")


def open_row(evt: gr.SelectData) -> Any:
    """Open the card of the clicked results row (its id is the row's hidden last cell)."""
    row = getattr(evt, "row_value", None) or []
    card_id = row[-1] if row else None
    return gr.update(value=card_id) if card_id else gr.update()


def _hit_label(hit: Any, due: set[str]) -> str:
    return f"{hit.title}, {hit.locator}" if hit.kind == "doc" else _label(hit.card, due)


def _hit_id(hit: Any) -> str:
    return str(hit.unit_id if hit.kind == "doc" else hit.card.id)


def search(query: str, mode: str, domains: list[str] | None, k: float | int = 8) -> tuple[Any, ...]:
    """Search the cards and the organisation's documents; returns the results table, a picker and a status line.

    A subject filter leaves documents out (they have no subject).
    """
    query = (query or "").strip()
    if not query:
        return [], gr.update(), "Type what you are looking for, for example *phishing* or *board papers with AI*."
    if len(query) > 500:
        return [], gr.update(), "Please keep the search under 500 characters."
    wanted = {d for d in (domains or []) if d in DOMAINS} or None
    hits = retriever().search_all(
        query,
        k=max(1, min(int(k or 8), 30)),
        mode=mode if mode in {"hybrid", "bm25", "dense"} else "hybrid",
        domains=wanted,
    )
    from coach.kb_cli import query_covered, strength

    covered = query_covered(query, retriever()) if hits else False
    due = due_ids()
    rows = [
        [
            i,
            _hit_label(h, due),
            DOCUMENT if h.kind == "doc" else domain_label(h.card.domain),
            # The coverage decision is calibrated on cards; a document passage reads by its similarity alone.
            strength(h.similarity, covered or h.kind == "doc"),
            _hit_id(h),
        ]
        for i, h in enumerate(hits, 1)
    ]
    picker = gr.update(
        choices=[(_hit_label(h, due), _hit_id(h)) for h in hits], value=_hit_id(hits[0]) if hits else None
    )
    n_docs = sum(1 for h in hits if h.kind == "doc")
    found = f"{len(hits) - n_docs} card{'s' if len(hits) - n_docs != 1 else ''}"
    if n_docs:
        found += f" and {n_docs} document passage{'s' if n_docs != 1 else ''}"
    status = f"{found} found. Click a row to read it." if hits else "Nothing matches that search."
    return rows, picker, status


def cards_in(domain: str | None, competence: str | None = None) -> Any:
    """The card picker for one subject and, optionally, one DigComp 2.2 competence; due cards are marked."""
    kb = retriever().kb
    cards = kb.in_domain(domain) if domain else kb.cards
    if competence:
        cards = [c for c in cards if competence in c.digcomp]
    due = due_ids()
    return gr.update(choices=[(_label(c, due), c.id) for c in cards], value=cards[0].id if cards else None)


def known(card_id: str) -> bool:
    """Whether a card id is in the knowledge base."""
    return retriever().kb.get(card_id) is not None


def view_passage(unit_id: str) -> str:
    """One organisation-document passage: the document's title, file and locator, and the passage's text."""
    found = retriever().docs.get(unit_id)
    if found is None:
        return "That document passage is no longer in the knowledge base."
    doc, passage = found
    return (
        f"### {escape(doc.title)}\n\n*{DOCUMENT}* `{escape(doc.file)}`, {escape(passage.locator)} "
        f"(cited in answers as [doc:{escape(doc.doc_id)}])\n\n{escape(passage.text)}"
    )


def view(card_id: str | None) -> str:
    """One card in full, or one organisation-document passage (ids `doc:DOC_ID:N`)."""
    if not card_id:
        return "*Pick a card to read it here.*"
    from coach.documents import UNIT_PREFIX

    if card_id.startswith(UNIT_PREFIX):
        return view_passage(card_id)
    card = retriever().kb.get(card_id)
    if card is None:
        return "That card is not in the knowledge base."
    from coach.digcomp import competences

    notes = []
    if card.id in due_ids():
        notes.append(f"**Due for review**: last checked {card.reviewed or 'never'}.")
    if card.digcomp:
        known = competences()
        notes.append("DigComp 2.2: " + "; ".join(known[n].label for n in card.digcomp if n in known) + ".")
    return card_markdown(card) + ("\n\n" + "\n\n".join(notes) if notes else "")


def load_into_form(session: access.Session, card_id: str | None) -> tuple[Any, ...]:
    """Fill the edit form with a card (admins only when a password is set)."""
    access.require_admin(session, "card editing")
    card = retriever().kb.get(card_id) if card_id else None
    if card is None:
        return (None, "Pick a card first (search or browse above).", *[gr.update() for _ in FIELDS])
    values = card_to_form(card)
    return (
        card.id,
        f"Editing **{escape(card.title)}**. Change it, then press **Check** or **Save and re-index**.",
        *[values[f] for f in FIELDS],
    )


def new_card_form(session: access.Session) -> tuple[Any, ...]:
    """An empty form for a new card."""
    access.require_admin(session, "card editing")
    blank = {f: "" for f in FIELDS}
    blank["domain"], blank["level"] = "generative-ai", "intro"
    return (
        None,
        "New card: fill in the fields, then press **Check** or **Save and re-index**.",
        *[blank[f] for f in FIELDS],
    )


def _values(args: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(FIELDS, args, strict=True))


def check(session: access.Session, editing: str | None, *args: Any) -> str:
    """Validate the form without saving."""
    access.require_admin(session, "card editing")
    result = check_card(_values(args), retriever().kb, editing)
    if result.card is None:
        return "**The card needs fixing before it can be saved:**\n\n" + escape(result.message())
    return "The card passes every check. Press **Save and re-index** to add it to the knowledge base."


def save(
    session: access.Session, editing: str | None, *args: Any, progress: gr.Progress = gr.Progress()
) -> tuple[str, Any]:
    """Validate, write the card's YAML file and re-index (only the changed card is embedded)."""
    access.require_admin(session, "card editing")
    from coach.index import build_index
    from coach.knowledge import load_knowledge

    kb = retriever().kb
    result = check_card(_values(args), kb, editing)
    if result.card is None:
        return "**Not saved; the card needs fixing:**\n\n" + escape(result.message()), gr.update()
    card = result.card
    s = settings()
    path = target_path(card, s, kb, editing)
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.read_text(encoding="utf-8") if path.exists() else None
    tmp = path.with_suffix(".yaml.tmp")  # not a card file (.tmp) until it is renamed
    tmp.write_text(card_yaml(card), encoding="utf-8")
    tmp.replace(path)
    try:
        kbase = load_knowledge([*s.kb_dirs])
    except Exception as exc:  # put the folder back as it was
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(before, encoding="utf-8")
        return f"**Not saved:** {escape(str(exc))}", gr.update()
    progress(0, desc="Re-indexing the cards")

    def tick(done: int, total: int) -> None:
        progress((done, total), desc="Re-indexing the cards")

    report = build_index(s, kbase, progress=tick)
    reset_retriever()
    return (
        f"Saved **{escape(card.title)}** to `{escape(str(path))}` and re-indexed "
        f"({report.embedded} card{'s' if report.embedded != 1 else ''} embedded). It can be found in search now.",
        card_markdown(card),
    )


# --------------------------------------------------------------------------- organisation documents (admins)


def document_table() -> tuple[list[list[Any]], Any, str]:
    """The stored documents as table rows, the remove picker's choices, and a one-line summary."""
    from coach.documents import load_documents

    docs = load_documents(settings())
    rows = [[d.doc_id, d.title, d.file, len(d.passages)] for d in docs]
    picker = gr.update(choices=[(f"{d.title} ({d.doc_id})", d.doc_id) for d in docs], value=None)
    total = sum(len(d.passages) for d in docs)
    summary = (
        f"{len(docs)} document{'s' if len(docs) != 1 else ''}, {total} passage{'s' if total != 1 else ''} in search."
        if docs
        else "No organisation documents yet. Add your AI policy, handbook or guidelines so answers can quote them."
    )
    return rows, picker, summary


def list_documents(session: access.Session) -> tuple[Any, ...]:
    """The documents table (admins only when a password is set)."""
    access.require_admin(session, "organisation documents")
    return document_table()


def _reindex(progress: Any) -> str:
    """Bring the index up to date with the documents; returns what to add to the status when it could not."""
    from coach.index import IndexBusy, build_index

    progress(0, desc="Indexing the document")
    try:
        build_index(settings(), progress=lambda done, total: progress((done, total), desc="Indexing the document"))
    except IndexBusy:
        return " The index is being rebuilt by another process; the change is searchable when it finishes."
    finally:
        reset_retriever()
    return ""


def add_doc(
    session: access.Session, upload: Any, title: str | None, progress: gr.Progress = gr.Progress()
) -> tuple[Any, ...]:
    """Add (or update) an uploaded document, then re-index; a bad file changes nothing and says why."""
    access.require_admin(session, "adding documents")
    from coach.documents import add_document
    from coach.errors import InputError

    if not upload:
        return ("Choose a file first: Markdown, text, HTML, PDF or Word (.docx).", *document_table())
    path = Path(upload if isinstance(upload, str) else getattr(upload, "name", str(upload)))
    name = path.name  # the upload keeps its own name in Gradio's temporary folder
    try:
        doc, replaced = add_document(settings(), path, (title or "").strip() or None, name=name)
    except InputError as exc:
        return (f"**Not added:** `{escape(name)}` needs to be {escape(exc.expected)}. Nothing was changed.",
                *document_table())  # fmt: skip
    except OSError as exc:
        log.warning("document upload %s failed: %s", name, exc)
        return (f"**Not added:** `{escape(name)}` could not be read. Please upload it again.", *document_table())
    note = _reindex(progress)
    verb = "Updated" if replaced else "Added"
    msg = (
        f"{verb} **{escape(doc.title)}** (`{escape(doc.doc_id)}`): {len(doc.passages)} "
        f"passage{'s' if len(doc.passages) != 1 else ''}, searchable now and quoted in answers as "
        f"[doc:{escape(doc.doc_id)}].{note}"
    )
    return (msg, *document_table())


def remove_doc(session: access.Session, doc_id: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
    """Remove a document and its passages from search."""
    access.require_admin(session, "removing documents")
    from coach.documents import remove_document
    from coach.errors import InputError

    if not doc_id:
        return ("Pick a document to remove.", *document_table())
    try:
        doc = remove_document(settings(), doc_id)
    except InputError:
        return ("That document is no longer in the knowledge base.", *document_table())
    note = _reindex(progress)
    return (f"Removed **{escape(doc.title)}** and its passages from search.{note}", *document_table())


def build(session: gr.State) -> dict[str, Any]:
    """Lay out the Knowledge tab inside the current gr.Tab."""
    gr.Markdown(
        "Every plan and answer is built from these cards. Search them, browse by subject, and open one to read it."
    )
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                query = gr.Textbox(
                    label="Search the cards",
                    placeholder="e.g. drafting board papers with AI",
                    scale=3,
                    elem_id="kb-query",
                )
                mode = gr.Dropdown(MODES, value="hybrid", label="How to match", scale=1)
            with gr.Row():
                domains = gr.Dropdown(DOMAIN_CHOICES, multiselect=True, label="Only these subjects (optional)", scale=3)
                search_btn = gr.Button("Search", variant="primary", scale=1, elem_id="kb-search")
            status = gr.Markdown("")
            results = gr.Dataframe(
                headers=RESULT_HEADERS,
                datatype=["number", "str", "str", "str", "str"],
                column_widths=["6%", "46%", "28%", "10%", "10%"],
                interactive=False,
                wrap=False,
                max_height=240,
                label="Results",
                elem_id="kb-results",
            )
            with gr.Row():
                browse = gr.Dropdown([("All subjects", ""), *DOMAIN_CHOICES], value="", label="Browse by subject")
                competence = gr.Dropdown(
                    [("Any competence", ""), *competence_choices()],
                    value="",
                    label="DigComp 2.2 competence",
                    elem_id="kb-digcomp",
                )
                picker = gr.Dropdown([], label="Card", elem_id="kb-card-picker", allow_custom_value=True)
        with gr.Column(scale=2):
            card_view = gr.Markdown(view(None), elem_id="kb-card", max_height=560)
    with gr.Accordion("Add or edit a card (admins)", open=False, elem_id="kb-edit"):
        edit_status = gr.Markdown(
            "Pick a card above and press **Edit this card**, or start a **New card**. "
            "A card is checked before it is saved, then the index is updated."
        )
        editing = gr.State(None)
        with gr.Row():
            edit_btn = gr.Button("Edit this card", size="sm")
            new_btn = gr.Button("New card", size="sm")
        boxes: dict[str, Any] = {}
        with gr.Row():
            boxes["id"] = gr.Textbox(label="Id", info=HELP["id"])
            boxes["title"] = gr.Textbox(label="Title", info=HELP["title"])
            boxes["domain"] = gr.Dropdown(DOMAIN_CHOICES, value="generative-ai", label="Subject")
            boxes["level"] = gr.Dropdown(["intro", "intermediate", "advanced"], value="intro", label="Level")
        boxes["summary"] = gr.Textbox(label="Summary", info=HELP["summary"], lines=2)
        with gr.Row():
            boxes["objectives"] = gr.Textbox(label="Objectives", info=HELP["objectives"], lines=3)
            boxes["key_concepts"] = gr.Textbox(label="Key ideas", info=HELP["key_concepts"], lines=3)
        boxes["activities"] = gr.Textbox(
            label="Activities",
            info=HELP["activities"]
            + f" (formats: {', '.join(('demo', 'hands-on', 'discussion', 'reflection', 'role-play', 'exercise', 'walkthrough', 'review'))}; who leads: mentor, mentee or both)",
            lines=3,
        )
        boxes["discussion_prompts"] = gr.Textbox(
            label="Questions to discuss",
            info=HELP["discussion_prompts"] + " (who asks: mentor, mentee or both)",
            lines=3,
        )
        with gr.Row():
            boxes["pitfalls"] = gr.Textbox(label="Watch out for", info=HELP["pitfalls"], lines=2)
            boxes["pre_work"] = gr.Textbox(label="Before a session", info=HELP["pre_work"], lines=2)
        boxes["resources"] = gr.Textbox(
            label="Resources",
            info=HELP["resources"] + " (kinds: book, tool, help-page, article, course, podcast, template, report)",
            lines=2,
        )
        with gr.Row():
            boxes["prerequisites"] = gr.Textbox(label="Read first (card ids)", info=HELP["prerequisites"])
            boxes["tags"] = gr.Textbox(label="Tags", info=HELP["tags"])
        with gr.Row():
            check_btn = gr.Button("Check", variant="secondary")
            save_btn = gr.Button("Save and re-index", variant="primary")
        edit_msg = gr.Markdown("")
    with gr.Accordion("Organisation documents (admins)", open=False, elem_id="kb-docs"):
        gr.Markdown(
            "Add your organisation's own documents (AI policy, handbook, guidelines) as Markdown, text, HTML, "
            "PDF or Word (.docx). They are split into passages, found by search next to the cards, and quoted "
            "in the coach's answers with their title and page or heading. Uploading a file of the same name "
            "again updates it."
        )
        with gr.Row():
            doc_file = gr.File(label="Document", file_types=DOC_TYPES, type="filepath", elem_id="kb-doc-upload")
            with gr.Column():
                doc_title = gr.Textbox(
                    label="Title (optional)", placeholder="e.g. Acme AI policy", elem_id="kb-doc-title"
                )
                add_doc_btn = gr.Button("Add document", variant="primary", elem_id="kb-doc-add")
        doc_msg = gr.Markdown("", elem_id="kb-doc-msg")
        doc_summary = gr.Markdown("")
        doc_rows = gr.Dataframe(
            headers=DOC_HEADERS,
            datatype=["str", "str", "str", "number"],
            interactive=False,
            wrap=True,
            label="Documents",
            elem_id="kb-doc-list",
        )
        with gr.Row():
            doc_pick = gr.Dropdown([], label="Document to remove", scale=3, elem_id="kb-doc-pick")
            show_docs_btn = gr.Button("Show documents", size="sm", scale=1)
            remove_doc_btn = gr.Button("Remove document", variant="stop", size="sm", scale=1, elem_id="kb-doc-remove")
    form = [boxes[f] for f in FIELDS]
    doc_out = [doc_msg, doc_rows, doc_pick, doc_summary]
    add_doc_btn.click(add_doc, [session, doc_file, doc_title], doc_out, api_name="add_document")
    remove_doc_btn.click(remove_doc, [session, doc_pick], doc_out, api_name="remove_document")
    show_docs_btn.click(list_documents, [session], [doc_rows, doc_pick, doc_summary], api_name="list_documents")
    search_btn.click(search, [query, mode, domains], [results, picker, status], api_name="search")
    query.submit(search, [query, mode, domains], [results, picker, status], api_visibility="private")
    browse.change(cards_in, [browse, competence], picker, api_visibility="private")
    competence.change(cards_in, [browse, competence], picker, api_visibility="private")
    results.select(open_row, None, picker, api_visibility="private")
    picker.change(view, picker, card_view, api_name="view_card")
    edit_btn.click(load_into_form, [session, picker], [editing, edit_status, *form], api_name="edit_card")
    new_btn.click(new_card_form, [session], [editing, edit_status, *form], api_visibility="private")
    check_btn.click(check, [session, editing, *form], edit_msg, api_name="check_card")
    save_btn.click(save, [session, editing, *form], [edit_msg, card_view], api_name="save_card")
    return {"picker": picker, "card_view": card_view, "browse": browse, "competence": competence}
