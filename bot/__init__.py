"""The assistant: answering chain, answer modes, and the surfaces (API, Telegram, CLI)."""
