"""One bounded CSV reader for every table a user uploads: rosters, people files and assessments.

`read_text` opens the file (UTF-8, size bounded by coach.limits); `rows` checks the header (known
columns, required ones, each once) and returns each non-blank row as a dict with the line it starts
on, so a cell spread over several lines is still named by its first. Row problems (a wrong number of
cells, malformed CSV) come back as errors for the caller to report with its own, all at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from coach.errors import InputError, InputErrors


def read_text(path: str | Path, what: str) -> str:
    """The text of a CSV file, or InputError naming it (missing, too large, not UTF-8)."""
    from coach.limits import check_csv

    file = Path(path)
    shown = str(path)
    if not file.is_file():
        raise InputError(shown, "", f"{what}, but it does not exist")
    check_csv(0, file.stat().st_size, shown)
    try:
        return file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(shown, "", "a UTF-8 text CSV file") from None


def rows(
    text: str, shown: str, columns: Sequence[str], required: Sequence[str]
) -> tuple[list[tuple[int, dict[str, str]]], list[InputError]]:
    """(line, {column: cell}) per non-blank row, and the row errors found; a bad header raises InputErrors.

    Args:
        text: The CSV text (bounded in rows and bytes by coach.limits).
        shown: The file as named in messages.
        columns: Every column the file may have (header names are compared lower-cased).
        required: The columns it must have.
    """
    import csv

    from coach.limits import check_csv

    lines = text.splitlines(keepends=True)
    check_csv(len(lines), len(text), shown)
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError(shown, "line 1", f"a header row with the columns {', '.join(required)}") from None
    except csv.Error as exc:
        raise InputError(f"{shown} line 1", "", f"well-formed CSV ({exc})") from None
    errors = [
        InputError(f"{shown} line 1", h or "(empty)", f"a known column ({', '.join(columns)})")
        for h in header
        if h not in columns
    ]
    errors += [
        InputError(f"{shown} line 1", h, "a required column, but the header lacks it")
        for h in required
        if h not in header
    ]
    errors += [
        InputError(f"{shown} line 1", h, "each column once, but it appears more than once")
        for h in sorted({h for h in header if header.count(h) > 1})
    ]
    if errors:
        raise InputErrors(errors)
    out: list[tuple[int, dict[str, str]]] = []
    line = reader.line_num + 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                where = f"{shown} line {start}"
                errors.append(InputError(where, "", f"{len(header)} cells like the header, got {len(cells)}"))
                continue
            out.append((start, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        errors.append(InputError(f"{shown} line {reader.line_num}", "", f"well-formed CSV ({exc})"))
    return out, errors
