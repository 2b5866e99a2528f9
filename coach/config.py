"""Settings read from the environment; every data file lives under `$COACH_HOME`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: The knowledge base shipped with the project (one folder per domain).
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KB = PACKAGE_ROOT / "knowledge_base"
PROMPTS_DIR = PACKAGE_ROOT / "prompts"
EVALS_DIR = PACKAGE_ROOT / "evals"

EMBED_MODEL = "all-MiniLM-L6-v2"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        from coach.errors import InputError

        raise InputError(f"${name}", name, f"a number, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """Everything configurable, resolved once from the environment."""

    home: Path
    kb_dirs: tuple[Path, ...]
    model: str
    chroma_url: str | None
    database_url: str | None
    embed_model: str
    openai_base_url: str | None
    openai_api_key: str | None
    timeout: float
    max_retries: int
    max_tokens: int
    max_input_chars: int
    judge_model: str | None
    admin_password: str | None
    concurrency: int
    #: Where the embedding model's ONNX export is kept (shared by every index under this home).
    model_cache: Path
    extra: dict[str, str] = field(default_factory=dict)
    #: Price of a million tokens (prompt and completion alike), for cost estimates; None: not shown.
    price_per_mtok: float | None = None

    @property
    def index_dir(self) -> Path:
        """Where the embedded Chroma store and BM25 index live."""
        return self.home / "index"

    @property
    def db_path(self) -> Path:
        """The SQLite program database (when no COACH_DATABASE_URL is set)."""
        return self.home / "coach.db"

    def with_kb(self, extra_dirs: list[Path] | tuple[Path, ...]) -> Settings:
        """A copy with user card folders added after the shipped ones."""
        from dataclasses import replace

        dirs = self.kb_dirs + tuple(Path(d) for d in extra_dirs if Path(d) not in self.kb_dirs)
        return replace(self, kb_dirs=dirs)


def load_settings() -> Settings:
    """Read settings from the environment (no caching: tests change the env)."""
    home = Path(os.environ.get("COACH_HOME") or ".coach").expanduser().resolve()
    extra_kb = [Path(p) for p in os.environ.get("COACH_KB_DIRS", "").split(os.pathsep) if p]
    model = os.environ.get("COACH_MODEL", "").strip() or "offline"
    return Settings(
        home=home,
        kb_dirs=(DEFAULT_KB, *extra_kb),
        model=model,
        chroma_url=os.environ.get("COACH_CHROMA_URL") or None,
        database_url=os.environ.get("COACH_DATABASE_URL") or None,
        embed_model=os.environ.get("COACH_EMBED_MODEL") or EMBED_MODEL,
        openai_base_url=os.environ.get("OPENAI_BASE_URL") or None,
        openai_api_key=os.environ.get("OPENAI_API_KEY") or None,
        timeout=_env_float("COACH_TIMEOUT", 60.0),
        max_retries=int(_env_float("COACH_MAX_RETRIES", 3)),
        max_tokens=int(_env_float("COACH_MAX_TOKENS", 4096)),
        max_input_chars=int(_env_float("COACH_MAX_INPUT_CHARS", 60000)),
        judge_model=os.environ.get("COACH_JUDGE_MODEL") or None,
        admin_password=os.environ.get("COACH_ADMIN_PASSWORD") or None,
        concurrency=max(1, int(_env_float("COACH_CONCURRENCY", 4))),
        model_cache=Path(os.environ.get("COACH_MODEL_CACHE") or home / "models").expanduser().resolve(),
        price_per_mtok=_price(),
    )


def _price() -> float | None:
    raw = os.environ.get("COACH_PRICE_PER_MTOK", "").strip()
    if not raw:
        return None
    value = _env_float("COACH_PRICE_PER_MTOK", 0.0)
    return value if value >= 0 else None


def private_dir(path: Path) -> Path:
    """Create a folder (and its parents) readable by its owner only: it holds people's names and plans."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> None:
    """Make an existing file readable by its owner only (the program database, its journal)."""
    if path.exists() and path.stat().st_mode & 0o077:
        path.chmod(0o600)
