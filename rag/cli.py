"""Command line: ``rag ingest``, ``rag ask``, ``rag chat``, ``rag serve`` (web UI), ``rag eval``,
``rag calibrate``, ``rag articles list|remove`` and ``rag feedback export``.

Every field of :class:`rag.settings.Settings` is also a flag of every command (``--data-dir``,
``--top-k``, ...), overriding its ``RAG_*`` environment variable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import types
import typing
from pathlib import Path

from pydantic import ValidationError

from rag.errors import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, InvalidInput, InvalidQuestion, RagError, exit_code
from rag.safejson import loads
from rag.settings import Settings
from rag.validation import check_history, problems

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a program whose reader went away


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except RagError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return exit_code(problem)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `rag ask --json ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit must not fail
        return EXIT_BROKEN_PIPE


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {name: getattr(args, name) for name in Settings.model_fields if getattr(args, name, None) is not None}
    try:
        return Settings(**overrides)
    except ValidationError as invalid:
        raise RagError(f"invalid setting: {problems(invalid)}") from None


def _assistant(args: argparse.Namespace):
    from rag.assistant import Assistant  # heavy imports only once the arguments are valid

    return Assistant(_settings(args))


def cmd_ingest(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    report = assistant.ingest([Path(p) for p in args.paths] or None)
    for problem in report.errors:
        print(f"error: {problem}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(report.summary())
    if report.errors:
        return EXIT_USAGE if report.files == 0 else EXIT_PARTIAL
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.filters import ArticleFilter

    history = _read_history(args.history) if args.history else []
    filters = ArticleFilter.parse(args.since, args.until, args.outlet)
    answer = _assistant(args).ask(" ".join(args.question), history, filters=filters)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render(answer))
    return EXIT_OK


def cmd_chat(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    stats = assistant.stats()
    print(f"Ask about {stats['articles']} articles ({stats['chunks']} chunks). Empty line or Ctrl-D to quit.")
    history: list[tuple[str, str]] = []
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return EXIT_OK
        if not question or question.lower() in {"exit", "quit", ":q"}:
            return EXIT_OK
        try:
            answer = assistant.ask(question, history)
        except RagError as problem:
            print(f"error: {problem}")
            continue
        print(render(answer))
        history.append((question, answer.answer))


def cmd_serve(args: argparse.Namespace) -> int:
    from ui.server import serve  # gradio and uvicorn load only for this command

    serve(_settings(args))
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.evaluation.command import run  # the evaluation loads matplotlib and the model

    return run(args, _settings(args))


def cmd_calibrate(args: argparse.Namespace) -> int:
    from rag.calibration import run  # scikit-learn and matplotlib load only here

    return run(args, _settings(args))


def cmd_articles_list(args: argparse.Namespace) -> int:
    from rag.articles import list_articles

    found = list_articles(_assistant(args), args.query)
    if args.json:
        print(json.dumps([a.to_dict() for a in found], ensure_ascii=False, indent=2))
        return EXIT_OK
    for a in found:
        print(f"{a.date or '-':10}  {a.outlet or '-':20.20}  {a.chunks:4} chunks  {a.source}  {a.title}")
    print(f"{len(found)} articles" + (f" matching {args.query!r}" if args.query else ""))
    return EXIT_OK


def cmd_articles_remove(args: argparse.Namespace) -> int:
    from rag.articles import remove_article

    assistant = _assistant(args)
    for source in args.sources:
        print(remove_article(assistant, source).message())
    return EXIT_OK


def cmd_feedback_export(args: argparse.Namespace) -> int:
    """Print ``rag eval`` question records (JSONL) made from the 👎 verdicts; notes go to stderr."""
    from rag import feedback

    settings = _settings(args)
    entries, notes = feedback.read(settings)
    assistant = _assistant(args) if entries else None

    def sources_with(text: str) -> list[str]:
        with assistant.store.reading():
            return assistant.store.sources_containing(text)

    count = 0
    for item in feedback.export(entries, sources_with):
        if isinstance(item, str):
            notes.append(item)
        else:
            print(json.dumps(item, ensure_ascii=False))
            count += 1
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{count} evaluation records from {len(entries)} verdicts", file=sys.stderr)
    return EXIT_OK


def render(answer) -> str:
    """The answer for a terminal: text with [n] markers, then the cited passages."""
    notice = [f"\nNote: {answer.notice}"] if answer.notice else []
    if answer.abstained:
        return "\n".join([answer.answer, *notice])
    lines = [answer.answer, *notice, "", "Sources:"]
    for c in answer.citations:
        about = ", ".join(x for x in (c.outlet, c.date) if x)
        lines.append(f"  [{c.n}] {c.title} ({c.source}, chars {c.start}-{c.end}{', ' + about if about else ''})")
        lines.append(f"      “{c.quote}”")
    return "\n".join(lines)


def _read_history(path: str) -> list[tuple[str, str]]:
    try:
        data = loads(Path(path).read_bytes())
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read history file ({exc.strerror or exc})") from exc
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: history file is not valid JSON ({exc})") from exc
    try:
        return check_history(data)
    except InvalidQuestion as problem:
        raise InvalidInput(f"{path}: {problem}") from None


def _calibration_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--questions",
        nargs="+",
        required=True,
        metavar="[SET=]FILE",
        help="labelled question files (JSONL), optionally named; with as many --corpus paths, paired in order",
    )
    parser.add_argument(
        "--max-false-abstention",
        nargs="+",
        default=["0.05"],
        metavar="[SET=]SHARE",
        help="largest false abstention the chosen threshold may cause: one share for every set, or SET=SHARE "
        "per question file (named by its file stem)",
    )
    parser.add_argument("--out", type=Path, default=Path("artifacts/calibration"), help="folder for table and PNG")
    parser.add_argument(
        "--write", type=Path, help="where to write the fitted model (default: data_dir/answer-model.json)"
    )
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def _settings_flags() -> argparse.ArgumentParser:
    """A parent parser with one flag per settings field, so every command accepts them all."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("settings (each also read from RAG_<NAME>)")
    for name, field in Settings.model_fields.items():
        flag = "--" + name.replace("_", "-")
        annotation = field.annotation
        if annotation is bool:
            group.add_argument(
                flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=field.description
            )
            continue
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # "str | None"
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        if typing.get_origin(annotation) is typing.Literal:  # "--llm none|local|openai"
            choices = typing.get_args(annotation)
            group.add_argument(flag, dest=name, choices=choices, metavar="|".join(choices), help=field.description)
        elif typing.get_origin(annotation) is list:
            (item,) = typing.get_args(annotation)
            group.add_argument(flag, dest=name, type=item, nargs="+", metavar=name.upper(), help=field.description)
        else:
            group.add_argument(flag, dest=name, type=annotation, metavar=name.upper(), help=field.description)
    return parent


def _version() -> str:
    """The installed package's version (pyproject.toml), so `rag --version` never disagrees with pip."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rag-news")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Ask questions about news articles; answers cite them.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    flags = [_settings_flags()]

    ingest = commands.add_parser("ingest", parents=flags, help="index article files (.txt, .md)")
    ingest.add_argument("paths", nargs="*", help="files or folders (default: the corpus setting, seeds/)")
    ingest.set_defaults(handler=cmd_ingest)

    ask = commands.add_parser("ask", parents=flags, help="answer one question")
    ask.add_argument("question", nargs="+", help="the question")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--history", metavar="FILE", help="JSON list of earlier [question, answer] pairs")
    ask.add_argument("--since", metavar="DATE", help="only articles dated on or after DATE (2025-02-11)")
    ask.add_argument("--until", metavar="DATE", help="only articles dated on or before DATE")
    ask.add_argument("--outlet", action="append", metavar="NAME", help="only articles from this outlet (repeatable)")
    ask.set_defaults(handler=cmd_ask)

    chat = commands.add_parser("chat", parents=flags, help="conversation in the terminal")
    chat.set_defaults(handler=cmd_chat)

    serve = commands.add_parser("serve", parents=flags, help="chat page and JSON API in one web server")
    serve.set_defaults(handler=cmd_serve)

    articles = commands.add_parser("articles", help="list or remove indexed articles").add_subparsers(
        dest="action", required=True
    )
    listing = articles.add_parser("list", parents=flags, help="the indexed articles, newest first")
    listing.add_argument("query", nargs="?", help="keep articles whose title, file, outlet or date contain this")
    listing.add_argument("--json", action="store_true", help="print them as a JSON list")
    listing.set_defaults(handler=cmd_articles_list)
    remove = articles.add_parser("remove", parents=flags, help="take articles out of the index")
    remove.add_argument("sources", nargs="+", metavar="SOURCE", help="the article's file, as `rag articles list` shows")
    remove.set_defaults(handler=cmd_articles_remove)

    feedback = commands.add_parser("feedback", help="the 👍/👎 given on answers").add_subparsers(
        dest="action", required=True
    )
    export = feedback.add_parser("export", parents=flags, help="print `rag eval` question records (JSONL)")
    export.set_defaults(handler=cmd_feedback_export)

    from rag.evaluation.command import add_arguments

    evaluate = commands.add_parser(
        "eval", parents=flags, help="score the evaluation set; fail when a metric drops below the baseline"
    )
    add_arguments(evaluate)
    evaluate.set_defaults(handler=cmd_eval)

    calibrate = commands.add_parser(
        "calibrate", parents=flags, help="fit the answer and abstention model on labelled questions (--corpus: theirs)"
    )
    _calibration_arguments(calibrate)
    calibrate.set_defaults(handler=cmd_calibrate)
    return parser


if __name__ == "__main__":
    sys.exit(main())
