"""Which key concept a "what is X?" question names (probe: "what is AI?" explained Shadow AI)."""

from __future__ import annotations

import pytest

from coach.terms import CLOSE, score


@pytest.mark.parametrize(
    ("topic", "term"),
    [
        ("llm", "Large language model (LLM)"),
        ("llms", "Large language model (LLM)"),
        ("kpi", "KPI (key performance indicator)"),
        ("key performance indicator", "KPI (key performance indicator)"),
        ("prompts", "Prompt"),
        ("inpainting", "Inpainting / generative fill"),
        ("genai", "Generative AI (GenAI)"),
        ("halucination", "Hallucination"),
    ],
)
def test_a_term_is_named_whole_by_abbreviation_or_part(topic: str, term: str) -> None:
    assert score(topic, term) >= CLOSE


@pytest.mark.parametrize(
    ("topic", "term"),
    [
        ("ai", "Shadow AI"),
        ("generative ai", "Inpainting / generative fill"),
        ("token", "OAuth token"),
        ("prompting", "Prompt injection"),
    ],
)
def test_a_fragment_of_a_term_is_not_the_term(topic: str, term: str) -> None:
    assert score(topic, term) < CLOSE


@pytest.mark.parametrize(
    ("question", "heading"),
    [
        ("what is AI?", "**Artificial intelligence (AI), simply** [genai-prompting-basics]"),
        ("what is generative AI?", "**Generative AI (GenAI), simply** [genai-prompting-basics]"),
        ("what is genAI?", "**Generative AI (GenAI), simply** [genai-prompting-basics]"),
        ("what is a token?", "**Token, simply** [genai-prompting-basics]"),
        ("what are LLMs?", "**Large language model (LLM), simply** [genai-prompting-basics]"),
        ("what is shadow AI", "**Shadow AI, simply** [genai-responsible-use-policy]"),
    ],
)
def test_basic_questions_get_their_own_term(retriever, question: str, heading: str) -> None:
    from coach.answers import ChatContext
    from coach.chat import ask

    assert ask(question, ChatContext(retriever)).text.startswith(heading)
