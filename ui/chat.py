"""The Gradio chat page: conversation, streamed answers, and a sources panel tied to [n] markers."""

from __future__ import annotations

import dataclasses
import time
from html import escape

import gradio as gr

from rag import Assistant, RagError
from ui.examples import example_questions
from ui.render import chat_text, index_note, sources_html

ANSWERER_LABELS = {
    "extractive": "Quoted sentences (instant)",
    "llm": "Written by the language model ({llm}), citations checked",
}
STREAM_PAUSE = 0.04  # seconds between streamed sentences, so the page can paint each one
CSS = """
.source {border-left: 3px solid #f0b429; padding: .3em .8em; margin-bottom: .8em}
.source .marker {font-weight: 700; color: #b7791f}
.source .passage {margin: .4em 0 0; font-size: .92em; color: #333}
.source mark {background: #ffe58a}
.short-answer {font-size: 1.25em; padding: .4em .8em; margin-bottom: .8em; background: #fff8e1; border-radius: 6px}
.sources-none {padding: .6em .8em; background: #eef2f7; border-radius: 6px}
"""


def build(assistant: Assistant) -> gr.Blocks:
    """The page. Its ``chat`` event is also the API endpoint for ``gradio_client``."""

    def respond(message: str, messages: list, pairs: list, answerer: str | None = None):
        """Stream one answer: a searching notice, then sentence by sentence with its sources.

        A language model's sentences appear as the checker accepts them; the final answer (which
        may instead be quoted sentences, with a notice saying why) then replaces them.
        """
        question = (message or "").strip()
        messages = list(messages or [])
        if not question:
            yield messages, "", gr.skip(), pairs
            return
        messages += [
            {"role": "user", "content": escape(question)},
            {"role": "assistant", "content": "Searching the articles…"},
        ]
        yield messages, "", sources_html(None), pairs
        try:
            pieces = assistant.stream(question, [tuple(p) for p in pairs], answerer or assistant.answerers[0])
            written = []
            for piece in pieces:
                if isinstance(piece, str):
                    written.append(piece)
                    messages[-1]["content"] = escape(" ".join(written)) + " …"
                    yield messages, "", gr.skip(), pairs
                else:
                    answer = piece
        except RagError as problem:
            messages[-1]["content"] = escape(f"⚠ {problem}")
            yield messages, "", sources_html(None), pairs
            return
        try:
            passages = {c.n: assistant.passage(c.source, c.chunk) for c in answer.citations}
        except RagError:  # an ingest replaced the chunk since: show the quotes alone
            passages = {}
        if answer.answerer == "extractive" and not written:
            for shown in range(1, len(answer.citations)):
                partial = dataclasses.replace(answer, citations=answer.citations[:shown])
                messages[-1]["content"] = escape(chat_text(answer, upto=shown))
                yield messages, "", sources_html(partial, passages), pairs
                time.sleep(STREAM_PAUSE)
        messages[-1]["content"] = escape(chat_text(answer))
        yield messages, "", sources_html(answer, passages), [*pairs, [question, answer.answer]]

    def restart():
        return [], "", sources_html(None), []

    with gr.Blocks(title="Ask the news articles", analytics_enabled=False) as demo:
        gr.Markdown("## Ask the news articles")
        note = gr.Markdown(index_note(assistant.stats(), assistant.settings.llm), elem_id="index-note")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Conversation", height=460, render_markdown=False, elem_id="chat")
                box = gr.Textbox(
                    placeholder="Ask a question about the articles, then press Enter",
                    show_label=False,
                    elem_id="question",
                    max_length=assistant.settings.max_question_chars,
                )
                choices = [ANSWERER_LABELS[a].format(llm=assistant.settings.llm) for a in assistant.answerers]
                answerer = gr.Radio(
                    list(zip(choices, assistant.answerers, strict=True)),
                    value=assistant.answerers[0],
                    label="Answers",
                    visible=len(choices) > 1,  # only a choice when a language model is configured
                    elem_id="answerer",
                )
                examples = example_questions(assistant.openings())
                if examples:
                    gr.Examples(examples, inputs=box, label="Try")
                new = gr.Button("New conversation", size="sm")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_html(None), elem_id="sources")
        pairs = gr.State([])
        box.submit(respond, [box, chatbot, pairs, answerer], [chatbot, box, sources, pairs], api_name="chat")
        new.click(restart, None, [chatbot, box, sources, pairs], api_name=False)
        demo.load(lambda: index_note(assistant.stats(), assistant.settings.llm), None, note, api_name=False)
    return demo
