"""A library written by a test: plain-text files in a temporary directory, indexed with the packaged e5 model,
and an answering service over it (for rules that must hold on documents other than the shipped corpus)."""

from __future__ import annotations

from pathlib import Path

from bot.service import AssistantService
from bot.storage.sessions import SqlSessionStore
from retrieval.embeddings import E5Embeddings
from retrieval.library import PolicyLibrary
from retrieval.store import ChromaLocation


def service_over(root: Path, files: dict[str, str], e5: E5Embeddings) -> AssistantService:
    """Write `files` (name → text) under root/corpus, index them into root/data, and serve them."""
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    data = root / "data"
    library = PolicyLibrary(
        data_dir=data,
        corpus_dirs=[corpus],
        uploads_dir=data / "uploads",
        embeddings=e5,
        embedding_model=E5Embeddings.model_name,
        chroma=ChromaLocation(path=data / "chroma"),
    )
    assert library.build().published
    return AssistantService(library, SqlSessionStore(root / "sessions.sqlite3"))


# the head of a provincial and a city 通知 that publishes a plan, shared by the libraries the tests write
JIANGSU_PLAN_NOTICE = """江苏省人民政府关于印发江苏省新型基础设施建设行动方案(2024-2026年)的通知
苏政发〔2024〕15号
各设区市人民政府，省各委办厅局：
现将《江苏省新型基础设施建设行动方案(2024-2026年)》印发给你们，请认真组织实施。
江苏省人民政府
2024年1月10日
"""
SUZHOU_PLAN_NOTICE = """苏州市人民政府办公室关于印发苏州市新型基础设施建设行动计划(2024-2026年)的通知
苏府办〔2024〕7号
各市、区人民政府，市各委办局：
《苏州市新型基础设施建设行动计划(2024-2026年)》已经市政府同意，现印发给你们，请认真贯彻落实。
苏州市人民政府办公室
2024年2月1日
"""
WUXI_DIGITAL_PLAN = """无锡市人民政府关于印发无锡市数字经济发展行动方案(2024-2026年)的通知
锡政发〔2024〕3号
各市（县）、区人民政府，市各委办局：
现将《无锡市数字经济发展行动方案(2024-2026年)》印发给你们，请认真组织实施。
无锡市人民政府
2024年3月5日
一、发展目标
到2026年，全市建成12个物联网示范园区，培育8个数字产业集群。
二、重点任务
(一)壮大三大产业。做强物联网、集成电路、软件和信息服务三大产业，打造具有国际竞争力的产业高地。
(二)建设公共平台。建设算力调度平台，推动公共数据开放共享。
"""
