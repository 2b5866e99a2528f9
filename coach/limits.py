"""Every input limit in one place: lengths, counts, file sizes and YAML shape."""

from __future__ import annotations

#: Names of people (mentor, mentee, people-file entries).
NAME_CHARS = 120
#: Job titles.
ROLE_CHARS = 120
#: One goal or one strength, as free text.
GOAL_CHARS = 300
#: Goals a mentee may list.
GOALS_MAX = 12
#: Strengths a mentor may list.
STRENGTHS_MAX = 20
#: A chat question.
QUESTION_CHARS = 2_000
#: A revision instruction ("push everything back two weeks").
INSTRUCTION_CHARS = 1_000
#: One text field of a card (summary, description, meaning ...).
CARD_FIELD_CHARS = 4_000
#: Items in one list field of a card.
CARD_LIST_MAX = 40
#: A YAML file read from disk or uploaded (pair, people, card).
YAML_FILE_BYTES = 256 * 1024
#: A plan JSON file read from disk (`coach revise --plan`, `coach eval --plan`, `coach ask --plan`).
PLAN_FILE_BYTES = 2 * 1024 * 1024
#: Nesting of mappings and sequences in a YAML file.
YAML_DEPTH = 12
#: Nodes (scalars, mappings, sequences) in one YAML file.
YAML_NODES = 50_000
#: Lines in a CSV roster or people file.
CSV_ROWS = 5_000
#: A CSV roster or people file on disk.
CSV_BYTES = 10 * 1024 * 1024
#: An uploaded file of any kind (the server-wide cap Gradio enforces).
UPLOAD_BYTES = 1024 * 1024
#: How much of an offending value an error message quotes.
EXCERPT_CHARS = 60


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A short, printable quotation of a value for an error message."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 4 * limit:
        text = text[: 4 * limit]
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return repr(text) if isinstance(value, str) else text


def table() -> list[tuple[str, int]]:
    """Every limit with its value, for the docs and the closing note."""
    return [(k, v) for k, v in globals().items() if k.isupper() and isinstance(v, int)]


def check_csv(text_lines: int, size: int, shown: str) -> None:
    """Refuse a CSV file with more rows or bytes than the limits; raises InputError naming it."""
    from coach.errors import InputError

    if size > CSV_BYTES:
        raise InputError(shown, "", f"a CSV file of at most {CSV_BYTES // (1024 * 1024)} MB (got {size:,} bytes)")
    if text_lines > CSV_ROWS + 1:
        raise InputError(shown, "", f"at most {CSV_ROWS:,} rows after the header (got {text_lines - 1:,})")
