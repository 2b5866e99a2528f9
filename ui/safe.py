"""Make card, user and model text safe to show: no HTML from it reaches the page.

Text from a card, a pair file or a model answer is treated as data. Before it is handed to a
Markdown component, every `<`, `>` and `&` is turned into an HTML entity, so `<script>`,
`<img onerror=...>` and the like are shown as text and never parsed as tags. Markdown link and
image syntax in that text is broken up too, so a card cannot smuggle in a `javascript:` link or
an image that calls out to another server. Gradio's own sanitiser stays on as a second layer.

The app's own Markdown (headings, bold, the citation links it adds) is written around the escaped
text, after escaping.
"""

from __future__ import annotations

import html
import re

_LINKISH = re.compile(r"\]\s*\(")
_AUTOLINK = re.compile(r"(?i)\b(javascript|data|vbscript|file):")


def escape(text: str | None) -> str:
    """Untrusted text made inert for a Markdown component (keeps Markdown emphasis such as **bold**).

    Args:
        text: Text from a card, a pair file, a user or a model.

    Returns:
        The same text with HTML special characters as entities, link/image syntax broken up and
        dangerous URL schemes defused.
    """
    if not text:
        return ""
    out = html.escape(str(text), quote=False)
    out = _LINKISH.sub("]\u200b(", out)
    out = out.replace("![", "!\u200b[")
    return _AUTOLINK.sub(lambda m: m.group(1) + "\u200b:", out)


def escape_cell(text: str | None) -> str:
    """Untrusted text for one cell of a Markdown table (also no pipes or line breaks)."""
    return escape(text).replace("|", "\\|").replace("\n", " ")


def plain(text: str | None) -> str:
    """Untrusted text for a component that shows text verbatim (a textbox or a table cell)."""
    return "" if text is None else str(text)
