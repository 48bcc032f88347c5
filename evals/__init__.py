"""Evaluation: datasets, runners, metrics and reports. Drives the bot's services like any other client."""
