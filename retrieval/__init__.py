"""Retrieval: documents → chunks → index (Chroma + BM25) → retrieved passages."""
