"""The document registry and the published index versions, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from bot.storage.database import Database
from bot.storage.registry import DocumentRegistry


def test_uploads_replace_and_delete_with_a_tombstone(database: Database) -> None:
    registry = DocumentRegistry(database)
    registry.put_upload("d1", "d1.md", b"first")
    registry.put_upload("d1", "d1.txt", b"second")
    registry.put_upload("d2", "d2.md", "文件".encode())
    assert [(u.doc_id, u.filename, u.content) for u in registry.uploads()] == [
        ("d1", "d1.txt", b"second"),
        ("d2", "d2.md", "文件".encode()),
    ]
    assert registry.delete_upload("d1") and not registry.delete_upload("d1")
    assert not registry.delete_upload("unknown")
    assert [u.doc_id for u in registry.uploads()] == ["d2"]
    assert [(u.doc_id, u.deleted) for u in registry.uploads(include_deleted=True)] == [
        ("d1", True),
        ("d2", False),
    ]
    registry.put_upload("d1", "d1.md", b"back")  # an upload after a delete revives the id
    assert [u.doc_id for u in registry.uploads()] == ["d1", "d2"]


def test_publish_keeps_the_newest_versions_and_moves_the_pointer(database: Database) -> None:
    registry = DocumentRegistry(database)
    assert registry.current_version() is None
    for n in range(1, 5):
        registry.publish_version(f"v{n}", {"chunks.jsonl": b"c" * n, "manifest.json": b"{}"})
        assert registry.current_version() == f"v{n}"
    assert registry.version_files("v4") == {"chunks.jsonl": b"cccc", "manifest.json": b"{}"}
    assert registry.version_files("v3") != {}  # the previous version stays for replicas still loading it
    assert registry.version_files("v2") == {} and registry.version_files("v1") == {}
    big = bytes(range(256)) * 40_000  # ~10 MB of sentence vectors
    registry.publish_version("v5", {"sentence_vectors.npz": big})
    assert registry.version_files("v5")["sentence_vectors.npz"] == big
