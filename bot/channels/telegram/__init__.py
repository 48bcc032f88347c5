"""Telegram surface: python-telegram-bot v22 handlers over the shared AssistantService.

`builder.build_application(service, settings)` wires everything, `builder.run_polling(settings)` runs
it, `webhook.make_webhook_router(application, secret_token)` exposes a FastAPI webhook route."""
