"""Question kinds recognised by meaning, for wordings the regular expressions of bot.question do not list.

Each kind has a few phrasings (bot/data/intent_exemplars.json, written for this module, not taken from an eval
dataset), embedded once with the query embedding retrieval uses. A question gets the kind of its nearest
phrasings (the mean similarity of the K nearest of each kind) when that beats the nearest content questions
("none") by MARGIN; otherwise it has none. Today the kinds are the document fields a metadata question asks for
(文号, issuer, dates, level, validity, title, period, addressees, topic). The vectors are cached per model and
phrasing file under the user's cache directory, so a restart does not embed them again."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from importlib import resources
from typing import Any

import numpy as np

from retrieval.cache import user_cache_dir
from retrieval.embeddings import SIMILARITY_DECIMALS

log = logging.getLogger(__name__)
K = 3
MARGIN = 0.02  # the smallest margin at which no dev content question is read as a field question
NONE = "none"


class IntentExemplars:
    def __init__(self, embeddings: Any, model_id: str = "") -> None:
        self.embeddings = embeddings
        self.model_id = model_id
        raw = resources.files("bot").joinpath("data/intent_exemplars.json").read_text(encoding="utf-8")
        data = {k: v for k, v in json.loads(raw).items() if not k.startswith("_")}
        self.labels = np.array([kind for kind, phrasings in data.items() for _ in phrasings])
        self.phrasings = [p for phrasings in data.values() for p in phrasings]
        self.kinds = list(data)
        self._digest = hashlib.sha256(f"{model_id}\n{raw}".encode()).hexdigest()[:16]
        self._matrix: np.ndarray | None = None
        self._lock = threading.Lock()

    def matrix(self) -> np.ndarray:
        with self._lock:
            if self._matrix is None:
                self._matrix = self._load_or_embed()
            return self._matrix

    def _load_or_embed(self) -> np.ndarray:
        path = user_cache_dir() / f"intents-{self._digest}.npy"
        try:
            matrix = np.load(path)
            if matrix.shape[0] == len(self.phrasings):
                return matrix
        except (OSError, ValueError):
            pass
        matrix = np.asarray([self.embeddings.embed_query(p) for p in self.phrasings], dtype=np.float32)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.partial.npy")
            np.save(partial, matrix)
            os.replace(partial, path)
        except OSError as exc:  # a read-only home only costs the embedding at the next start
            log.info("intent vectors not cached: %s", exc)
        return matrix

    def scores(self, question: str) -> dict[str, float]:
        """Each kind's mean similarity of its K nearest phrasings to the question."""
        query = np.asarray(self.embeddings.embed_query(question), dtype=np.float32)
        similarity = np.round(self.matrix() @ query, SIMILARITY_DECIMALS)
        return {kind: float(np.sort(similarity[self.labels == kind])[::-1][:K].mean()) for kind in self.kinds}

    def kind(self, question: str) -> str | None:
        """The kind of question, or None when no kind is clearly nearer than content questions."""
        scores = self.scores(question)
        best = max((k for k in scores if k != NONE), key=lambda k: scores[k])
        return best if scores[best] - scores[NONE] >= MARGIN else None
