"""The index store: Chroma collections and record managers behind one adapter, :class:`Store`.

- ``adapter``: :class:`Store`: opening the collections, sharing them safely, turning failures into errors
- ``queries``: the reads and deletes callers ask for, by typed arguments
- ``records``: the record managers: syncing documents through them, rebuilding and repairing them
- ``collection``: paging through a collection; typed filters → Chroma ``where``
- ``client``: a URL or folder → a Chroma client
- ``lock``: the cross-process lock file and generation marker
- ``embedding``: vectors computed before the write lock is taken
- ``faults``: a failed store call → one :class:`StorageError` naming the cause
"""

from rag.errors import StorageError
from rag.store.adapter import Store
from rag.store.collection import all_ids, pages
from rag.store.faults import StoreUnavailable
from rag.store.records import CHUNKS, SENTENCES

__all__ = ["CHUNKS", "SENTENCES", "StorageError", "Store", "StoreUnavailable", "all_ids", "pages"]
