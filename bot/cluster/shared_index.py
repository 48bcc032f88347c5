"""Document changes and index versions, the same way for every process: an upload or delete is recorded in
the document registry, then one process (holding the publish lock) rebuilds the index and publishes it.

With a shared database (PostgreSQL) the published version's files (chunks, manifest, sentence vectors) go into
the registry too, and every replica pulls them into its own data dir: at once when Redis announces the version,
and at the latest after `poll_seconds` otherwise. Vectors live in the Chroma server all replicas query. With the
embedded SQLite default the processes share one data dir, so the registry only records the uploads."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable

from bot.cluster.locks import BuildLock
from bot.cluster.signals import NoSignal, VersionSignal
from bot.storage.registry import DocumentRegistry
from retrieval.documents import PolicyDocument
from retrieval.indexer import BuildReport
from retrieval.library import PolicyLibrary

log = logging.getLogger("policybot.cluster")
VERSION_FILES = ("chunks.jsonl", "manifest.json", "sentence_vectors.npz")


class SharedIndex:
    def __init__(
        self,
        library: PolicyLibrary,
        registry: DocumentRegistry,
        *,
        lock: BuildLock,
        shared: bool,
        signal: VersionSignal | None = None,
        poll_seconds: float = 2.0,
        after_build: Callable[[PolicyLibrary], None] | None = None,
        on_published: Callable[[str], None] | None = None,
    ) -> None:
        self.library = library
        self.registry = registry
        self.lock = lock
        self.shared = shared
        self.signal = signal or NoSignal()
        self.poll_seconds = poll_seconds
        self.after_build = after_build
        self.on_published = on_published
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # -- changes -----------------------------------------------------------------------------------
    def add_document(self, raw: bytes, filename: str) -> tuple[PolicyDocument, BuildReport]:
        """Validate, record and index one upload; a rejected upload changes nothing."""
        document, stored_name = self.library.validate_upload(raw, filename)
        with self.lock():
            self.pull()
            self.registry.put_upload(document.doc_id, stored_name, raw)
            return document, self._build_locked(rebuild=False)

    def delete_document(self, doc_id: str) -> BuildReport:
        with self.lock():
            self.pull()
            self.sync_uploads()
            self.library.check_deletable(doc_id)
            self.registry.delete_upload(doc_id)
            return self._build_locked(rebuild=False)

    def build(self, rebuild: bool = False, show_progress: bool = False) -> BuildReport:
        with self.lock():
            self.pull()
            return self._build_locked(rebuild=rebuild, show_progress=show_progress)

    def ensure_built(self, show_progress: bool = False) -> BuildReport | None:
        """Load the published version, or build one when there is none yet or it was built by another
        reader, chunker or embedding model (the first replica to start builds; the others wait and load it)."""
        self.pull()  # most starts: a version is published, no lock needed
        current = self.library.layout.current_version()
        if current is not None and self.library.builder().built_alike(current):
            return None
        with self.lock():
            self.pull()
            current = self.library.layout.current_version()
            if current is not None and self.library.builder().built_alike(current):
                return None
            return self._build_locked(rebuild=False, show_progress=show_progress)

    def _build_locked(self, rebuild: bool, show_progress: bool = False) -> BuildReport:
        self.sync_uploads()
        report = self.library.build(rebuild=rebuild, show_progress=show_progress)
        if report.published:
            if self.after_build is not None:
                self.after_build(self.library)
            if self.shared:
                self.push(report.version)
            self.signal.publish(report.version)
            if self.on_published is not None:
                self.on_published(report.version)
        return report

    # -- uploads folder <-> registry ---------------------------------------------------------------
    def sync_uploads(self) -> None:
        """Make the uploads folder what the registry says: files it lacks are written, deleted ones removed;
        a file only the folder has (uploaded before the registry existed) is recorded, not lost."""
        stored = {u.doc_id: u for u in self.registry.uploads(include_deleted=True)}
        local = self.library.upload_files()
        for doc_id, path in local.items():
            if doc_id not in stored:
                log.info("recording %s (found in the uploads folder) in the document registry", path.name)
                self.registry.put_upload(doc_id, path.name, path.read_bytes())
        for upload in self.registry.uploads(include_deleted=True):
            path = local.get(upload.doc_id)
            if upload.deleted:
                if path is not None:
                    self.library.remove_upload(upload.doc_id)
            elif path is None or path.name != upload.filename or path.read_bytes() != upload.content:
                self.library.write_upload(upload.doc_id, upload.filename, upload.content)

    # -- published versions ------------------------------------------------------------------------
    def push(self, version: str) -> None:
        directory = self.library.layout.version_dir(version)
        files = {
            name: (directory / name).read_bytes() for name in VERSION_FILES if (directory / name).exists()
        }
        self.registry.publish_version(version, files)

    def pull(self) -> str | None:
        """Load the registry's current version into this data dir; the version when it changed, else None."""
        if not self.shared:
            return None
        layout = self.library.layout
        remote = self.registry.current_version()
        local = layout.current_version()
        if remote is None or remote == local:
            return None
        target = layout.version_dir(remote)
        if not (target / "manifest.json").exists():
            files = self.registry.version_files(remote)
            if "manifest.json" not in files:
                return None  # replaced meanwhile: the next check finds the newer one
            partial = target.with_name(f"{target.name}.pull-{os.getpid()}-{threading.get_ident()}")
            partial.mkdir(parents=True, exist_ok=True)
            for name, content in files.items():
                (partial / name).write_bytes(content)
            try:
                os.replace(partial, target)
            except OSError:  # another worker of this replica pulled it first
                shutil.rmtree(partial, ignore_errors=True)
        layout.publish(remote)
        self._drop_local_versions(keep={remote, local} - {None})
        log.info("index %s loaded from the registry (was %s)", remote, local)
        return remote

    def _drop_local_versions(self, keep: set[str | None]) -> None:
        versions = self.library.layout.root / "versions"
        for path in versions.iterdir() if versions.is_dir() else ():
            if path.name not in keep and ".pull-" not in path.name:
                shutil.rmtree(path, ignore_errors=True)

    # -- following other replicas ------------------------------------------------------------------
    def start_watching(self, on_version: Callable[[str], None]) -> None:
        """A daemon thread that pulls each new version (signal or poll) and hands it to `on_version`."""
        if not self.shared or self._watcher is not None:
            return
        self._stop.clear()
        self._watcher = threading.Thread(
            target=self._watch, args=(on_version,), name="policybot-index-sync", daemon=True
        )
        self._watcher.start()

    def _watch(self, on_version: Callable[[str], None]) -> None:
        while not self._stop.is_set():
            self.signal.wait(self.poll_seconds)
            if self._stop.is_set():
                return
            try:
                version = self.pull()
                if version is not None:
                    on_version(version)
            except Exception:  # a database or disk hiccup: try again at the next signal or poll
                log.exception("following the published index failed; retrying")

    def stop_watching(self) -> None:
        self._stop.set()
        self.signal.close()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
            self._watcher = None
