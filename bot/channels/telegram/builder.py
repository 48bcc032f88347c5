"""All wiring in one place: `build_application(service, settings)` and `run_polling(settings)`."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.conversation import AnswerLog, RateLimiter
from bot.channels.telegram import handlers
from bot.channels.telegram.config import TelegramConfig
from bot.storage.feedback import FeedbackStore
from bot.storage.opening import store_database

log = logging.getLogger(__name__)

COMMANDS: list[tuple[str, str]] = [
    ("start", "开始使用：我能回答什么、示例问题"),
    ("help", "使用说明"),
    ("ask", "提问：/ask 问题"),
    ("sources", "查看上一条回答引用的原文"),
    ("docs", "已收录的政策文件（文号、执行期、状态）"),
    ("reset", "清空对话上下文"),
    ("feedback", "提交意见反馈：/feedback 内容"),
]
MODE_COMMAND = ("mode", "切换回答模式（仅管理员）")

NON_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
    | filters.POLL
    | filters.Dice.ALL
)


def bot_commands(service: Any) -> list[BotCommand]:
    commands = list(COMMANDS)
    if len(service.modes) > 1:
        commands.append(MODE_COMMAND)
    return [BotCommand(name, description) for name, description in commands]


async def post_init(application: Application) -> None:
    """Registers the command menu (setMyCommands). PTB calls this from run_polling/run_webhook;
    a FastAPI-hosted webhook must call it after `await application.initialize()`."""
    await application.bot.set_my_commands(bot_commands(application.bot_data["service"]))


async def post_shutdown(application: Application) -> None:
    """Closes the feedback store. PTB calls this from run_polling/run_webhook; a FastAPI-hosted webhook
    calls it after `await application.shutdown()` (see webhook.stop)."""
    store = application.bot_data.get("feedback")
    if store is not None:
        store.close()


def build_application(service: Any, settings: Any, *, config: TelegramConfig | None = None) -> Application:
    config = config or TelegramConfig.from_settings(settings)
    if not config.token:
        raise ValueError("Telegram bot token missing: set TELEGRAM_BOT_TOKEN (settings.telegram_bot_token)")
    builder = (
        ApplicationBuilder()
        .token(config.token)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(8)
    )
    if config.base_url:
        builder = builder.base_url(f"{config.base_url}/bot").base_file_url(f"{config.base_url}/file/bot")
    application = builder.build()
    # the same store (feedback + answer log) as the API's, over the same database
    feedback = FeedbackStore(store_database(config.database_url, config.data_dir, "feedback"))
    feedback.prune(config.log_retention_days)
    application.bot_data.update(
        service=service,
        config=config,
        feedback=feedback,
        answer_log=AnswerLog(feedback, log_answers=config.log_answers),
        answers=OrderedDict(),
        refused=set(),
        rate=RateLimiter(config.rate_limit_per_minute),
        voted=set(),
    )

    new = filters.UpdateType.MESSAGE
    application.add_handler(TypeHandler(Update, handlers.access_gate), group=-1)
    for name, callback in (
        ("start", handlers.start_command),
        ("help", handlers.help_command),
        ("ask", handlers.ask_command),
        ("sources", handlers.sources_command),
        ("docs", handlers.docs_command),
        ("reset", handlers.reset_command),
        ("mode", handlers.mode_command),
        ("feedback", handlers.feedback_command),
    ):
        application.add_handler(CommandHandler(name, callback, filters=new))
    application.add_handler(CallbackQueryHandler(handlers.callback_query))
    application.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, handlers.text_message))
    application.add_handler(MessageHandler(new & filters.COMMAND, handlers.unknown_command))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, handlers.edited_message))
    application.add_handler(MessageHandler(new & NON_TEXT, handlers.non_text_message))
    application.add_error_handler(handlers.error_handler)
    return application


def run_polling(settings: Any) -> None:
    """Entry point for `policybot telegram`: build the service and poll until interrupted."""
    from bot.service import AssistantService

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    service = AssistantService.from_settings(settings)
    service.library.warm_up()
    application = build_application(service, settings)
    log.info("starting Telegram polling")
    application.run_polling(allowed_updates=Update.ALL_TYPES)
