"""Answer modes: extractive (embedded default, no LLM) and generative (OpenAI-compatible or local llama.cpp)."""
