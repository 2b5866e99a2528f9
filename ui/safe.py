"""Make card, user and model text safe to show: no HTML from it reaches the page.

Text from a card, a pair file or a model answer is treated as data. Before it is handed to a
Markdown component, every `<`, `>` and `&` is turned into an HTML entity, so `<script>`,
`<img onerror=...>` and the like are shown as text and never parsed as tags. Markdown link and
image syntax in that text is broken up too (inline, reference-style and bare web addresses), so a
card cannot smuggle in a `javascript:` link, a link to another site or an image that calls out to
another server: the only live links on a page are the ones the app adds (cards and documents). Gradio's own sanitiser stays on as a second layer.

The app's own Markdown (headings, bold, the citation links it adds) is written around the escaped
text, after escaping.
"""

from __future__ import annotations

import html
import re

_LINKISH = re.compile(r"\]\s*\(")
_AUTOLINK = re.compile(r"(?i)\b(javascript|data|vbscript|file):")
#: Reference-style links: `[text][ref]` and the definitions `[ref]: https://...` that make them live.
_REF_USE = re.compile(r"\]\s*\[")
_REF_DEF = re.compile(r"^([ \t]{0,3})\[([^\]\n]{0,500})\]:", re.MULTILINE)
#: Bare web addresses, which GitHub-flavoured Markdown turns into live links by itself.
_BARE_URL = re.compile(r"(?i)\b(https?|ftp)://|\bwww\.")


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
    out = _REF_USE.sub("]\u200b[", out)
    out = _REF_DEF.sub(lambda m: f"{m.group(1)}[{m.group(2)}]\u200b:", out)
    out = _BARE_URL.sub(lambda m: f"{m.group(1)}\u200b://" if m.group(1) else "www\u200b.", out)
    out = out.replace("![", "!\u200b[")
    return _AUTOLINK.sub(lambda m: m.group(1) + "\u200b:", out)


def escape_cell(text: str | None) -> str:
    """Untrusted text for one cell of a Markdown table (also no pipes or line breaks)."""
    return escape(text).replace("|", "\\|").replace("\n", " ")


def plain(text: str | None) -> str:
    """Untrusted text for a component that shows text verbatim (a textbox or a table cell)."""
    return "" if text is None else str(text)
