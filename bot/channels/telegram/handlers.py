"""Small `async def handler(update, context) -> None` functions; the wiring is in builder.py.

Shared state lives in `application.bot_data` (see builder.py): the service, the TelegramConfig, the
FeedbackStore (bot/storage/feedback.py, shared with the API: feedback and the answer log), recent answers
(for the "原文 n" buttons), refused users and rate-limit windows.
Every service and store call runs in a worker thread (`asyncio.to_thread`) so the event loop never blocks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Any

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.answer import Answer
from bot.channels import conversation
from bot.channels.conversation import (
    APOLOGY,
    ASK_USAGE,
    EMPTY_MENTION,
    FEEDBACK_USAGE,
    RATE_LIMITED,
    REFUSAL,
    TEXT_ONLY,
    TOO_LONG,
    UNKNOWN_COMMAND,
    AnswerLog,
    RateLimiter,
    UnusableText,
    incoming_text,
)
from bot.channels.telegram import rendering
from bot.channels.telegram.config import TelegramConfig

__all__ = ["APOLOGY", "EDITED", "EXPIRED", "RATE_LIMITED", "REFUSAL", "TEXT_ONLY", "TOO_LONG"]

log = logging.getLogger(__name__)

RECENT_ANSWERS = 256
TYPING_INTERVAL = 4.5
EDITED = "暂不处理编辑过的消息；请发送文字问题（可直接重新发送修改后的问题）。"
EXPIRED = "该回答已过期，请使用 /sources 查看最近一次回答的原文。"
SESSION_PREFIX = "tg"

Context = ContextTypes.DEFAULT_TYPE


# -- shared state ----------------------------------------------------------------------------------


def _service(context: Context) -> Any:
    return context.bot_data["service"]


def _config(context: Context) -> TelegramConfig:
    return context.bot_data["config"]


def _answer_log(context: Context) -> AnswerLog:
    return context.bot_data["answer_log"]


def _answers(context: Context) -> OrderedDict[str, Answer]:
    return context.bot_data.setdefault("answers", OrderedDict())


def feedback_source(chat_id: int | str | None, user_id: int | str | None) -> str:
    return conversation.feedback_source("telegram", chat_id, user_id)


def session_id(chat_id: int) -> str:
    return conversation.session_id(SESSION_PREFIX, chat_id)


def remember(context: Context, answer: Answer) -> None:
    answers = _answers(context)
    answers[answer.answer_id] = answer
    answers.move_to_end(answer.answer_id)
    while len(answers) > RECENT_ANSWERS:
        answers.popitem(last=False)


async def find_answer(context: Context, answer_id: str, chat_id: int | None) -> Answer | None:
    answer = _answers(context).get(answer_id)
    if answer is None and chat_id is not None:
        last = await asyncio.to_thread(_service(context).last_answer, session_id(chat_id))
        if last is not None and last.answer_id == answer_id:
            answer = last
    return answer


async def send_chunks(
    chat: Chat,
    chunks: list[str],
    reply_markup: Any = None,
    reply_to: Message | None = None,
) -> list[Message]:
    sent: list[Message] = []
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        sent.append(
            await chat.send_message(
                chunk,
                parse_mode=ParseMode.HTML,
                reply_markup=reply_markup if last else None,
                reply_to_message_id=reply_to.message_id if reply_to is not None and i == 0 else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
    return sent


async def reply_plain(update: Update, text: str) -> None:
    chat = update.effective_chat
    if chat is not None:
        await send_chunks(chat, rendering.paginate(rendering.text_paragraphs(text)))


# -- addressing ------------------------------------------------------------------------------------


def _mentions_bot(message: Message, username: str | None, bot_id: int) -> bool:
    entities = message.parse_entities() or message.parse_caption_entities()
    for entity, text in entities.items():
        if entity.type == MessageEntity.MENTION and username and text.lower() == f"@{username.lower()}":
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
    return False


def is_addressed(message: Message | None, context: Context) -> bool:
    """Private chats always; groups only when the bot is @mentioned, replied to, or commanded."""
    if message is None:
        return False
    if message.chat.type == Chat.PRIVATE:
        return True
    bot = context.bot
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot.id:
        return True
    text = message.text or ""
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        return "@" not in command or command.split("@", 1)[1].lower() == (bot.username or "").lower()
    return _mentions_bot(message, bot.username, bot.id)


def strip_mention(text: str, username: str | None) -> str:
    if username:
        marker = f"@{username}"
        lowered = text.lower()
        while (i := lowered.find(marker.lower())) >= 0:
            text = text[:i] + text[i + len(marker) :]
            lowered = text.lower()
    return text.strip()


# -- access control and rate limiting (group -1) ---------------------------------------------------


async def access_gate(update: Update, context: Context) -> None:
    """Runs before every other handler: outsiders get exactly one polite refusal, then silence."""
    config = _config(context)
    user = update.effective_user
    chat = update.effective_chat
    user_id = user.id if user else None
    chat_id = chat.id if chat else None
    if config.is_allowed(user_id, chat_id):
        return
    addressed = update.callback_query is not None or is_addressed(update.effective_message, context)
    refused: set[int | None] = context.bot_data.setdefault("refused", set())
    key = user_id if user_id is not None else chat_id
    if addressed and key not in refused and chat is not None:
        refused.add(key)
        log.info("refused update %s from user %s in chat %s", update.update_id, user_id, chat_id)
        if update.callback_query is not None:
            with contextlib.suppress(Exception):
                await update.callback_query.answer()
        await chat.send_message(REFUSAL)
    raise ApplicationHandlerStop


def rate_limited(context: Context, user_id: int | None) -> bool:
    limiter: RateLimiter = context.bot_data["rate"]
    return limiter.limited(user_id)


# -- answering -------------------------------------------------------------------------------------


async def _keep_typing(chat: Chat) -> None:
    while True:
        await asyncio.sleep(TYPING_INTERVAL)
        try:
            await chat.send_action(ChatAction.TYPING)
        except Exception:  # typing is cosmetic
            log.debug("send_action failed", exc_info=True)


async def answer_question(update: Update, context: Context, question: str) -> None:
    from bot.service import InvalidQuestion

    chat = update.effective_chat
    if chat is None:
        return
    message = update.effective_message
    reply_to = message if message is not None and chat.type != Chat.PRIVATE else None
    try:
        question = incoming_text(question)
    except UnusableText as exc:
        await reply_plain(update, str(exc))
        return
    user = update.effective_user
    if rate_limited(context, user.id if user else None):
        await reply_plain(update, RATE_LIMITED.format(limit=_config(context).rate_limit_per_minute))
        return
    service = _service(context)
    mode = context.chat_data.get("mode")
    await chat.send_action(ChatAction.TYPING)
    typing = asyncio.create_task(_keep_typing(chat))
    # a generative mode: the verbatim extract is sent the moment it exists; the model's lead is edited into
    # that message when (and only if) it passed verification
    early = None
    if (mode or service.default_mode) in service.generators:

        async def deliver(preview: Answer) -> list[tuple[Message, str]]:
            chunks = rendering.render_answer(preview)
            return list(zip(await send_chunks(chat, chunks, None, reply_to), chunks, strict=True))

        early = conversation.EarlyExtract(deliver)
    try:
        answer: Answer = await asyncio.to_thread(
            service.ask,
            question,
            session_id=session_id(chat.id),
            mode=mode,
            **({"on_event": early.on_event} if early else {}),
        )
    except InvalidQuestion as exc:
        await reply_plain(update, str(exc))
        return
    finally:
        typing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await typing
    remember(context, answer)
    chunks, keyboard = rendering.render_answer(answer), rendering.answer_keyboard(answer)
    sent = await early.sent() if early else None
    if sent:
        await edit_chunks(chat, sent, chunks, keyboard)
    else:
        await send_chunks(chat, chunks, keyboard, reply_to)
    await _answer_log(context).answered(answer)


async def edit_chunks(
    chat: Chat, sent: list[tuple[Message, str]], chunks: list[str], reply_markup: Any
) -> None:
    """Turn the messages already sent (with the text each was sent with) into the final answer: edit those
    whose text changed or that get the buttons, send the rest, delete what is left over."""
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        markup = reply_markup if last else None
        if i >= len(sent):
            await send_chunks(chat, [chunk], markup)
        elif chunk != sent[i][1] or markup is not None:
            await sent[i][0].edit_text(
                chunk,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
    for message, _ in sent[len(chunks) :]:
        with contextlib.suppress(Exception):
            await message.delete()


async def text_message(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or not is_addressed(message, context):
        return
    question = strip_mention(message.text or "", context.bot.username)
    if not question:
        await reply_plain(update, EMPTY_MENTION)
        return
    await answer_question(update, context, question)


# -- commands --------------------------------------------------------------------------------------


async def start_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    documents = await asyncio.to_thread(_service(context).library.documents)
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(q, callback_data=f"ex:{i}")]
            for i, q in enumerate(rendering.example_questions(documents))
        ]
    )
    await send_chunks(chat, rendering.render_start(documents), keyboard)


async def help_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is not None:
        await send_chunks(chat, rendering.render_help(show_mode=len(_service(context).modes) > 1))


async def ask_command(update: Update, context: Context) -> None:
    question = " ".join(context.args or [])
    if not question.strip():
        await reply_plain(update, ASK_USAGE)
        return
    await answer_question(update, context, question)


async def sources_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    answer = await asyncio.to_thread(_service(context).last_answer, session_id(chat.id))
    await send_chunks(chat, rendering.render_sources(answer))


async def docs_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    documents = await asyncio.to_thread(_service(context).library.documents)
    await send_chunks(chat, rendering.render_documents(documents))


async def reset_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    await asyncio.to_thread(_service(context).reset, session_id(chat.id))
    await reply_plain(update, conversation.RESET_DONE)


async def mode_command(update: Update, context: Context) -> None:
    user = update.effective_user
    message, chosen = conversation.switch_mode(
        _service(context),
        context.chat_data.get("mode"),
        _config(context).is_admin(user.id if user else None),
        " ".join(context.args or []).strip(),
    )
    if chosen:
        context.chat_data["mode"] = chosen
    await reply_plain(update, message)


async def feedback_command(update: Update, context: Context) -> None:
    chat = update.effective_chat
    comment = " ".join(context.args or []).strip()
    if chat is None:
        return
    if not comment:
        await reply_plain(update, FEEDBACK_USAGE)
        return
    last = await asyncio.to_thread(_service(context).last_answer, session_id(chat.id))
    user = update.effective_user
    await _answer_log(context).feedback(
        last.answer_id if last else "",
        "comment",
        comment,
        feedback_source(chat.id, user.id if user else None),
    )
    await reply_plain(update, conversation.FEEDBACK_THANKS)


async def unknown_command(update: Update, context: Context) -> None:
    if is_addressed(update.effective_message, context):
        await reply_plain(update, UNKNOWN_COMMAND)


# -- buttons ---------------------------------------------------------------------------------------


async def callback_query(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    chat = update.effective_chat
    kind, _, rest = (query.data or "").partition(":")
    if kind == "src":
        answer_id, _, n = rest.rpartition(":")
        answer = await find_answer(context, answer_id, chat.id if chat else None)
        citation = next((c for c in answer.citations if str(c.n) == n), None) if answer else None
        if citation is None or chat is None:
            await query.answer(EXPIRED, show_alert=True)
            return
        await query.answer(f"原文 {citation.n}")
        await send_chunks(chat, rendering.render_quote(citation), reply_to=query.message)  # type: ignore[arg-type]
    elif kind == "fb":
        answer_id, _, rating = rest.rpartition(":")
        if rating not in ("up", "down") or not answer_id:
            await query.answer()
            return
        voted: set[tuple[str, int]] = context.bot_data.setdefault("voted", set())
        key = (answer_id, query.from_user.id)
        if key in voted:
            await query.answer("您已经评价过这条回答了，谢谢！")
            return
        voted.add(key)
        await _answer_log(context).feedback(
            answer_id, rating, "", feedback_source(chat.id if chat else None, key[1])
        )
        await query.answer(conversation.RATING_THANKS[rating])
    elif kind == "ex":
        await query.answer()
        examples = rendering.example_questions(await asyncio.to_thread(_service(context).library.documents))
        if rest.isdigit() and int(rest) < len(examples):
            await answer_question(update, context, examples[int(rest)])
    else:
        await query.answer()


# -- everything else -------------------------------------------------------------------------------


async def non_text_message(update: Update, context: Context) -> None:
    if is_addressed(update.effective_message, context):
        await reply_plain(update, TEXT_ONLY)


async def edited_message(update: Update, context: Context) -> None:
    if is_addressed(update.effective_message, context):
        await reply_plain(update, EDITED)


async def error_handler(update: object, context: Context) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(APOLOGY)
        except Exception:
            log.exception("could not send the apology for update %s", update_id)
