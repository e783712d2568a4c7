"""The persistent Chroma collection plus the record manager that makes re-ingesting a no-op."""

from __future__ import annotations

from collections import Counter
from functools import cached_property

import chromadb
from langchain_chroma import Chroma
from langchain_classic.indexes import SQLRecordManager
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.embeddings import load_embeddings
from rag.settings import Settings


class Store:
    """Chroma collection ``settings.collection`` under ``settings.data_dir``.

    The embedding model is loaded on first use, so cheap questions (is anything indexed?) stay cheap.
    """

    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def embeddings(self) -> Embeddings:
        return load_embeddings(self.settings.embedding_model, self.settings.embed_batch_size)

    @cached_property
    def client(self) -> chromadb.ClientAPI:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(self.settings.chroma_dir),
            settings=chromadb.Settings(anonymized_telemetry=False),
        )

    @cached_property
    def vectors(self) -> Chroma:
        return Chroma(
            client=self.client,
            collection_name=self.settings.collection,
            embedding_function=self.embeddings,
            collection_metadata={"hnsw:space": "cosine"},
        )

    @cached_property
    def records(self) -> SQLRecordManager:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        manager = SQLRecordManager(
            namespace=f"chroma/{self.settings.collection}",
            db_url=f"sqlite:///{self.settings.record_db}",
        )
        manager.create_schema()
        return manager

    def count(self) -> int:
        """Chunks in the index, without loading the embedding model."""
        if "vectors" in self.__dict__:
            return self.vectors._collection.count()
        names = {c if isinstance(c, str) else c.name for c in self.client.list_collections()}
        return self.client.get_collection(self.settings.collection).count() if self.settings.collection in names else 0

    def chunks_per_path(self) -> Counter[str]:
        """How many chunks each indexed file has, keyed by its resolved path."""
        metadatas = self.vectors.get(include=["metadatas"])["metadatas"]
        return Counter(m["path"] for m in metadatas)

    def chunks_of(self, source: str) -> list[Document]:
        """All chunks of one article (by file name), in reading order."""
        found = self.vectors.get(where={"source": source}, include=["documents", "metadatas"])
        documents = [
            Document(page_content=text, metadata=meta, id=id_)
            for id_, text, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        ]
        return sorted(documents, key=lambda d: (d.metadata["path"], d.metadata["chunk"]))

    def delete_paths(self, paths: list[str]) -> int:
        """Remove every chunk of these files from the vectors and the record manager."""
        if not paths:
            return 0
        ids = self.vectors.get(where={"path": {"$in": paths}}, include=[])["ids"]
        if ids:
            self.vectors.delete(ids=ids)
            self.records.delete_keys(ids)
        return len(ids)
