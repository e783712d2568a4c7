"""A streamed answer: iterate it for the checked sentences as they come, then read ``.answer``::

    response = assistant.stream("When did the footbridge open?", mode="llm")
    for sentence in response:  # a language model's checked sentences; none when the answer is quoted
        print(sentence)
    response.answer  # the final Answer, authoritative: after a fallback it replaces what was streamed

Like simonw/llm's ``Response``; no caller needs to tell sentences from answers by their type.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

from rag.results import Answer


class Response:
    """Wraps the pipeline: a generator that yields sentences and returns the final :class:`Answer`.

    Not thread-safe: one consumer iterates it (once), then reads ``answer``.
    """

    def __init__(self, pieces: Generator[str, None, Answer]):
        self._pieces = pieces
        self._ahead: list[str] = []  # sentences pulled by begin() but not yet handed out
        self._answer: Answer | None = None
        self._done = False
        self._error: BaseException | None = None
        self.sentences: list[str] = []  # every sentence handed out so far

    def begin(self) -> Response:
        """Run the pipeline up to its first sentence or its answer, so that its errors (nothing indexed,
        storage) raise here, before a caller has sent anything."""
        if not self._ahead and not self._done:
            self._pull()
        return self

    def __iter__(self) -> Iterator[str]:
        while self._ahead or not self._done:
            if not self._ahead:
                self._pull()
                continue
            sentence = self._ahead.pop(0)
            self.sentences.append(sentence)
            yield sentence

    @property
    def answer(self) -> Answer:
        """The final answer; reading it runs the pipeline to its end (sentences not iterated are skipped)."""
        for _ in self:
            pass
        if self._answer is None:  # the pipeline failed: its error again, not a None
            raise self._error or RuntimeError("the answer pipeline ended without an answer")
        return self._answer

    def _pull(self) -> None:
        try:
            self._ahead.append(next(self._pieces))
        except StopIteration as end:
            self._answer, self._done = end.value, True
        except BaseException as problem:
            self._done, self._error = True, problem  # a failed pipeline stays failed
            raise
