"""Organisation documents (SPEC.md section 12): read, split into passages with a locator, store.

A document (Markdown, plain text, HTML, PDF or Word .docx) is read and split by headings (Markdown,
HTML, .docx), pages (PDF) or paragraphs (plain text) into passages, each with a locator such as
"page 3" or "Using AI tools". The passages are kept as JSON under `$COACH_HOME/documents/`, next to
a copy of the file, and indexed beside the cards by `coach.index` (unit ids `doc:DOC_ID:N`).
Any bad file (empty, encrypted or broken PDF, unknown type, over 20 MB) raises InputError before
anything is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import InputError

if TYPE_CHECKING:
    from coach.config import Settings

#: The largest document accepted.
MAX_BYTES = 20 * 1024 * 1024
#: Words per passage at most (MiniLM reads about 256 word pieces); longer sections are cut in parts.
PASSAGE_WORDS = 180
SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".html": "html",
            ".htm": "html", ".pdf": "pdf", ".docx": "docx"}  # fmt: skip
UNIT_PREFIX = "doc:"
CATALOGUE = "documents.json"


@dataclass(frozen=True)
class Passage:
    """One searchable piece of a document."""

    doc_id: str
    number: int
    locator: str
    text: str

    @property
    def unit_id(self) -> str:
        """The passage's id in the index."""
        return f"{UNIT_PREFIX}{self.doc_id}:{self.number}"


@dataclass
class Document:
    """A stored document: its id, title, original file name and passages."""

    doc_id: str
    title: str
    file: str
    source: str
    sha256: str
    passages: list[Passage]

    def summary(self) -> dict[str, Any]:
        """The `coach kb docs --format json` row (SPEC.md section 12)."""
        return {"doc_id": self.doc_id, "title": self.title, "file": self.file, "passages": len(self.passages)}


# --------------------------------------------------------------------------- reading


def _sections_from_lines(lines: list[tuple[str | None, str]]) -> list[tuple[str, str]]:
    """Group (heading or None, text) lines into (locator, text) sections; text before any heading is 'start'."""
    sections: list[tuple[str, list[str]]] = []
    for heading, text in lines:
        if heading is not None:
            sections.append((heading, []))
        else:
            if not sections:
                sections.append(("start", []))
            sections[-1][1].append(text)
    return [(loc, " ".join(t for t in texts if t.strip())) for loc, texts in sections]


def _markdown(text: str) -> list[tuple[str, str]]:
    lines: list[tuple[str | None, str]] = []
    for line in text.splitlines():
        match = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        lines.append((match[1] or "untitled", "") if match else (None, line.strip()))
    return _sections_from_lines(lines)


def _plain(text: str) -> list[tuple[str, str]]:
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    return [(f"paragraph {i}", " ".join(b.split())) for i, b in enumerate(blocks, 1)]


def _html(text: str) -> list[tuple[str, str]]:
    from html.parser import HTMLParser

    lines: list[tuple[str | None, str]] = []

    class Reader(HTMLParser):
        heading: list[str] | None = None
        skip = 0

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag in {"script", "style"}:
                self.skip += 1
            elif re.fullmatch(r"h[1-6]", tag):
                self.heading = []

        def handle_endtag(self, tag: str) -> None:
            if tag in {"script", "style"}:
                self.skip = max(0, self.skip - 1)
            elif re.fullmatch(r"h[1-6]", tag) and self.heading is not None:
                lines.append((" ".join(" ".join(self.heading).split()) or "untitled", ""))
                self.heading = None

        def handle_data(self, data: str) -> None:
            if self.skip:
                return
            if self.heading is not None:
                self.heading.append(data)
            elif data.strip():
                lines.append((None, " ".join(data.split())))

    Reader(convert_charrefs=True).feed(text)
    return _sections_from_lines(lines)


def _pdf(path: Path, shown: str) -> list[tuple[str, str]]:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:  # pragma: no cover - pypdf is a dependency
        raise InputError(shown, "", "pypdf installed to read PDF files") from None
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise InputError(shown, "", "a PDF that is not encrypted (save an unprotected copy and add that)")
        return [(f"page {i}", " ".join((page.extract_text() or "").split())) for i, page in enumerate(reader.pages, 1)]
    except InputError:
        raise
    except (PdfReadError, Exception) as exc:  # pypdf raises many kinds of error on a damaged file
        raise InputError(shown, "", f"a readable PDF, but it is damaged ({str(exc).splitlines()[0][:120]})") from None


def _docx(path: Path, shown: str) -> list[tuple[str, str]]:
    try:
        import docx

        doc = docx.Document(str(path))
    except Exception as exc:
        raise InputError(shown, "", f"a Word .docx file, but it cannot be read ({str(exc)[:120]})") from None
    lines: list[tuple[str | None, str]] = []
    for para in doc.paragraphs:
        style = (para.style.name if para.style is not None else "") or ""
        text = " ".join(para.text.split())
        if style.lower().startswith(("heading", "title")) and text:
            lines.append((text, ""))
        elif text:
            lines.append((None, text))
    for table in doc.tables:
        for row in table.rows:
            lines.append((None, " | ".join(" ".join(c.text.split()) for c in row.cells)))
    return _sections_from_lines(lines)


def read_sections(path: Path, shown: str | None = None) -> list[tuple[str, str]]:
    """Read a document into (locator, text) sections; raises InputError for a file that cannot be added."""
    shown = shown or str(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(shown, "", f"a Markdown, text, HTML, PDF or .docx file ({', '.join(sorted(SUFFIXES))})")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(shown, "", f"a readable file ({exc.strerror or exc})") from None
    if not path.is_file():
        raise InputError(shown, "", "a file, not a folder")
    if size > MAX_BYTES:
        raise InputError(shown, "", f"a file of at most 20 MB, got {size / 1024 / 1024:.1f} MB")
    if size == 0:
        raise InputError(shown, "", "a document with some text, but the file is empty")
    if kind == "pdf":
        sections = _pdf(path, shown)
    elif kind == "docx":
        sections = _docx(path, shown)
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(shown, "", "a UTF-8 text file") from None
        sections = {"markdown": _markdown, "text": _plain, "html": _html}[kind](text)
    sections = [(loc[:120], text) for loc, text in sections if text.strip()]
    if not sections:
        raise InputError(shown, "", "a document with some text, but none could be read from it")
    return sections


def split_passages(doc_id: str, sections: list[tuple[str, str]]) -> list[Passage]:
    """Cut sections into passages of at most PASSAGE_WORDS words; a cut section's parts share its locator."""
    out: list[Passage] = []
    for locator, text in sections:
        words = text.split()
        for start in range(0, len(words), PASSAGE_WORDS):
            out.append(Passage(doc_id, len(out), locator, " ".join(words[start : start + PASSAGE_WORDS])))
    return out


def slug(text: str) -> str:
    """A document id from a file name: lower case letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "document"


# --------------------------------------------------------------------------- the store


def docs_dir(settings: Settings) -> Path:
    """Where documents are kept: `$COACH_HOME/documents`."""
    return settings.home / "documents"


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def load_documents(settings: Settings) -> list[Document]:
    """Every stored document, in id order (none when nothing was added)."""
    path = docs_dir(settings) / CATALOGUE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    docs = []
    for row in data.get("documents", []):
        passages = [Passage(**p) for p in row["passages"]]
        docs.append(Document(row["doc_id"], row["title"], row["file"], row["source"], row["sha256"], passages))
    return sorted(docs, key=lambda d: d.doc_id)


def _save(settings: Settings, docs: list[Document]) -> None:
    from coach.config import private_dir

    private_dir(settings.home)
    private_dir(docs_dir(settings))
    rows = [{**asdict(d), "passages": [asdict(p) for p in d.passages]} for d in docs]
    _write_json(docs_dir(settings) / CATALOGUE, {"documents": rows})


def add_document(
    settings: Settings, path: Path, title: str | None = None, name: str | None = None
) -> tuple[Document, bool]:
    """Read, split and store a document; the same file added again replaces its passages.

    Args:
        settings: Where `$COACH_HOME` is.
        path: The document file.
        title: Its title (default: the file name without its extension).
        name: The file's own name when `path` is a temporary copy (an upload in the app): the document
            is then known by that name, so uploading it again updates it.

    Returns:
        The stored document and whether it replaced an earlier version.

    Raises:
        InputError: The file cannot be added (nothing is written then).
    """
    shown = name or str(path)
    if title is not None and not title.strip():
        raise InputError(shown, "--title", "a non-empty title")
    own = Path(Path(name).name) if name else path
    if name and own.suffix.lower() != path.suffix.lower():
        raise InputError(shown, "", f"a file whose name ends in {path.suffix or 'a known extension'}")
    sections = read_sections(path, shown)
    source = f"upload:{own.name}" if name else str(path.resolve())
    docs = load_documents(settings)
    previous = next((d for d in docs if d.source == source), None)
    if previous is not None:
        doc_id = previous.doc_id
    else:
        base = slug(own.stem)
        taken = {d.doc_id for d in docs}
        doc_id = base
        n = 2
        while doc_id in taken:
            doc_id = f"{base}-{n}"
            n += 1
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    doc = Document(
        doc_id,
        " ".join((title or (previous.title if previous and title is None else own.stem)).split())[:200],
        own.name,
        source,
        digest,
        split_passages(doc_id, sections),
    )
    folder = docs_dir(settings)
    _save(settings, [*(d for d in docs if d.doc_id != doc_id), doc])
    shutil.copyfile(path, folder / f"{doc_id}{path.suffix.lower()}")
    return doc, previous is not None


def remove_document(settings: Settings, doc_id: str) -> Document:
    """Remove a stored document; raises InputError naming the id when there is none."""
    docs = load_documents(settings)
    doc = next((d for d in docs if d.doc_id == doc_id), None)
    if doc is None:
        known = ", ".join(d.doc_id for d in docs) or "none added yet"
        raise InputError("DOC_ID", "doc_id", f"the id of an added document ({known}), got {doc_id!r}")
    _save(settings, [d for d in docs if d.doc_id != doc_id])
    for copy in docs_dir(settings).glob(f"{doc_id}.*"):
        copy.unlink(missing_ok=True)
    return doc


def passage_index(settings: Settings) -> dict[str, tuple[Document, Passage]]:
    """Every stored passage by its index unit id."""
    return {p.unit_id: (d, p) for d in load_documents(settings) for p in d.passages}


def passage_text(doc: Document, passage: Passage) -> str:
    """What the index embeds and BM25 reads for one passage."""
    return f"{doc.title}. {passage.locator}. {passage.text}"
