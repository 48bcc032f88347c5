// 政策问答助手 web page: streamed answers over POST /v1/ask?stream=true (fetch + SSE parsing).
// All data is rendered with textContent — never innerHTML.
"use strict";

const $ = (id) => document.getElementById(id);
const messages = $("messages");
const form = $("ask-form");
const input = $("question");
const sendBtn = $("send");

function newSessionId() {
  if (window.crypto && crypto.randomUUID) return "web-" + crypto.randomUUID();
  return "web-" + Date.now().toString(36) + Math.random().toString(36).slice(2);
}
let sessionId = sessionStorage.getItem("policybot_session") || newSessionId();
sessionStorage.setItem("policybot_session", sessionId);

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = localStorage.getItem("policybot_api_key");
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function scrollDown() { messages.scrollTop = messages.scrollHeight; }

async function problemText(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || ("HTTP " + response.status);
  } catch (_) {
    return "HTTP " + response.status;
  }
}

async function authRetry(response) {
  if (response.status !== 401) return false;
  const key = window.prompt("此服务需要 API 密钥，请输入：");
  if (!key) return false;
  localStorage.setItem("policybot_api_key", key.trim());
  return true;
}

// -- documents side list ---------------------------------------------------------------------------
function periodEndYear(period) {
  const m = /(\d{4})\s*$/.exec(period || "");
  return m ? parseInt(m[1], 10) : null;
}

async function loadDocuments() {
  const list = $("doc-list");
  let response = await fetch("/v1/documents", { headers: headers() });
  if (await authRetry(response)) response = await fetch("/v1/documents", { headers: headers() });
  list.replaceChildren();
  if (!response.ok) {
    list.appendChild(el("li", "muted", "文件列表加载失败：" + (await problemText(response))));
    return;
  }
  const docs = await response.json();
  if (!docs.length) list.appendChild(el("li", "muted", "暂无文件"));
  const year = new Date().getFullYear();
  for (const doc of docs) {
    const li = el("li");
    li.appendChild(el("div", "doc-title", doc.title));
    const meta = [doc.doc_number, doc.issuer, doc.published].filter(Boolean).join(" · ");
    if (meta) li.appendChild(el("div", "doc-meta", meta));
    if (doc.completeness === "partial") {
      const badge = el("span", "badge partial", "部分收录");
      if (doc.completeness_note) badge.title = doc.completeness_note;
      li.appendChild(badge);
    }
    const end = periodEndYear(doc.period);
    if (end !== null && end < year) li.appendChild(el("span", "badge ended", "已结束（" + doc.period + "）"));
    list.appendChild(li);
  }
}

// -- messages --------------------------------------------------------------------------------------
function addUserMessage(text) {
  const box = el("div", "msg user");
  box.appendChild(el("div", "text", text));
  messages.appendChild(box);
  scrollDown();
}

function addAssistantMessage() {
  const box = el("div", "msg assistant");
  // the model's lead (generative modes) streams in above the verbatim extract, which is shown at once
  const lead = el("div", "lead", "");
  lead.hidden = true;
  const text = el("div", "text", "");
  box.append(lead, text);
  messages.appendChild(box);
  scrollDown();
  return { box, lead, text };
}

function renderCitations(box, citations) {
  const old = box.querySelector(".citations");
  if (old) old.remove();
  if (!citations || !citations.length) return;
  const wrap = el("div", "citations");
  for (const c of citations) {
    const details = el("details");
    const summary = el("summary", null, "[" + c.n + "] 《" + c.title + "》" + (c.doc_number || ""));
    details.appendChild(summary);
    details.appendChild(el("blockquote", null, c.quote));
    const meta = el("div", "cite-meta");
    meta.appendChild(el("div", null, "文件：《" + c.title + "》"));
    meta.appendChild(el("div", null, "文号：" + (c.doc_number || "（无）")));
    meta.appendChild(el("div", null, "章节：" + (c.section_path || "（正文）")));
    details.appendChild(meta);
    wrap.appendChild(details);
  }
  box.appendChild(wrap);
}

function renderNotices(box, notices) {
  if (!notices || !notices.length) return;
  const ul = el("ul", "notices");
  for (const n of notices) ul.appendChild(el("li", null, n));
  box.appendChild(ul);
}

function renderFeedback(box, answerId) {
  const bar = el("div", "feedback");
  const status = el("span", "muted", "");
  const send = async (rating, button) => {
    bar.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const r = await fetch("/v1/feedback", {
        method: "POST",
        headers: headers({ "Content-Type": "application/json" }),
        body: JSON.stringify({ answer_id: answerId, rating: rating }),
      });
      if (!r.ok) throw new Error(await problemText(r));
      button.classList.add("chosen");
      status.textContent = "感谢反馈";
    } catch (err) {
      status.textContent = "反馈未提交：" + err.message;
      bar.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  };
  // labelled, so the buttons stay readable where no emoji font is installed
  const up = el("button", null, "👍 有帮助");
  up.type = "button"; up.title = "有帮助"; up.setAttribute("aria-label", "有帮助");
  up.addEventListener("click", () => send("up", up));
  const down = el("button", null, "👎 没帮助");
  down.type = "button"; down.title = "没帮助"; down.setAttribute("aria-label", "没帮助");
  down.addEventListener("click", () => send("down", down));
  bar.append(up, down, status);
  box.appendChild(bar);
}

function finishAnswer(view, answer) {
  // the lead is shown only when it passed verification; otherwise the extract stands alone
  const lead = answer.lead || "";
  view.lead.classList.remove("streaming");
  view.lead.textContent = lead;
  view.lead.hidden = !lead;
  const body = lead && answer.answer.startsWith(lead) ? answer.answer.slice(lead.length) : answer.answer;
  view.text.textContent = body.replace(/^\n+/, "");
  if (answer.refused) view.box.classList.add("refused");
  renderNotices(view.box, answer.notices);
  renderCitations(view.box, answer.citations);
  renderFeedback(view.box, answer.answer_id);
  scrollDown();
}

// Parse a text/event-stream body incrementally; calls onEvent(name, data) per event.
async function readSSE(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder("utf-8");
  let buffer = "";
  const flush = (block) => {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length) onEvent(name, data.join("\n"));
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let idx;
    while ((idx = buffer.indexOf("\n\n")) >= 0) {
      flush(buffer.slice(0, idx));
      buffer = buffer.slice(idx + 2);
    }
  }
  if (buffer.trim()) flush(buffer);
}

async function ask(question) {
  addUserMessage(question);
  const view = addAssistantMessage();
  view.text.textContent = "正在检索政策原文…";
  const request = () => fetch("/v1/ask?stream=true", {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", "Accept": "text/event-stream" }),
    body: JSON.stringify({ question: question, session_id: sessionId }),
  });
  let response = await request();
  if (await authRetry(response)) response = await request();
  if (!response.ok) {
    view.box.classList.add("error");
    view.text.textContent = await problemText(response);
    return;
  }
  let streamed = "";
  let finished = false;
  await readSSE(response, (name, data) => {
    const payload = JSON.parse(data);
    if (name === "delta") {
      streamed += payload.text;
      view.text.textContent = streamed;
      scrollDown();
    } else if (name === "lead") {
      view.lead.hidden = false;
      view.lead.classList.add("streaming");
      // a lead that failed the check is withdrawn; the model's second try streams in its place
      if (payload.restart) view.lead.textContent = "";
      view.lead.textContent += payload.text;
      scrollDown();
    } else if (name === "citations") {
      renderCitations(view.box, payload);
    } else if (name === "done") {
      finished = true;
      finishAnswer(view, payload);
    } else if (name === "error") {
      finished = true;
      view.box.classList.add("error");
      view.text.textContent = payload.detail || payload.title || "回答失败";
    }
  });
  if (!finished) {
    view.box.classList.add("error");
    view.text.textContent = (streamed ? streamed + "\n\n" : "") + "（连接中断，回答不完整）";
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const question = input.value.trim();
  if (!question) return;
  input.value = "";
  sendBtn.disabled = true;
  try {
    await ask(question);
  } catch (err) {
    const view = addAssistantMessage();
    view.box.classList.add("error");
    view.text.textContent = "网络错误：" + err.message;
  } finally {
    sendBtn.disabled = false;
    input.focus();
  }
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

$("new-chat").addEventListener("click", () => {
  sessionId = newSessionId();
  sessionStorage.setItem("policybot_session", sessionId);
  messages.replaceChildren(el("div", "hint", "已开始新对话。"));
  input.focus();
});

$("toggle-docs").addEventListener("click", (event) => {
  const open = $("docs").classList.toggle("open");
  event.currentTarget.setAttribute("aria-expanded", String(open));
});

// -- citation view: /#cite=<doc_id>:<start>-<end> (the links WeCom and DingTalk answers carry) -------------
// Offsets count code points, as Python does: the text is split with Array.from, not by UTF-16 units.
const CONTEXT_CHARS = 120;

async function showCitation() {
  const m = /^#cite=([^:]+):(\d+)-(\d+)$/.exec(location.hash);
  if (!m) return;
  const docId = decodeURIComponent(m[1]);
  const start = parseInt(m[2], 10);
  const end = parseInt(m[3], 10);
  const url = "/v1/documents/" + encodeURIComponent(docId);
  let response = await fetch(url, { headers: headers() });
  if (await authRetry(response)) response = await fetch(url, { headers: headers() });
  const box = el("div", "msg assistant citation-view");
  if (!response.ok) {
    box.classList.add("error");
    box.appendChild(el("div", "text", "原文加载失败：" + (await problemText(response))));
  } else {
    const doc = await response.json();
    const chars = Array.from(doc.text || "");
    const from = Math.max(0, start - CONTEXT_CHARS);
    const to = Math.min(chars.length, end + CONTEXT_CHARS);
    box.appendChild(el("div", "text", "引用原文：《" + doc.title + "》" + (doc.doc_number || "")));
    const quote = el("blockquote");
    quote.appendChild(document.createTextNode((from > 0 ? "…" : "") + chars.slice(from, start).join("")));
    quote.appendChild(el("mark", null, chars.slice(start, end).join("")));
    quote.appendChild(document.createTextNode(chars.slice(end, to).join("") + (to < chars.length ? "…" : "")));
    box.appendChild(quote);
  }
  messages.appendChild(box);
  scrollDown();
}

window.addEventListener("hashchange", () => { showCitation().catch(() => {}); });
showCitation().catch((err) => {
  const box = el("div", "msg assistant error");
  box.appendChild(el("div", "text", "原文加载失败：" + err.message));
  messages.appendChild(box);
});

loadDocuments().catch((err) => {
  $("doc-list").replaceChildren(el("li", "muted", "文件列表加载失败：" + err.message));
});
