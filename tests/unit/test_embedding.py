"""The embedding model: the ONNX export gives sentence-transformers' vectors, and searching never loads torch."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coach import embedding
from coach.config import load_settings
from coach.embedding import OnnxEmbedder, TorchEmbedder, get_embedder, model_location, onnx_spec

BUNDLED = Path(model_location("all-MiniLM-L6-v2"))
TEXTS = [
    "",
    "How do I write a prompt that turns board papers into a one-page brief?",
    "my diary is wall to wall and half of those meetings could have been an email",
    "Slack channels, Teams chats and threads " * 80,  # past the 256-token limit: truncated alike
    "Ünïcode, emoji 🚀 and punctuation?!",
]


def test_onnx_vectors_match_sentence_transformers() -> None:
    onnx = get_embedder(load_settings())
    assert isinstance(onnx, OnnxEmbedder)
    reference = TorchEmbedder(str(BUNDLED)).encode(TEXTS)
    ours = onnx.encode(TEXTS)
    assert ours.shape == reference.shape == (len(TEXTS), 384)
    assert np.abs(ours - reference).max() < 1e-4
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # Batching by length must not reorder the rows.
    assert np.allclose(onnx.encode(TEXTS[::-1]), ours[::-1], atol=1e-5)


def test_the_export_is_made_once_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = dataclasses.replace(load_settings(), model_cache=tmp_path / "models")
    monkeypatch.setattr(embedding, "_EMBEDDERS", {})
    get_embedder(settings)
    files = sorted(p.name for p in (tmp_path / "models").iterdir())
    assert len(files) == 1 and files[0].endswith(".onnx")

    def no_export(*_: object) -> None:
        raise AssertionError("exported a second time")

    monkeypatch.setattr(embedding, "export_onnx", no_export)
    monkeypatch.setattr(embedding, "_EMBEDDERS", {})
    assert isinstance(get_embedder(settings), OnnxEmbedder)


def test_a_failed_export_falls_back_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    def half_written(model: object, args: object, path: str, **_: object) -> None:
        Path(path).write_bytes(b"half an ONNX file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch.onnx, "export", half_written)
    monkeypatch.setattr(embedding, "_EMBEDDERS", {})
    settings = dataclasses.replace(load_settings(), model_cache=tmp_path / "models")
    model = get_embedder(settings)
    assert isinstance(model, TorchEmbedder)
    assert "ONNX export failed (RuntimeError: disk full)" in capsys.readouterr().err
    assert not list((tmp_path / "models").iterdir())  # neither the export nor its partial file
    assert model.encode(["still works"]).shape == (1, 384)


def _copy_config(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(BUNDLED, folder, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    return folder


def test_pipelines_the_export_does_not_cover_use_sentence_transformers(tmp_path: Path) -> None:
    folder = _copy_config(tmp_path)
    assert onnx_spec(folder) == {"max_length": 256, "pooling": "mean", "normalize": True, "pad_token": "[PAD]"}

    modules = json.loads((folder / "modules.json").read_text())
    with_dense = [*modules, {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"}]
    (folder / "modules.json").write_text(json.dumps(with_dense))
    assert onnx_spec(folder) is None

    (folder / "modules.json").write_text(json.dumps(modules))
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True}))
    assert onnx_spec(folder) is None
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    assert onnx_spec(folder) == {"max_length": 256, "pooling": "cls", "normalize": True, "pad_token": "[PAD]"}

    (folder / "tokenizer.json").unlink()
    assert onnx_spec(folder) is None


def test_searching_never_imports_torch(indexed_home: Path) -> None:
    # Importing torch and sentence-transformers costs seconds per process; a search must not need them.
    script = (
        "import sys; from coach.config import load_settings; from coach.retrieval import get_retriever;"
        "hits = get_retriever(load_settings(), auto_index=False).search('writing prompts for a CFO', k=3);"
        "assert len(hits) == 3, hits;"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
