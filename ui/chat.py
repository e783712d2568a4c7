"""The Gradio chat page: conversation, streamed answers, and a sources panel tied to [n] markers.

Beside the chat: date and outlet filters, 👍/👎 on every answer (with "the right answer is …"),
and an Articles tab to upload, search and remove articles.
"""

from __future__ import annotations

import dataclasses
import time
from html import escape
from pathlib import Path

import gradio as gr

from rag import Assistant, RagError, feedback
from rag.articles import add_articles, list_articles, remove_article
from rag.filters import ArticleFilter
from ui.examples import example_questions
from ui.render import articles_html, chat_text, index_note, sources_html

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
.source-about {font-size: .9em; color: #555}
.articles td, .articles th {padding: .2em .6em; text-align: left; vertical-align: top}
"""


def build(assistant: Assistant) -> gr.Blocks:
    """The page. Its ``chat`` event is also the API endpoint for ``gradio_client``."""

    def respond(
        message: str,
        messages: list,
        pairs: list,
        answerer: str | None = None,
        since: str | None = None,
        until: str | None = None,
        outlets: list[str] | None = None,
        answers: dict | None = None,
    ):
        """Stream one answer: a searching notice, then sentence by sentence with its sources.

        A language model's sentences appear as the checker accepts them; the final answer (which
        may instead be quoted sentences, with a notice saying why) then replaces them. Each answer
        is remembered by its message's position, for the 👍/👎 given on it.
        """
        question = (message or "").strip()
        messages = list(messages or [])
        answers = dict(answers or {})
        if not question:
            yield messages, "", gr.skip(), pairs, answers
            return
        messages += [
            {"role": "user", "content": escape(question)},
            {"role": "assistant", "content": "Searching the articles…"},
        ]
        yield messages, "", sources_html(None), pairs, answers
        try:
            filters = ArticleFilter.parse(since, until, outlets)
            response = assistant.stream(question, [tuple(p) for p in pairs], answerer or assistant.modes[0], filters)
            written = []
            for sentence in response:
                written.append(sentence)
                messages[-1]["content"] = escape(" ".join(written)) + " …"
                yield messages, "", gr.skip(), pairs, answers
            answer = response.answer
        except RagError as problem:
            messages[-1]["content"] = escape(f"⚠ {problem}")
            yield messages, "", sources_html(None), pairs, answers
            return
        try:
            passages = {c.n: assistant.passage(c.source, c.chunk) for c in answer.citations}
        except RagError:  # an ingest replaced the chunk since: show the quotes alone
            passages = {}
        if answer.answerer == "extractive" and not written:
            for shown in range(1, len(answer.citations)):
                partial = dataclasses.replace(answer, citations=answer.citations[:shown])
                messages[-1]["content"] = escape(chat_text(answer, upto=shown))
                yield messages, "", sources_html(partial, passages), pairs, answers
                time.sleep(STREAM_PAUSE)
        messages[-1]["content"] = escape(chat_text(answer))
        answers[str(len(messages) - 1)] = answer.to_dict() | {"history": [list(p) for p in pairs]}
        yield messages, "", sources_html(answer, passages), [*pairs, [question, answer.answer]], answers

    def restart():
        return [], "", sources_html(None), [], {}

    def judge(answers: dict, like: gr.LikeData):
        """👍 is stored at once; 👎 too, and opens the box for the right answer."""
        index = like.index[0] if isinstance(like.index, list | tuple) else like.index
        given = (answers or {}).get(str(index))
        if given is None:
            return gr.skip(), None, gr.update(visible=False)
        verdict = "up" if like.liked is True or like.liked == "Like" else "down"
        _store(given, verdict)
        if verdict == "up":
            return "Thanks: 👍 stored.", None, gr.update(visible=False)
        return "👎 stored. If you know it, give the right answer below.", str(index), gr.update(visible=True)

    def correct(answers: dict, pending: str | None, correction: str):
        given = (answers or {}).get(pending or "")
        if given is None or not (correction or "").strip():
            return "Type the right answer first, then send it.", pending, gr.skip(), gr.skip()
        _store(given, "down", correction)
        return "Thanks: your correction is stored.", None, gr.update(visible=False), ""

    def _store(given: dict, verdict: str, correction: str | None = None) -> None:
        feedback.record(
            assistant.settings,
            {
                "question": given["question"],
                "answer": given["answer"],
                "verdict": verdict,
                "history": given.get("history", []),
                "citations": given.get("citations", []),
                "correction": correction,
            },
        )

    def show_articles(query: str = ""):
        found = list_articles(assistant, query)
        everything = found if not query else list_articles(assistant)
        outlets = sorted({a.outlet for a in everything if a.outlet}, key=str.casefold)
        return (
            articles_html(found, query),
            gr.update(choices=[(f"{a.title} ({a.source})", a.source) for a in everything], value=None),
            gr.update(choices=outlets),
            index_note(assistant.stats(), assistant.settings.llm),
        )

    def upload(files: list | None, query: str, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - Gradio's idiom
        if not files:
            return ("Choose .txt, .md or .zip files first.", *show_articles(query))
        named = []
        for file in files:
            path = Path(file if isinstance(file, str) else file.name)
            named.append((path.name, path.read_bytes()))
        progress(0, desc="checking the files")
        try:
            result = add_articles(assistant, named, progress=True)
        except RagError as problem:
            return (f"⚠ {escape(str(problem))}", *show_articles(query))
        lines = [f"Added {len(result.added)} article(s): " + ", ".join(a["source"] for a in result.added)]
        lines += [f"⚠ {problem}" for problem in result.errors] + [f"ⓘ {note}" for note in result.notes]
        return ("\n\n".join(escape(line) for line in lines), *show_articles(query))

    def remove(source: str | None, query: str):
        if not source:
            return ("Choose an article to remove first.", *show_articles(query))
        try:
            message = remove_article(assistant, source).message()
        except RagError as problem:
            message = f"⚠ {problem}"
        return (escape(message), *show_articles(query))

    with gr.Blocks(title="Ask the news articles", analytics_enabled=False) as demo:
        gr.Markdown("## Ask the news articles")
        note = gr.Markdown(index_note(assistant.stats(), assistant.settings.llm), elem_id="index-note")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=460,
                    render_markdown=False,
                    elem_id="chat",
                    feedback_options=("Like", "Dislike"),
                )
                verdict_note = gr.Markdown(elem_id="feedback-note")
                with gr.Row(visible=False) as correcting:
                    correction = gr.Textbox(
                        label="The right answer is …", elem_id="correction", scale=4, max_length=2000
                    )
                    send = gr.Button("Send correction", elem_id="send-correction", scale=1)
                box = gr.Textbox(
                    placeholder="Ask a question about the articles, then press Enter",
                    show_label=False,
                    elem_id="question",
                    max_length=assistant.settings.max_question_chars,
                )
                choices = [ANSWERER_LABELS[a].format(llm=assistant.settings.llm) for a in assistant.modes]
                answerer = gr.Radio(
                    list(zip(choices, assistant.modes, strict=True)),
                    value=assistant.modes[0],
                    label="Answers",
                    visible=len(choices) > 1,  # only a choice when a language model is configured
                    elem_id="answerer",
                )
                with gr.Accordion("Only articles from …", open=True, elem_id="filters"), gr.Row():
                    since = gr.Textbox(label="Since", placeholder="2025-02-01", elem_id="since", max_length=40)
                    until = gr.Textbox(label="Until", placeholder="2025-02-28", elem_id="until", max_length=40)
                    outlets = gr.Dropdown(
                        [], value=[], multiselect=True, label="Outlets (none chosen: all)", elem_id="outlets"
                    )
                examples = example_questions(assistant.openings())
                if examples:
                    gr.Examples(examples, inputs=box, label="Try")
                new = gr.Button("New conversation", size="sm")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_html(None), elem_id="sources")
        with gr.Accordion("Articles: add, search, remove", open=False, elem_id="articles"):
            with gr.Row():
                with gr.Column():
                    files = gr.File(
                        label="Add articles (.txt, .md, or a .zip of them)",
                        file_count="multiple",
                        file_types=[".txt", ".md", ".zip"],
                        elem_id="upload",
                    )
                    add = gr.Button("Add to the index", variant="primary", elem_id="add-articles")
                    added = gr.Markdown(elem_id="upload-status")
                with gr.Column():
                    search = gr.Textbox(label="Search the articles", elem_id="article-search")
                    with gr.Row():
                        doomed = gr.Dropdown([], label="Article to remove", elem_id="remove-choice", scale=3)
                        drop = gr.Button("Remove from the index", variant="stop", elem_id="remove-article", scale=1)
                    removed = gr.Markdown(elem_id="remove-status")
            listing = gr.HTML(elem_id="article-list")
        pairs = gr.State([])
        answers = gr.State({})  # message position -> the answer given there, for 👍/👎
        pending = gr.State(None)  # the answer a 👎 correction is about
        box.submit(
            respond,
            [box, chatbot, pairs, answerer, since, until, outlets, answers],
            [chatbot, box, sources, pairs, answers],
            api_name="chat",
        )
        new.click(restart, None, [chatbot, box, sources, pairs, answers], api_name=False)
        chatbot.like(judge, [answers], [verdict_note, pending, correcting], api_name=False)
        send.click(
            correct, [answers, pending, correction], [verdict_note, pending, correcting, correction], api_name=False
        )
        catalogue = [listing, doomed, outlets, note]
        search.change(show_articles, [search], catalogue, api_name=False)
        add.click(upload, [files, search], [added, *catalogue], api_name=False).then(
            lambda: None, None, files, api_name=False
        )
        drop.click(remove, [doomed, search], [removed, *catalogue], api_name=False)
        demo.load(show_articles, [search], catalogue, api_name=False)
    return demo
