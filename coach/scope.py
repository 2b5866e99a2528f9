"""What the product does not answer, whatever the cards say: whole fields, and kinds of request.

The chat's coverage rule (`coach.coverage`) reads one feature from here, `out_of_scope`, with a fixed
weight: a question that names a field the product does not cover (tax, law, medicine, cooking; see
`OUT_OF_SCOPE`) or that asks for something no card can give (a price, a piece of code, a look at the
user's own live data; see `REQUESTS`). The refusal then says why, and who can help.

The request patterns were written from what a coach cannot know or do, then checked on the cards
themselves: they match none of the cards' `asks` (questions the cards answer) and many of their
`beyond` questions (near misses no card answers); tests/unit/test_chat_search.py keeps it so. Every
part is bounded, so each runs in linear time on a bounded question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Fields the product does not cover at all, by words that name them (comma-separated; whole words,
#: plural too; a trailing * matches any ending). The product is reverse mentoring on eleven domains
#: (coach.models.DOMAINS); these are fields leaders also ask a chat about, where the right answer is
#: a professional in that field, never a card.
OUT_OF_SCOPE: dict[str, str] = {
    "tax and accounting rules": "tax, taxes, taxation, vat, ifrs, gaap, depreciation schedule",
    "payroll and HR systems administration": "payroll, payslip, hris, successfactors",
    "employment law and HR casework": "maternity, paternity, parental leave, notice period, severance, "
    "disciplinary, grievance",
    "investing, insurance, banking products and crypto": "crypto*, bitcoin, ethereum, blockchain, nft, mortgage, "
    "pension, refinanc*, 401k, derivatives, interest rate swap, hedg*, bond yield, forex, insurance, real estate",
    "law and regulatory disclosure regimes": "lawsuit, litigat*, sue, suing, tribunal, dismissal, csrd, sarbanes, "
    "sox, prospectus, patent, trademark",
    "certification schemes and compliance audits": "iso 27001, iso 9001, soc 2, pci dss, prince2, pmp, six sigma, "
    "itil, cissp",
    "building and training AI models": "fine-tun*, pytorch, tensorflow, gpu, neural network, "
    "vector database, hyperparameter*",
    "programming": "python, java, javascript, sql, kubernetes, docker",
    "medicine, health and fitness": "medical, medication, medicine, doctor, symptom, prescription, physio*, gym, "
    "workout, diet",
    "cooking, food and drink": "recipe, cooking, wine, cocktail",
    "sport, hobbies and home": "golf, football, tennis, marathon, gardening, pets",
    "travel papers": "visa, passport, immigration",
    "politics and religion": "election*, religio*",
}


def _lexicon_pattern(words: list[str]) -> re.Pattern[str]:
    parts = []
    for w in words:
        body = re.escape(w.rstrip("*")).replace(r"\ ", r"\s+").replace(r"\-", "[-\\s]?")
        parts.append(body + (r"\w*" if w.endswith("*") else r"(?:s|es)?\b"))
    return re.compile(r"\b(?:" + "|".join(parts) + ")", re.IGNORECASE)


_OUT_OF_SCOPE = _lexicon_pattern([w.strip() for ws in OUT_OF_SCOPE.values() for w in ws.split(",")])


@dataclass(frozen=True)
class Request:
    """A kind of request no card can answer, and what the refusal says instead."""

    pattern: re.Pattern[str]
    #: Said first in the refusal: why no card answers it, and who can.
    instead: str


def _any(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(parts), re.IGNORECASE)


#: Kinds of request no card answers, by the words that ask for them.
REQUESTS: dict[str, Request] = {
    # "how much is miro per seat", "what do micro influencers charge", "which is cheaper".
    "price": Request(
        _any(
            r"\bhow much (?:is|are|does|do|would|will|should|can)\b[^.?!]{0,60}?\b"
            r"(?:cost|charge|pay|subscription|licen[cs]e|membership|premium|fees?"
            r"|per (?:seat|user|licen[cs]e|month|year|post|head))\b",
            r"\bhow much (?:is|are) (?:it|they|one|each|those|these)\b",
            r"\bgoing rate\b",
            r"\bper[- ](?:seat|user|licen[cs]e|post|head|desk|episode|message|click|lead|word|transaction|question)\b"
            r"(?! basis)",
            r"\b(?:charge|cost|price|fee)s? per\b",
            r"\bbetter value\b|\bcheapest\b|\b(?:which|what)(?: one)? (?:is|works out) cheaper\b",
            r"\bwhat(?:'s|s| is| are) (?:the |a |their )?(?:normal |usual |typical |average |monthly |annual )?"
            r"(?:cost|premium|fee)s?\b(?! of (?:not|doing|getting|losing))",
            r"\bwhat(?:'s|s| is) (?:the |their |\w+'s )?price (?:of|for)\b|\b(?:pricing|price) for (?:a |an )?\d",
            r"\b(?:monthly|annual|yearly) (?:cost|price|fee)s? of\b|\brough costs\b|\bentry fee\b|\bticket prices\b",
            r"\bwhat (?:would|does|do|will|might) [\w' .-]{1,40}? (?:actually |roughly |typically |usually )?"
            r"(?:cost|charge)\b(?! us to)",
        ),
        "I can't give you prices, fees or quotes: no card carries them, because they change and depend on "
        "your contract. Ask the vendor or your procurement team for a current one.",
    ),
    # "write me the DAX for year to date sales", "write a python script that ...".
    "code": Request(
        _any(r"\bwrite (?:me |us )?(?:the |a |an |some )?(?:python|sql|javascript|vba|macro|script|code|dax|regex)\b"),
        "I don't write code, and no card does: the cards explain what a tool can do and how to ask for it. "
        "Your data or IT team can write and check the code.",
    ),
    # "can you pull our actual conversion numbers for last week", "check what ours sell for right now".
    "live data": Request(
        _any(
            r"\b(?:pull|check|fetch|look up|grab|get|tell me|find)\b[^.?!]{0,40}\b(?:our|my)\b[^.?!]{0,40}"
            r"\b(?:right now|today|this morning|last week|yesterday|live|actual|current)\b",
            r"\bcan (?:you|u) (?:access|log ?in(?:to)?|connect to|read|check|open)\b[^.?!]{0,30}\b(?:our|my)\b",
        ),
        "I can't see your organisation's live systems or data, and no card holds your figures: I answer from "
        "the cards and the documents you have added. The system's owner or your analytics team can pull them.",
    ),
}


def request_kind(question: str) -> str | None:
    """The kind of request no card answers that the question makes (a key of `REQUESTS`), or None."""
    return next((kind for kind, r in REQUESTS.items() if r.pattern.search(question)), None)


def out_of_scope(question: str) -> bool:
    """Whether the question names a field the product does not cover or makes a request no card answers."""
    return bool(_OUT_OF_SCOPE.search(question)) or request_kind(question) is not None
