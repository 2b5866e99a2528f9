"""DigComp 2.2, the European digital competence framework: its areas and competences, read from data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "digcomp.yaml"


@dataclass(frozen=True)
class Competence:
    """One DigComp competence, such as 2.4 Collaborating through digital technologies."""

    number: str
    name: str
    area: str

    @property
    def label(self) -> str:
        """Number and name, as shown in lists: '2.4 Collaborating through digital technologies'."""
        return f"{self.number} {self.name}"


@cache
def areas() -> dict[str, str]:
    """The five competence areas: number -> name."""
    import yaml

    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return {str(a["number"]): str(a["name"]) for a in data["areas"]}


@cache
def competences() -> dict[str, Competence]:
    """The 21 competences in framework order: number -> competence."""
    import yaml

    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return {
        str(c["number"]): Competence(str(c["number"]), str(c["name"]), str(a["name"]))
        for a in data["areas"]
        for c in a["competences"]
    }


def check_ids(ids: list[str]) -> list[str]:
    """Validate a card's `digcomp` list: known competence numbers, no repeats.

    Args:
        ids: Competence numbers as written on a card, such as ["1.2", "4.2"].

    Returns:
        The same ids.

    Raises:
        ValueError: An id that DigComp 2.2 does not have, or one listed twice.
    """
    known = competences()
    for value in ids:
        if value not in known:
            raise ValueError(
                f"expected DigComp 2.2 competence numbers such as '2.4' (1.1-1.3, 2.1-2.6, 3.1-3.4, 4.1-4.4, "
                f"5.1-5.4), got {value!r}"
            )
    if len(set(ids)) != len(ids):
        raise ValueError("expected each DigComp competence once")
    return ids
