"""WeCom (企业微信) self-built application in callback mode, served by the FastAPI app.

`callback.make_wecom_router(channel)` is `GET/POST /wecom/callback` (URL verification; encrypted messages,
acknowledged at once and answered in a background task); `channel.WeComChannel` turns a message into a reply
through the shared `TextConversation`; `api.WeComAPI` sends it with the message API (wechatpy's client: cached
access token, refreshed on expiry, retries with backoff)."""
