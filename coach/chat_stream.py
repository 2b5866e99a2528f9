"""The chat stream: the model's answer streamed as text, and the card ids it cites."""

from __future__ import annotations

import re
from collections.abc import Iterator

from coach.errors import CoachError
from coach.providers import ModelFailure, Provider

#: Cap on a chat answer's length in tokens (the provider's own cap still applies).
CHAT_MAX_TOKENS = 1024


def stream_chat(provider: Provider, system: str, user: str) -> Iterator[str]:
    """Stream the model's answer text; raises CoachError or ModelFailure (mapped) on failure."""
    from langchain_core.messages import HumanMessage, SystemMessage

    if len(system) + len(user) > provider.max_input_chars:
        raise ModelFailure(
            f"the question and its context are {len(system) + len(user)} characters, over the input cap of "
            f"{provider.max_input_chars} (COACH_MAX_INPUT_CHARS)"
        )
    llm = provider.chat_model(max_tokens=CHAT_MAX_TOKENS, streaming=True)
    try:
        for chunk in llm.stream([SystemMessage(content=system), HumanMessage(content=user)]):
            text = chunk.content if isinstance(chunk.content, str) else ""
            if text:
                yield text
    except CoachError:
        raise
    except Exception as exc:
        raise provider.failure(exc) from exc


_CITATION = re.compile(r"\[([a-z0-9]+(?:-[a-z0-9]+)+)\]")


def cited_ids(text: str) -> list[str]:
    """Card ids cited as [card-id], in order of first appearance."""
    return list(dict.fromkeys(_CITATION.findall(text)))
