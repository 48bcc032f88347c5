"""`policybot`: the command line, and the one composition root that wires everything together."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.config import Settings, get_settings


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _fail(message: str, code: int = 2) -> int:
    print(f"policybot: {message}", file=sys.stderr)
    return code


def _shared_index(settings: Settings, library: Any) -> Any:
    """The deployment's document flow; a configured database or Redis that does not answer stops here."""
    from bot.cluster.wiring import answer_cache, redis_from_settings, shared_index

    redis = redis_from_settings(settings, check=True)
    return shared_index(settings, library, redis, answer_cache(settings, redis, 1))


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evidence import save_sentence_vectors
    from bot.library_factory import make_library

    library = make_library(settings)
    index = _shared_index(settings, library)
    report = index.build(rebuild=args.rebuild, show_progress=not args.json)
    for error in report.errors:
        print(f"skipped {error}", file=sys.stderr)
    if not index.shared:  # with a shared database the build published them with the version
        save_sentence_vectors(library)
    if args.json:
        _print_json(report.as_dict())
    else:
        state = "published" if report.published else "unchanged"
        print(
            f"index {report.version} {state}: {report.chunk_count} chunks; added {len(report.added)}, "
            f"updated {len(report.updated)}, removed {len(report.removed)}, unchanged {len(report.unchanged)}, "
            f"embedded {report.embedded_chunks} chunks in {report.seconds:.1f}s"
        )
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from bot.library_factory import make_library

    if not args.query.strip():
        return _fail("the query is empty")
    library = make_library(settings)
    _shared_index(settings, library).ensure_built(show_progress=not args.json)
    filters = {"doc_id": args.doc} if args.doc else None
    result = library.search(args.query, k=args.k, method=args.method, filters=filters)
    if args.json:
        _print_json(
            [
                {
                    key: p.as_dict()[key]
                    for key in ("doc_id", "title", "doc_number", "section_path", "text", "score")
                }
                for p in result.passages
            ]
        )
        return 0
    for notice in result.notices:
        print(f"! {notice}")
    for rank, passage in enumerate(result.passages, 1):
        c = passage.chunk
        print(f"[{rank}] {c.title} {c.doc_number} · {c.section_path}  (score {passage.score:.4f})")
        print("    " + c.text.replace("\n", "\n    "))
    if not result.passages:
        print("no passages found")
    return 0


def _service(settings: Settings, show_progress: bool = True):  # type: ignore[no-untyped-def]
    from bot.service import AssistantService

    service = AssistantService.from_settings(settings)
    service.documents.ensure_built(show_progress=show_progress)  # or the version other replicas published
    return service


def _render_answer(answer: Any) -> str:
    lines = [answer.answer]
    if answer.citations:
        lines.append("")
        lines.append("来源：")
        for c in answer.citations:
            number = f" {c.doc_number}" if c.doc_number else ""
            lines.append(f"[{c.n}] 《{c.title}》{number} · {c.section_path}")
    for notice in answer.notices:
        lines.append(f"注意：{notice}")
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.service import InvalidQuestion

    service = _service(settings, show_progress=not args.json)
    try:
        answer = service.ask(args.question, session_id=args.session, mode=args.mode)
    except InvalidQuestion as exc:
        return _fail(str(exc))
    if args.json:
        _print_json(answer.model_dump(mode="json"))
    else:
        print(_render_answer(answer))
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    import uuid

    from bot.service import InvalidQuestion

    service = _service(settings)
    session = args.session or f"cli-{uuid.uuid4().hex[:8]}"
    print("政策问答（输入问题；/sources 查看上一答案的原文，/reset 新对话，/quit 退出）")
    while True:
        try:
            line = input("问> ").strip()
        except EOFError:
            print()
            return 0
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return 0
        if line == "/reset":
            service.reset(session)
            print("已开始新对话。")
            continue
        if line == "/sources":
            last = service.last_answer(session)
            if last is None or not last.citations:
                print("暂无可显示的原文。")
            for c in last.citations if last else []:
                print(f"[{c.n}] 《{c.title}》{c.doc_number} · {c.section_path}\n{c.quote}\n")
            continue
        try:
            print(_render_answer(service.ask(line, session_id=session, mode=args.mode)))
        except InvalidQuestion as exc:
            print(f"! {exc}")


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    # the one arrow back from bot to evals, made inside the command
    from evals.cli import run_eval

    return run_eval(args, settings)


def _built_in_this_format(layout: Any) -> bool:
    """Whether the serving index was read and chunked the way this version does (from its manifest, without
    loading the library; the same check `PolicyLibrary.ensure_built` makes)."""
    from retrieval.chunking import index_format

    try:
        manifest = layout.read_manifest(layout.current_version())
    except (OSError, ValueError):
        return False
    wanted = index_format()
    return {k: manifest.get(k) for k in wanted} == wanted


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    updates = {k: v for k, v in {"host": args.host, "port": args.port, "workers": args.workers}.items() if v}
    settings = settings.model_copy(update=updates)
    from retrieval.index import IndexLayout

    layout = IndexLayout(settings.resolved(settings.data_dir))
    if settings.database_url or settings.redis_url:
        from bot.library_factory import make_library

        # a replica: the configured servers must answer, and the published index is loaded (or, for the
        # first replica of a new deployment, built and published) before the workers start
        _shared_index(settings, make_library(settings)).ensure_built(show_progress=True)
    if layout.current_version() is None or not _built_in_this_format(layout):
        from bot.evidence import save_sentence_vectors
        from bot.library_factory import make_library

        # first start (or an upgrade that reads documents differently): build once, before the workers start
        library = make_library(settings)
        library.ensure_built(show_progress=True)
        save_sentence_vectors(library)
    elif settings.workers > 1:
        _fork_workers_from_a_preloaded_stack()
    uvicorn.run(
        "bot.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
    )
    return 0


def _fork_workers_from_a_preloaded_stack() -> None:
    """Import the application stack once, here, and let uvicorn fork its workers from this process instead of
    spawning fresh interpreters that each import it again (~3 s of CPU per worker, which two workers on two
    cores pay at the same time). Only before anything has started a thread (no model, client or index loaded
    here: each worker loads those itself). Without uvicorn's subprocess hook the workers are spawned as usual."""
    import multiprocessing
    import threading

    from uvicorn import _subprocess

    import bot.api.app  # noqa: F401  (the import is the point)

    if (
        hasattr(_subprocess, "spawn")
        and threading.active_count() == 1
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        _subprocess.spawn = multiprocessing.get_context("fork")  # type: ignore[assignment]


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    """`db upgrade`: migrate every store's database now (before rolling out replicas of a new version);
    `db import-sqlite DIR`: move an embedded data dir's sessions, feedback and uploads into the database."""
    from bot.storage.opening import database_for

    if args.action == "upgrade":
        for store in ("sessions", "feedback", "claims", "registry"):
            print(f"{store}: {database_for(settings, store).describe()} is current")  # type: ignore[arg-type]
        return 0
    from bot.storage.transfer import TargetNotEmpty, import_sqlite_dir

    if not settings.database_url:
        return _fail("set POLICYBOT_DATABASE_URL to the database to import into")
    source = Path(args.source)
    if not source.is_dir():
        return _fail(f"{source} is not a directory")
    try:
        copied = import_sqlite_dir(source, database_for(settings, "feedback"))
    except TargetNotEmpty as exc:
        return _fail(str(exc))
    _print_json(copied)
    return 0


def cmd_embed_server(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from retrieval.embedding_server import create_embedding_app

    uvicorn.run(create_embedding_app(args.threads), host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_telegram(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.telegram.builder import run_polling

    if settings.telegram_bot_token is None:
        return _fail("TELEGRAM_BOT_TOKEN is not set (create a bot with @BotFather and export the token)")
    run_polling(settings)
    return 0


def cmd_dingtalk(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.dingtalk.channel import run_stream

    if not (settings.dingtalk_client_id and settings.dingtalk_client_secret):
        return _fail(
            "POLICYBOT_DINGTALK_CLIENT_ID / POLICYBOT_DINGTALK_CLIENT_SECRET are not set "
            "(the robot app's Client ID and Client Secret, see README: Chat channels)"
        )
    run_stream(settings)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policybot", description="Cited answers from a library of policy documents"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the database: migrate it, or import an embedded data dir into it")
    db.add_argument("action", choices=["upgrade", "import-sqlite"])
    db.add_argument("source", nargs="?", default="data", help="import-sqlite: the data dir to import")
    db.set_defaults(func=cmd_db)

    embed = sub.add_parser(
        "embed-server", help="serve the packaged e5 model as an OpenAI-compatible /v1/embeddings endpoint"
    )
    embed.add_argument("--host", default="127.0.0.1")
    embed.add_argument("--port", type=int, default=8100)
    embed.add_argument("--threads", type=int, default=2, help="model threads (the machine's cores)")
    embed.set_defaults(func=cmd_embed_server)

    index = sub.add_parser("index", help="build or update the index (incremental, atomic)")
    index.add_argument("--rebuild", action="store_true", help="start over instead of updating")
    index.add_argument("--json", action="store_true", help="print the build report as JSON")
    index.set_defaults(func=cmd_index)

    search = sub.add_parser("search", help="show the passages retrieved for a query")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, choices=range(1, 51), metavar="K", help="passages (1-50)")
    search.add_argument("--method", choices=["hybrid", "bm25", "dense"], default="hybrid")
    search.add_argument("--doc", help="only this document id")
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=cmd_search)

    modes = ["extractive", "openai", "local"]
    ask = sub.add_parser("ask", help="answer one question with citations")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the Answer object as JSON")
    ask.add_argument("--session", help="conversation id for follow-up questions")
    ask.add_argument("--mode", choices=modes)
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="interactive question answering (/sources, /reset, /quit)")
    chat.add_argument("--session")
    chat.add_argument("--mode", choices=modes)
    chat.set_defaults(func=cmd_chat)

    serve = sub.add_parser("serve", help="HTTP API and web chat page")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=cmd_serve)

    telegram = sub.add_parser("telegram", help="run the Telegram bot (long polling)")
    telegram.set_defaults(func=cmd_telegram)

    dingtalk = sub.add_parser("dingtalk", help="run the DingTalk robot (Stream mode, outbound WebSocket)")
    dingtalk.set_defaults(func=cmd_dingtalk)

    # the arguments only; evals/ is imported by cmd_eval (see evals/README.md)
    evaluate = sub.add_parser(
        "eval",
        help="run the eval suites, compare with the baseline, check/convert datasets",
        description="Runs every suite (retrieval, QA, multi-turn, test split, paraphrases) for the chosen "
        "configurations and writes "
        "evals/reports/<timestamp>/report.{json,md,html}; or a dataset tool. See evals/README.md.",
    )
    evaluate.add_argument(
        "action",
        nargs="?",
        default="all",
        choices=[
            "all",
            "retrieval",
            "qa",
            "multiturn",
            "test",
            "paraphrase",
            "check-dataset",
            "import-csv",
            "export-csv",
            "export-feedback",
        ],
        help="suites (all; retrieval; qa = QA and multi-turn; multiturn; test = the frozen test split; "
        "paraphrase), or a dataset tool: check-dataset PATH, "
        "import-csv CSV OUT.jsonl, export-csv JSONL OUT.csv, export-feedback [--out PATH]",
    )
    evaluate.add_argument("paths", nargs="*", type=Path, help="files for the dataset tools")
    evaluate.add_argument(
        "--dataset", type=Path, action="append", help="JSONL dataset (retrieval or QA, detected); repeatable"
    )
    evaluate.add_argument(
        "--test-dataset", type=Path, help="the frozen test split (default evals/datasets/qa_test.jsonl)"
    )
    evaluate.add_argument(
        "--paraphrase-dataset",
        type=Path,
        help="paraphrases of dev items (default evals/datasets/paraphrases.jsonl)",
    )
    evaluate.add_argument("--mode", action="append", choices=modes, help="answer mode(s) for QA; repeatable")
    evaluate.add_argument(
        "--retriever", action="append", choices=["bm25", "dense", "hybrid", "baseline"], help="repeatable"
    )
    evaluate.add_argument("--compare", type=Path, metavar="BASELINE", help="e.g. evals/baseline.json")
    evaluate.add_argument(
        "--tolerance",
        type=float,
        default=0.01,
        help="allowed drop of each headline metric and share of items allowed to flip pass→fail (0.01)",
    )
    evaluate.add_argument(
        "--reference-items",
        type=int,
        default=3,
        metavar="K",
        help="reference configurations (dense, tutorial baseline) may move by K items' worth (3)",
    )
    evaluate.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="fail below a value (metric, config.metric or suite.config.metric); repeatable",
    )
    evaluate.add_argument(
        "--update-baseline",
        action="store_true",
        help="write the run as the baseline (--compare path or default)",
    )
    evaluate.add_argument(
        "--corpus",
        type=Path,
        metavar="DIR",
        help="bring your own corpus: index DIR into a throw-away data directory and score the --dataset FILE "
        "of reference answers (question, answer) against it",
    )
    evaluate.add_argument("--limit", type=int, metavar="N", help="--corpus: only the first N questions")
    evaluate.add_argument(
        "--evidence-removed",
        type=int,
        default=30,
        metavar="N",
        help="--corpus: ask N questions again on a copy without their evidence; all should be refused (0 = off)",
    )
    evaluate.add_argument(
        "--seed", type=int, default=16, help="--corpus: seed choosing the evidence-removed items"
    )
    evaluate.add_argument(
        "--plain-files",
        action="store_true",
        help="--corpus: write the corpus out as one plain-text file per article/paragraph (no front matter) first",
    )
    evaluate.add_argument("--reports-dir", type=Path, help="default evals/reports")
    evaluate.add_argument("--no-judge", action="store_true", help="no LLM judge even when an endpoint is set")
    evaluate.add_argument("--no-progress", action="store_true")
    evaluate.add_argument("--out", type=Path, help="export-feedback output (default stdout)")
    evaluate.add_argument("--json", action="store_true", help="print metrics and comparison as JSON")
    evaluate.set_defaults(func=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from bot.cluster.wiring import RedisUnavailable
    from bot.storage.database import DatabaseUnavailable

    try:
        return int(args.func(args, get_settings()) or 0)
    except KeyboardInterrupt:
        return 130
    except (DatabaseUnavailable, RedisUnavailable) as exc:  # a configured server is down: say so, no trace
        return _fail(str(exc), code=1)


if __name__ == "__main__":
    sys.exit(main())
