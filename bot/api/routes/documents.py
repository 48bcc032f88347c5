"""The document library: list, detail, and (admin only) upload and delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from bot.api.deps import AdminDep, ServiceDep, SettingsDep
from bot.api.errors import PROBLEM_RESPONSES, ProblemError
from bot.api.schemas import DeleteResult, DocumentDetail, DocumentSummary
from bot.text_input import ClientIdentifier, InvalidText, clean_text
from retrieval.library import DocumentNotFound

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_EXAMPLE = """---
id: example-upload-2026
title: 示例市数字基础设施建设指导意见
issuer: 示例市人民政府
doc_number: 示政发〔2026〕1号
published: 2026-01-05
period: 2026-2028
---
一、总体要求

到2028年，建成5G基站3000个。
"""
DocId = Annotated[
    ClientIdentifier,
    Path(min_length=1, max_length=200, description="document id", examples=["suzhou-new-infra-2021"]),
]
router = APIRouter(prefix="/documents", tags=["documents"])


@router.get("", response_model=list[DocumentSummary], summary="List documents", responses=PROBLEM_RESPONSES)
async def list_documents(service: ServiceDep) -> list[DocumentSummary]:
    docs = await run_in_threadpool(service.library.documents)
    return [DocumentSummary(**d) for d in docs]


@router.get(
    "/{doc_id}",
    response_model=DocumentDetail,
    summary="One document with its text",
    responses=PROBLEM_RESPONSES,
)
async def get_document(doc_id: DocId, service: ServiceDep) -> DocumentDetail:
    snapshot = await run_in_threadpool(service.library.live.current)
    entry = snapshot.documents.get(doc_id)
    if entry is None:
        raise DocumentNotFound(doc_id)
    sections = list(dict.fromkeys(c.section_path for c in snapshot.chunks_of(doc_id) if c.section_path))
    return DocumentDetail(
        **entry["summary"],
        chunk_count=len(entry.get("chunk_ids", [])),
        source=entry.get("source", ""),
        sections=sections,
        text=entry.get("text", ""),
    )


@router.post(
    "",
    response_model=DocumentSummary,
    status_code=201,
    summary="Upload a document (admin)",
    dependencies=[AdminDep],
    responses=PROBLEM_RESPONSES,
    openapi_extra={
        "requestBody": {
            "content": {"multipart/form-data": {"example": {"file": UPLOAD_EXAMPLE}}},
        }
    },
)
async def upload_document(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description=".md (YAML front matter), .txt, .html, .docx or .pdf")],
) -> DocumentSummary:
    limit = int(getattr(settings, "max_upload_bytes", DEFAULT_MAX_UPLOAD_BYTES) or DEFAULT_MAX_UPLOAD_BYTES)
    raw = await file.read(limit + 1)
    if len(raw) > limit:
        raise ProblemError(413, f"文件超过 {limit // (1024 * 1024)} MB 上限。", title="Upload too large")
    try:
        filename = clean_text(file.filename or "", field="文件名", max_chars=255, single_line=True)
    except InvalidText as exc:
        raise ProblemError(422, str(exc), title="Invalid file name") from exc
    document, _report = await run_in_threadpool(service.add_document, raw, filename)
    listed = {d["doc_id"]: d for d in await run_in_threadpool(service.library.documents)}
    data = listed.get(document.doc_id) or {**document.summary(), "source": document.source}
    return DocumentSummary(**data)


@router.delete(
    "/{doc_id}",
    response_model=DeleteResult,
    summary="Delete an uploaded document (admin)",
    dependencies=[AdminDep],
    responses=PROBLEM_RESPONSES,
)
async def delete_document(doc_id: DocId, service: ServiceDep) -> DeleteResult:
    await run_in_threadpool(service.delete_document, doc_id)
    version = await run_in_threadpool(service.library.layout.current_version)
    return DeleteResult(deleted=doc_id, index_version=version or "")
