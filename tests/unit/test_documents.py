"""Organisation documents (SPEC.md section 12): Markdown, PDF and .docx added, found, updated, removed; bad files refused."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from cardgen import write_cards
from click.testing import CliRunner

from coach.cli import cli
from coach.config import Settings, load_settings
from coach.documents import add_document, load_documents, read_sections, remove_document
from coach.errors import InputError
from coach.index import build_index
from coach.kb_cli import hit_row
from coach.retrieval import DocHit, get_retriever


def make_pdf(path: Path, pages: list[str]) -> Path:
    """A minimal valid PDF, one line of Helvetica text per page, with a correct cross-reference table."""
    n = len(pages)
    objects = ["<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 40 700 Td ({text}) Tj ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(out)
    return path


def make_docx(path: Path, sections: dict[str, str]) -> Path:
    """A Word file with one Heading 1 and one paragraph per section."""
    import docx

    doc = docx.Document()
    for heading, text in sections.items():
        doc.add_heading(heading, level=1)
        doc.add_paragraph(text)
    doc.save(str(path))
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A home of its own and a three-card knowledge base (fast to embed)."""
    kb = tmp_path / "kb"
    write_cards(kb, 3)
    return dataclasses.replace(load_settings(), kb_dirs=(kb,), home=tmp_path / "home")


def doc_hits(settings: Settings, question: str) -> list[DocHit]:
    """The document passages among the top 3 hits of the same hybrid search the CLI runs."""
    hits = get_retriever(settings).search_all(question, k=3)
    return [h for h in hits if isinstance(h, DocHit)]


def test_markdown_pdf_and_docx_found_updated_removed(tmp_path: Path, settings: Settings) -> None:
    md = tmp_path / "ai-policy.md"
    md.write_text(
        "# Acme AI policy\n\nWhy we have one.\n\n## Approved tools\n\n"
        "Only Copilot Enterprise is approved; the kestrel register lists every exception.\n\n"
        "## Incidents\n\nReport a leak to the lighthouse desk within one day.\n",
        encoding="utf-8",
    )
    pdf = make_pdf(tmp_path / "travel.pdf", ["Travel rules overview", "Taxi receipts go to the marmot mailbox"])
    word = make_docx(
        tmp_path / "handbook.docx",
        {"Onboarding": "New starters meet the walrus buddy in week one.", "Leave": "Holidays are booked in Tempo."},
    )
    for path in (md, pdf, word):
        add_document(settings, path)
    build_index(settings)
    found = doc_hits(settings, "what is the kestrel register for approved tools")
    assert found and (found[0].doc_id, found[0].locator) == ("ai-policy", "Approved tools")
    found = doc_hits(settings, "where do taxi receipts go, the marmot mailbox")
    assert found and (found[0].doc_id, found[0].locator) == ("travel", "page 2")
    found = doc_hits(settings, "who is the walrus buddy new starters meet")
    assert found and (found[0].doc_id, found[0].locator) == ("handbook", "Onboarding")
    row = hit_row(found[0])
    assert row["kind"] == "doc" and row["topic_id"] is None and row["doc_id"] == "handbook"
    assert row["strength"] in {"strong", "partial", "weak"}
    # Card-only search (plans, evals) never sees document passages.
    assert all(h.kind == "card" for h in get_retriever(settings).search("walrus buddy new starters", k=5))

    # The same file again, changed: its old passages are gone, the new ones found.
    md.write_text(
        "# Acme AI policy\n\n## Approved tools\n\nThe osprey list replaced the old register.\n", encoding="utf-8"
    )
    doc, replaced = add_document(settings, md)
    assert replaced and doc.doc_id == "ai-policy" and len(doc.passages) == 1
    report = build_index(settings)
    assert report.removed >= 1 and report.embedded == 1
    assert [d.doc_id for d in load_documents(settings)] == ["ai-policy", "handbook", "travel"]
    assert all(
        "kestrel" not in h.text
        for h in get_retriever(settings).search_all("kestrel register", k=20)
        if isinstance(h, DocHit)
    )
    found = doc_hits(settings, "what did the osprey list replace")
    assert found and found[0].doc_id == "ai-policy"

    remove_document(settings, "handbook")
    build_index(settings)
    hits = get_retriever(settings).search_all("walrus buddy new starters", k=20)
    assert all(not isinstance(h, DocHit) or h.doc_id != "handbook" for h in hits)
    with pytest.raises(InputError, match="handbook"):
        remove_document(settings, "handbook")


def test_cli_lists_documents_and_refuses_bad_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("COACH_HOME", str(home))
    runner = CliRunner()
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    unknown = tmp_path / "notes.xyz"
    unknown.write_text("hello", encoding="utf-8")
    blank_pdf = make_pdf(tmp_path / "blank.pdf", [""])
    for bad in (broken, empty, unknown, blank_pdf):
        result = runner.invoke(cli, ["kb", "add-doc", str(bad)])
        assert result.exit_code == 2, (bad, result.output)
        assert str(bad) in result.output and "Traceback" not in result.output
    assert not (home / "documents").exists() or load_documents(load_settings()) == []
    result = runner.invoke(cli, ["kb", "docs", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.output) == []
    result = runner.invoke(cli, ["kb", "remove-doc", "nothing-here"])
    assert result.exit_code == 2 and "nothing-here" in result.output


def test_encrypted_and_oversized_files_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(tmp_path / "plain.pdf", ["secret plans"])
    writer = PdfWriter()
    for page in PdfReader(str(plain)).pages:
        writer.add_page(page)
    writer.encrypt("pw")
    locked = tmp_path / "locked.pdf"
    with open(locked, "wb") as fh:
        writer.write(fh)
    with pytest.raises(InputError, match="encrypted"):
        read_sections(locked)
    monkeypatch.setattr("coach.documents.MAX_BYTES", 10)
    with pytest.raises(InputError, match="20 MB"):
        read_sections(plain)


def test_sections_have_locators(tmp_path: Path) -> None:
    html = tmp_path / "page.html"
    html.write_text(
        "<html><style>p{}</style><h1>Expenses</h1><p>Claim within 30 days.</p><h2>Travel</h2><p>Book via Navan.</p>",
        encoding="utf-8",
    )
    assert read_sections(html) == [("Expenses", "Claim within 30 days."), ("Travel", "Book via Navan.")]
    txt = tmp_path / "notes.txt"
    txt.write_text("First paragraph.\n\nSecond\nparagraph.", encoding="utf-8")
    assert read_sections(txt) == [("paragraph 1", "First paragraph."), ("paragraph 2", "Second paragraph.")]
