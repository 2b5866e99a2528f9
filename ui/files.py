"""Download files: each export is written to a private temporary folder, and only those are served.

The app never hands Gradio a path under `$COACH_HOME` (index, database) or the working directory:
exports are rendered in memory and written to a fresh folder from `tempfile.mkdtemp`, one per
request, which Gradio then copies to its upload cache to serve. The folders are removed when the
process exits.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import threading
from pathlib import Path

_lock = threading.Lock()
_root: Path | None = None


def export_root() -> Path:
    """The process's private folder for export files (created on first use, removed at exit)."""
    global _root
    with _lock:
        if _root is None:
            _root = Path(tempfile.mkdtemp(prefix="coach-ui-exports-"))
            atexit.register(shutil.rmtree, _root, True)
        return _root


def slug(text: str, default: str = "plan") -> str:
    """A safe file-name part: lowercase letters, digits and dashes."""
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out[:60] or default


def write_export(name: str, data: bytes | str) -> str:
    """Write one export file into a fresh private folder; returns its path for a gr.File output.

    Args:
        name: File name (already safe, e.g. from `slug`), with its extension.
        data: The file's content.
    """
    folder = Path(tempfile.mkdtemp(dir=export_root()))
    path = folder / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return str(path)
