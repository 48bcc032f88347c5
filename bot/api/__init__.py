"""HTTP API (FastAPI): ask, OpenAI-compatible chat, search, documents, feedback, health, web page."""
