"""`policybot`: the command line, and the one composition root that wires everything together."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from bot.config import Settings, get_settings


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _fail(message: str, code: int = 2) -> int:
    print(f"policybot: {message}", file=sys.stderr)
    return code


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from bot.library_factory import make_library

    library = make_library(settings)
    report = library.build(rebuild=args.rebuild, show_progress=not args.json)
    for error in report.errors:
        print(f"skipped {error}", file=sys.stderr)
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
    library.ensure_built(show_progress=not args.json)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policybot", description="Cited answers about Zibo/Shandong policies"
    )
    sub = parser.add_subparsers(dest="command", required=True)

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args, get_settings()) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
