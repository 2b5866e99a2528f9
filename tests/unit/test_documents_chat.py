"""Organisation documents in chat (issue 16): each added document answers the question only it answers, cited.

A Markdown, a PDF and a .docx document are added with `coach kb add-doc` beside the shipped cards;
`coach ask --format json` must then quote each one's passage for its own question and cite it as
`[doc:DOC_ID]`, keep card citations working, update it when it is added again changed, forget it
once removed, and refuse a broken PDF with exit 2. Search-level checks live in test_documents.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fakeserver import FakeOpenAI, data_block, provider, text, use_server
from test_documents import make_docx, make_pdf

from coach.cli import cli
from coach.config import load_settings
from coach.knowledge import load_knowledge
from coach.retrieval import DocHit, get_retriever

SPEC_FIELDS = {"answer", "cards", "covered", "intent"}

AI_POLICY = """# Acme AI policy

Why Acme has an AI policy, and who it applies to: everyone who works for Acme.

## Approved tools

Staff may use Microsoft Copilot Enterprise for company work. Customer data never goes into the free
public ChatGPT website. Any other AI tool needs written approval from the Kestrel review board first.

## Reporting a mistake

If confidential data went into an unapproved AI tool, tell the service desk the same day.
"""

AI_POLICY_CHANGED = """# Acme AI policy

## Approved tools

From January the only approved assistant is Gemini for Workspace. The Osprey panel approves any exception.
"""


def run(runner: CliRunner, *args: str, code: int = 0) -> Any:
    """Run a `coach` command and check its exit code; returns the result."""
    result = runner.invoke(cli, list(args))
    assert result.exit_code == code, (args, result.output)
    return result


def ask(runner: CliRunner, question: str) -> dict[str, Any]:
    """`coach ask QUESTION --format json`, parsed."""
    return json.loads(run(runner, "ask", question, "--format", "json").stdout)


def doc_ids(answer: dict[str, Any]) -> list[str]:
    """The documents an answer cites in its text, in order."""
    return list(dict.fromkeys(re.findall(r"\[doc:([a-z0-9-]+)\]", answer["answer"])))


def check_card_citations(answer: dict[str, Any]) -> None:
    """Every [card-id] in the text is a real card the answer lists, and every listed card is cited."""
    kb = load_knowledge(load_settings().kb_dirs)
    cited = re.findall(r"\[([a-z0-9]+(?:-[a-z0-9]+)+)\]", answer["answer"])
    assert set(cited) == set(answer["cards"]), answer
    assert all(kb.get(c) is not None for c in cited)


@pytest.fixture
def documents(writable_index_home: Path, tmp_path: Path) -> dict[str, Path]:
    """The shipped cards (indexed) plus three organisation documents added through the CLI."""
    files = {"ai-policy": tmp_path / "ai-policy.md"}
    files["ai-policy"].write_text(AI_POLICY, encoding="utf-8")
    files["travel"] = make_pdf(
        tmp_path / "travel.pdf",
        ["Acme travel and expenses policy", "Taxi receipts are uploaded to the Marmot expenses portal within 30 days."],
    )
    files["handbook"] = make_docx(
        tmp_path / "handbook.docx",
        {
            "Onboarding": "Every new starter is given a Walrus buddy from another team for their first six weeks.",
            "Annual leave": "Holidays are requested in the Tempo app at least two weeks ahead.",
        },
    )
    runner = CliRunner()
    for doc_id, path in files.items():
        out = run(runner, "kb", "add-doc", str(path)).stdout
        assert out.startswith(f"added {doc_id}:"), out
    return files


QUESTIONS = [
    # (question, the document that alone answers it, its locator, a fact only that passage states)
    ("Which AI tools does our AI policy approve for company work?", "ai-policy", "Approved tools", "Kestrel"),
    ("Where do I upload taxi receipts after a business trip?", "travel", "page 2", "Marmot"),
    ("How long do new starters keep their Walrus buddy?", "handbook", "Onboarding", "six weeks"),
]


def test_each_document_answers_its_own_question_cited(documents: dict[str, Path]) -> None:
    runner = CliRunner()
    listed = json.loads(run(runner, "kb", "docs", "--format", "json").stdout)
    assert {r["doc_id"]: r["passages"] for r in listed} == {"ai-policy": 3, "handbook": 2, "travel": 2}

    for question, doc_id, locator, fact in QUESTIONS:
        answer = ask(runner, question)
        assert set(answer) >= SPEC_FIELDS, answer
        assert answer["covered"] is True, (question, answer["answer"])
        assert doc_ids(answer) == [doc_id], (question, answer["answer"])
        assert answer["documents"][0] == {"doc_id": doc_id, "title": doc_id, "locator": locator}
        assert fact in answer["answer"], (question, answer["answer"])  # the passage is quoted, not just named
        assert locator in answer["answer"]
        check_card_citations(answer)

    # A question the cards answer and no document touches cites cards only; one nothing covers is refused.
    phishing = ask(runner, "How can I spot a phishing email?")
    assert phishing["covered"] and phishing["cards"] and phishing["documents"] == [] and not doc_ids(phishing)
    check_card_citations(phishing)
    lasagne = ask(runner, "What is the best recipe for lasagne?")
    assert lasagne["covered"] is False and lasagne["documents"] == [] and lasagne["cards"] == []


def test_changed_document_replaces_old_passages_and_removed_one_is_gone(documents: dict[str, Path]) -> None:
    runner = CliRunner()
    documents["ai-policy"].write_text(AI_POLICY_CHANGED, encoding="utf-8")
    out = run(runner, "kb", "add-doc", str(documents["ai-policy"])).stdout
    assert out.startswith("updated ai-policy:") and out.rstrip().endswith("1 passage")

    answer = ask(runner, "Which AI tools does our AI policy approve for company work?")
    assert doc_ids(answer) == ["ai-policy"], answer["answer"]
    assert "Gemini for Workspace" in answer["answer"] and "Kestrel" not in answer["answer"]
    retriever = get_retriever(load_settings())
    assert [u for u in retriever.ids if u.startswith("doc:ai-policy:")] == ["doc:ai-policy:0"]
    # BM25 would rank an old passage naming the board first; only the new one is left to find.
    found = [h for h in retriever.search_all("Kestrel review board", k=10, mode="bm25") if isinstance(h, DocHit)]
    assert all("Kestrel" not in h.text and "service desk" not in h.text for h in found)
    assert any("Osprey" in h.text for h in retriever.search_all("Osprey panel exception", k=3) if isinstance(h, DocHit))

    run(runner, "kb", "remove-doc", "travel")
    answer = ask(runner, "Where do I upload taxi receipts after a business trip?")
    assert "travel" not in doc_ids(answer) and "Marmot" not in answer["answer"]
    assert all(d["doc_id"] != "travel" for d in answer["documents"])

    broken = documents["travel"].with_name("broken.pdf")
    broken.write_bytes(documents["travel"].read_bytes()[:200])
    result = run(runner, "kb", "add-doc", str(broken), code=2)
    assert str(broken) in result.output and "Traceback" not in result.output
    listed = json.loads(run(runner, "kb", "docs", "--format", "json").stdout)
    assert [r["doc_id"] for r in listed] == ["ai-policy", "handbook"]


def test_model_sees_the_passage_and_keeps_only_real_document_citations(
    documents: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.chat import ChatContext
    from coach.chat import ask as chat_ask

    question = QUESTIONS[1][0]
    with FakeOpenAI() as server:
        use_server(monkeypatch, server)
        server.push(text("Upload them to the Marmot portal within 30 days [doc:travel] [doc:made-up].\n"))
        answer = chat_ask(question, ChatContext(get_retriever(load_settings())), provider())
        sent = data_block(server.requests[0], "documents")
    assert "Marmot expenses portal" in sent and '"doc:travel"' in sent
    assert "[doc:travel]" in answer.text and "made-up" not in answer.text
    assert [d["doc_id"] for d in answer.documents] == ["travel"]


def test_a_long_passage_is_quoted_by_the_sentences_that_answer() -> None:
    from coach.doc_answers import QUOTE_WORDS, quote

    filler = " ".join(f"Clause {i} covers general matters of office life in some detail." for i in range(20))
    text = f"{filler} Taxi receipts go to the Marmot portal within 30 days. Hotels need a receipt too. {filler}"
    # The sentences sharing the question's words ("receipt" twice), and none of the clauses around them.
    answer = quote(text, "where do taxi receipts go?")
    assert answer == "Taxi receipts go to the Marmot portal within 30 days. Hotels need a receipt too."
    opening = quote(text, "lasagne")  # nothing shared: the passage's opening, whole sentences
    assert opening.startswith("Clause 0 covers") and opening.endswith(".") and len(opening.split()) <= QUOTE_WORDS
    assert quote("Short passage.", "anything") == "Short passage."


def test_a_plan_session_lists_the_documents_it_draws_on(documents: dict[str, Path], tmp_path: Path) -> None:
    """SPEC.md section 12: the session on responsible AI use lists the AI policy; citations stay cards only."""
    pair = tmp_path / "pair.yaml"
    pair.write_text(
        "mentor: {name: Priya Shah, role: Data Analyst, strengths: [ChatGPT]}\n"
        "mentee: {name: Robert Klein, role: CFO, goals: [know which AI tools are approved for company work]}\n"
        "program: {sessions: 3, minutes: 45, cadence: biweekly, start: 2027-03-01}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    plan = json.loads(run(runner, "plan", "--pair", str(pair), "--format", "json").stdout)
    listed = {d["doc_id"]: (s["number"], d) for s in plan["sessions"] for d in s["documents"]}
    assert "ai-policy" in listed, [s["topics"] for s in plan["sessions"]]
    assert set(listed) <= {"ai-policy"}  # the travel and handbook documents have nothing to do with it
    number, doc = listed["ai-policy"]
    assert doc == {"doc_id": "ai-policy", "title": "ai-policy", "locator": doc["locator"]} and doc["locator"]
    session = plan["sessions"][number - 1]
    assert all(not c["topic_id"].startswith("doc") for c in session["citations"])
    markdown = run(runner, "plan", "--pair", str(pair)).stdout
    assert "Your organisation's documents:* ai-policy" in markdown and "[doc:ai-policy]" in markdown
