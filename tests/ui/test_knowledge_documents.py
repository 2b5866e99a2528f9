"""Knowledge tab, organisation documents: an admin adds and removes them, everyone finds them in search."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from ui import access, knowledge_tab
from ui.common import reset_retriever


def no_progress(*args: object, **kwargs: object) -> None:
    """Stands in for gr.Progress outside a request."""


@pytest.fixture
def tab(writable_index_home: Path) -> object:
    """The Knowledge tab's handlers over a private copy of the indexed cards, no admin password set."""
    reset_retriever()
    yield knowledge_tab
    reset_retriever()


def test_admin_adds_lists_searches_and_removes_a_document(tab: object, tmp_path: Path) -> None:
    upload = tmp_path / "upload-1234" / "expenses-policy.md"  # Gradio keeps the file's own name
    upload.parent.mkdir()
    upload.write_text(
        "# Expenses\n\n## Taxis\n\nTaxi receipts go to the Marmot expenses portal within 30 days.\n\n"
        "## Hotels\n\nHotels are booked through the Heron travel desk.\n",
        encoding="utf-8",
    )
    admin = access.Session()
    msg, rows, _picker, summary = knowledge_tab.add_doc(admin, str(upload), "Expenses policy", no_progress)
    assert msg.startswith("Added **Expenses policy**") and "2 passages" in msg, msg
    assert rows == [["expenses-policy", "Expenses policy", "expenses-policy.md", 2]]
    assert summary.startswith("1 document, 2 passages")

    # Anyone searching finds the passage, labelled as a document with its heading, and can open it.
    results, picker, status = knowledge_tab.search("where do taxi receipts go", "hybrid", [])
    doc_rows = [r for r in results if r[2] == knowledge_tab.DOCUMENT]
    assert doc_rows and doc_rows[0][1] == "Expenses policy, Taxis" and doc_rows[0][4] == "doc:expenses-policy:0"
    assert "document passage" in status and ("Expenses policy, Taxis", "doc:expenses-policy:0") in picker["choices"]
    shown = knowledge_tab.view(doc_rows[0][4])
    assert "Marmot expenses portal" in shown and "Taxis" in shown and "[doc:expenses-policy]" in shown
    # A subject filter leaves documents out.
    filtered, _, _ = knowledge_tab.search("where do taxi receipts go", "hybrid", ["digital-workflow"])
    assert all(r[2] != knowledge_tab.DOCUMENT for r in filtered)

    # The same name uploaded again (from another temporary folder) updates it.
    again = tmp_path / "upload-5678" / "expenses-policy.md"
    again.parent.mkdir()
    again.write_text("# Expenses\n\n## Taxis\n\nTaxis are paid with the company card only.\n", encoding="utf-8")
    msg, rows, _, _ = knowledge_tab.add_doc(admin, str(again), "", no_progress)
    assert msg.startswith("Updated **Expenses policy**") and rows[0][3] == 1

    msg, rows, _, summary = knowledge_tab.remove_doc(admin, "expenses-policy", no_progress)
    assert msg.startswith("Removed **Expenses policy**") and rows == [] and "No organisation documents" in summary
    results, _, _ = knowledge_tab.search("taxi company card", "hybrid", [])
    assert all(r[2] != knowledge_tab.DOCUMENT for r in results)


def test_bad_files_get_a_clear_message_and_change_nothing(tab: object, tmp_path: Path) -> None:
    admin = access.Session()
    broken = tmp_path / "policy.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    unknown = tmp_path / "notes.xyz"
    unknown.write_text("hello", encoding="utf-8")
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    for bad, words in ((broken, "damaged"), (unknown, "Markdown, text, HTML, PDF or .docx"), (empty, "empty")):
        msg, rows, _, _ = knowledge_tab.add_doc(admin, str(bad), "", no_progress)
        assert msg.startswith(f"**Not added:** `{bad.name}`") and words in msg and "Nothing was changed" in msg, msg
        assert rows == []
    msg, _, _, _ = knowledge_tab.add_doc(admin, None, "", no_progress)
    assert msg.startswith("Choose a file first")


def test_participants_cannot_change_documents(tab: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COACH_ADMIN_PASSWORD", "correct horse battery staple")
    doc = tmp_path / "policy.md"
    doc.write_text("# Policy\n\nSome text.\n", encoding="utf-8")
    with pytest.raises(gr.Error, match="admin"):
        knowledge_tab.add_doc(access.Session(), str(doc), "", no_progress)
    with pytest.raises(gr.Error, match="admin"):
        knowledge_tab.remove_doc(access.Session(), "policy", no_progress)
    with pytest.raises(gr.Error, match="admin"):
        knowledge_tab.list_documents(access.Session())
