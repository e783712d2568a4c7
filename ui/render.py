"""HTML for the chat page. Article text and questions are data: every piece is escaped here."""

from __future__ import annotations

from html import escape
from urllib.parse import quote as url_quote

from rag.articles import ArticleInfo
from rag.compose import quoted
from rag.filters import shown_date
from rag.results import Answer, Citation

NOT_COVERED = "The articles don't cover this."
CONTEXT_CHARS = 240  # of the surrounding passage shown on each side of a quote


def chat_text(answer: Answer, upto: int | None = None) -> str:
    """The answer as shown in the chat (plain text, the page never renders it as HTML).

    ``upto`` keeps only the first sentences, for streaming.
    """
    notice = f"\n\nⓘ {answer.notice}" if answer.notice else ""
    if answer.abstained:
        return f"ⓘ {NOT_COVERED} {answer.answer}{notice}"
    if answer.answerer == "llm":  # written by the model, every sentence checked against its passage
        return answer.answer + notice
    quotes = " ".join(quoted(c) for c in answer.citations[:upto]) + (notice if upto is None else "")
    cited = short_citation(answer)
    return f"{answer.short_answer.text} [{cited.n}]\n\n{quotes}" if cited else quotes


def short_citation(answer: Answer) -> Citation | None:
    """The citation whose quote holds the short answer (None when there is no short answer)."""
    short = answer.short_answer
    if short is None:
        return None
    return next((c for c in answer.citations if c.source == short.source and c.start <= short.start < c.end), None)


def sources_html(answer: Answer | None, passages: dict[int, str] | None = None) -> str:
    """The sources panel: for each citation its title, file, and the quote marked in its passage."""
    if answer is None:
        return '<div class="sources-empty">Sources of the answer appear here.</div>'
    if answer.abstained:
        return (
            f'<div class="sources-none" data-testid="abstained"><strong>{escape(NOT_COVERED)}</strong> '
            "No passage answers this question, so nothing is cited.</div>"
        )
    passages = passages or {}
    cited = short_citation(answer)
    short = (
        f'<div class="short-answer" data-testid="short-answer">Answer: <strong>{escape(answer.short_answer.text)}'
        f'</strong> <span class="marker">[{cited.n}]</span></div>'
        if cited
        else ""
    )
    return short + "".join(_citation_html(c, passages.get(c.n, c.quote)) for c in answer.citations)


def _citation_html(citation: Citation, passage: str) -> str:
    link = f"/api/articles/{url_quote(citation.source)}?start={citation.start}&end={citation.end}#quote"
    return (
        f'<div class="source" id="source-{citation.n}" data-source="{escape(citation.source)}">'
        f'<div class="source-head"><span class="marker">[{citation.n}]</span> '
        f"<strong>{escape(citation.title)}</strong></div>"
        f"{_about(citation.outlet, citation.date, citation.url)}"
        f'<div class="source-file"><code>{escape(citation.source)}</code> · '
        f'<a href="{escape(link)}" target="_blank" rel="noopener">open the whole article</a></div>'
        f'<blockquote class="passage">{highlight(passage, citation.quote)}</blockquote>'
        "</div>"
    )


def _about(outlet: str | None, date: str | None, url: str | None) -> str:
    """Outlet, date and a link to the original, for an article that gives them."""
    parts = []
    if outlet:
        parts.append(f'<span class="outlet">{escape(outlet)}</span>')
    if date:
        parts.append(f'<time class="date" datetime="{escape(date)}">{escape(shown_date(date))}</time>')
    if url:
        parts.append(f'<a class="original" href="{escape(url)}" target="_blank" rel="noopener noreferrer">original</a>')
    return f'<div class="source-about">{" · ".join(parts)}</div>' if parts else ""


def highlight(passage: str, quote: str, context: int = CONTEXT_CHARS) -> str:
    """``quote`` marked inside up to ``context`` characters of ``passage`` on each side, escaped."""
    at = passage.find(quote)
    if at < 0:
        return f"<mark>{escape(quote)}</mark>"
    before, after = passage[:at], passage[at + len(quote) :]
    if len(before) > context:
        before = "… " + before[-context:].split(" ", 1)[-1]
    if len(after) > context:
        after = after[:context].rsplit(" ", 1)[0] + " …"
    return f"{_lines(before)}<mark>{escape(quote)}</mark>{_lines(after)}"


def _lines(text: str) -> str:
    return escape(text).replace("\n", "<br>")


def index_note(stats: dict, llm: str = "none") -> str:
    answers = (
        "answers quote the articles verbatim."
        if llm == "none"
        else f"answers are quoted, or written by the `{llm}` language model with every sentence checked."
    )
    return (
        f"Indexed: **{stats['articles']} articles**, {stats['chunks']} chunks · "
        f"embedding model `{stats['model']}` · {answers}"
    )


def article_page(title: str, source: str, text: str, start: int | None, end: int | None, url: str | None = None) -> str:
    """A standalone page with the whole article, the cited passage marked and scrolled to."""
    if start is not None and end is not None and 0 <= start < end <= len(text):
        body = f'{_lines(text[:start])}<mark id="quote">{_lines(text[start:end])}</mark>{_lines(text[end:])}'
    else:
        body = _lines(text)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title>"
        "<style>body{font:16px/1.6 system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em}"
        "mark{background:#ffe58a;padding:.1em 0}code{color:#555}</style></head><body>"
        f"<p><code>{escape(source)}</code>{_original(url)}</p><article>{body}</article></body></html>"
    )


def _original(url: str | None) -> str:
    if not url:
        return ""
    return f' · <a id="original" href="{escape(url)}" rel="noopener noreferrer">read it at {escape(url)}</a>'


def articles_html(articles: list[ArticleInfo], query: str = "") -> str:
    """The article list: date, outlet, title (linked to the article), file and chunks; all escaped."""
    if not articles:
        return f'<p class="articles-none">{"No article matches that search." if query else "No articles yet."}</p>'
    rows = "".join(
        f'<tr data-source="{escape(a.source)}"><td>{escape(a.date or "–")}</td><td>{escape(a.outlet or "–")}</td>'
        f'<td><a href="/api/articles/{url_quote(a.source)}" target="_blank" rel="noopener">{escape(a.title)}</a></td>'
        f"<td><code>{escape(a.source)}</code></td><td>{a.chunks}</td></tr>"
        for a in articles
    )
    return (
        f'<table class="articles"><caption>{len(articles)} article(s)</caption>'
        "<tr><th>Date</th><th>Outlet</th><th>Title</th><th>File</th><th>Chunks</th></tr>"
        f"{rows}</table>"
    )
