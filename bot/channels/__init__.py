"""Chat channels: thin surfaces over the one `AssistantService`, side by side.

`telegram/` (python-telegram-bot), `wecom/` (企业微信 self-built application, callback route in the API app) and
`dingtalk/` (钉钉 robot, Stream mode). What every channel shares lives here: `rendering.py` (an `Answer` as plain
pieces with numbered citations, split by a length function; each channel only formats the pieces) and
`conversation.py` (incoming text check, allowlist, per-user rate limit, session ids, feedback and the answer log)."""
