// flowbot playground: a small IM in the browser. Vanilla JS, no build step.
// Every text from the bot is shown with textContent (never innerHTML).
"use strict";

(function () {
  const TEXTS = {
    zh: {
      playground: "体验版",
      clock: "演示时钟",
      whoAreYou: "你是谁",
      send: "发送",
      placeholder: "输入消息或命令，例如 /help 或 请假",
      hour: "+1 小时",
      day: "+1 天",
      actingAs: "当前身份：",
      noUsers: "目录里还没有用户",
      from: "开始日期",
      to: "结束日期",
      failed: "出错了：",
      offline: "连接中断，正在重连…",
      leave: "请假",
      empty: "和机器人打个招呼吧：试试 /help",
      tooLong: (n, max) => `消息太长：${n} 个字，上限 ${max} 个字。请精简后再发，内容已保留。`,
      counter: (n, max) => `${n}/${max} 字`,
    },
    en: {
      playground: "playground",
      clock: "demo clock",
      whoAreYou: "Who are you?",
      send: "Send",
      placeholder: "Type a message or a command, e.g. /help or 请假",
      hour: "+1 hour",
      day: "+1 day",
      actingAs: "Acting as ",
      noUsers: "The directory has no users yet",
      from: "From",
      to: "To",
      failed: "Failed: ",
      offline: "Connection lost, reconnecting…",
      leave: "请假 (leave)",
      empty: "Say hello to the bot: try /help",
      tooLong: (n, max) => `Too long: ${n} characters, the limit is ${max}. Shorten it; your text is kept.`,
      counter: (n, max) => `${n}/${max}`,
    },
  };

  const $ = (sel) => document.querySelector(sel);
  const state = {
    config: { demo: false, clock: false },
    users: [],
    user: null, // the selected User
    messages: new Map(), // id -> message
    source: null, // EventSource
    clock: null, // the last api/clock answer
    pushed: null, // id -> message pushed while the history is being fetched
  };

  function lang() {
    const l = (state.user && state.user.locale) || navigator.language || "zh";
    return l.toLowerCase().startsWith("en") ? "en" : "zh";
  }
  function t(key) {
    return TEXTS[lang()][key] || TEXTS.en[key] || key;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // csrf is the signed-in session's token (outside demo mode): sent on
  // every request that changes something.
  let csrf = "";

  async function api(method, path, body) {
    const opts = { method, headers: {} };
    if (csrf && method !== "GET") opts.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      throw new Error((data && data.error) || `HTTP ${res.status}`);
    }
    return data;
  }

  // ---- toast ----
  let toastTimer = 0;
  function toast(text, isError) {
    if (!text) return;
    const el = $('[data-testid="toast"]');
    el.textContent = text;
    el.classList.toggle("error", !!isError);
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      el.hidden = true;
    }, 3000);
  }

  // ---- markdown: **bold**, line breaks, "- " / "* " / "1. " lists ----
  function inline(parent, text) {
    const parts = text.split("**");
    parts.forEach((p, i) => {
      if (!p) return;
      if (i % 2 === 1 && i < parts.length - 1) {
        const b = document.createElement("strong");
        b.textContent = p;
        parent.appendChild(b);
      } else {
        parent.appendChild(document.createTextNode(i % 2 === 1 ? "**" + p : p));
      }
    });
  }
  function markdown(text) {
    const root = document.createElement("div");
    root.className = "md";
    root.dataset.testid = "card-markdown";
    let list = null;
    let para = null;
    for (const line of String(text).split(/\r?\n/)) {
      const ul = line.match(/^\s*[-*]\s+(.*)$/);
      const ol = line.match(/^\s*\d+[.)]\s+(.*)$/);
      if (ul || ol) {
        const tag = ul ? "UL" : "OL";
        if (!list || list.tagName !== tag) {
          list = document.createElement(tag);
          root.appendChild(list);
        }
        const li = document.createElement("li");
        inline(li, (ul || ol)[1]);
        list.appendChild(li);
        para = null;
        continue;
      }
      list = null;
      if (line.trim() === "") {
        para = null;
        continue;
      }
      if (para) {
        para.appendChild(document.createElement("br"));
      } else {
        para = document.createElement("p");
        root.appendChild(para);
      }
      inline(para, line);
    }
    return root;
  }

  // ---- cards ----
  function el(tag, cls, text, testid) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    if (testid) e.dataset.testid = testid;
    return e;
  }

  const COLORS = ["blue", "green", "red", "orange", "grey"];

  function renderCard(msg) {
    const c = msg.card;
    const color = COLORS.includes(c.color) ? c.color : "blue";
    const card = el("div", `card color-${color}`, null, "card");
    card.dataset.color = color;
    card.appendChild(el("div", "card-head", c.title || "", "card-title"));
    const body = el("div", "card-body");
    card.appendChild(body);
    if (c.fields && c.fields.length) {
      const grid = el("dl", "fields", null, "card-fields");
      for (const f of c.fields) {
        grid.appendChild(el("dt", "", f.label));
        grid.appendChild(el("dd", "", f.value));
      }
      body.appendChild(grid);
    }
    if (c.markdown) body.appendChild(markdown(c.markdown));
    if (c.image && /^(\/|https?:\/\/)/.test(c.image.url)) {
      // A card's picture (the monthly report's chart): our own signed link.
      const a = el("a", "card-image-link", null, "card-image");
      a.href = c.image.url;
      a.target = "_blank";
      a.rel = "noopener";
      const img = document.createElement("img");
      img.className = "card-image";
      img.src = c.image.url;
      img.alt = c.image.alt || "";
      img.loading = "lazy";
      a.appendChild(img);
      body.appendChild(a);
    }
    if (c.links && c.links.length) {
      const box = el("div", "links", null, "card-links");
      for (const l of c.links) {
        // Only our own signed links (relative, or http/https) are links.
        if (!/^(\/|https?:\/\/)/.test(l.url)) continue;
        const a = el("a", "card-link", "📎 " + l.label, "card-link");
        a.href = l.url;
        a.target = "_blank";
        a.rel = "noopener";
        box.appendChild(a);
      }
      body.appendChild(box);
    }
    const inputs = [];
    if (c.inputs && c.inputs.length) {
      const box = el("div", "inputs");
      for (const inp of c.inputs) {
        const label = el("label", "input-label");
        label.appendChild(el("span", "", (inp.label || inp.name) + (inp.required ? " *" : "")));
        const ctl = control(inp);
        label.appendChild(ctl.node);
        if (inp.error) {
          label.classList.add("invalid");
          label.appendChild(el("span", "input-error", inp.error, `card-input-error-${inp.name}`));
        }
        box.appendChild(label);
        inputs.push(ctl);
      }
      body.appendChild(box);
    }
    if (c.buttons && c.buttons.length) {
      const row = el("div", "buttons");
      for (const b of c.buttons) {
        const style = ["primary", "danger"].includes(b.style) ? b.style : "default";
        const btn = el("button", `btn ${style}`, b.label, `card-button-${b.action}`);
        btn.type = "button";
        btn.addEventListener("click", () => clickButton(msg.id, b, inputs, row));
        row.appendChild(btn);
      }
      body.appendChild(row);
    }
    if (c.note) card.appendChild(el("div", "card-note", c.note, "card-note"));
    return card;
  }

  // control draws an input of a card with the browser's native control for
  // its kind and reads its value back in the format bots.InputKind names:
  // multiple select joined by ",", date "2006-01-02", date range
  // "from~to", bool "true"/"false", user a directory id.
  function control(inp) {
    const id = `card-input-${inp.name}`;
    const text = (tag, type) => {
      const f = el(tag, "", null, id);
      if (type) f.type = type;
      f.name = inp.name;
      f.placeholder = inp.placeholder || "";
      if (inp.required) f.required = true;
      return f;
    };
    const options = (sel, opts, multiple) => {
      const picked = new Set((inp.value || "").split(",").filter((x) => x));
      if (!multiple) {
        const none = el("option", "", inp.placeholder || "—");
        none.value = "";
        sel.appendChild(none);
      }
      for (const o of opts) {
        const opt = el("option", "", o.label || o.value);
        opt.value = o.value;
        opt.selected = picked.has(o.value);
        sel.appendChild(opt);
      }
    };
    switch (inp.kind) {
      case "textarea": {
        const f = text("textarea");
        f.rows = 3;
        f.maxLength = 4000;
        f.value = inp.value || "";
        return { name: inp.name, node: f, value: () => f.value.trim() };
      }
      case "number":
      case "money": {
        const f = text("input", "number");
        f.step = inp.kind === "money" ? "0.01" : "any";
        f.value = inp.value || "";
        return { name: inp.name, node: f, value: () => f.value.trim() };
      }
      case "date": {
        const f = text("input", "date");
        f.value = inp.value || "";
        return { name: inp.name, node: f, value: () => f.value };
      }
      case "date_range": {
        const box = el("span", "date-range", null, id);
        const [from0, to0] = (inp.value || "").split("~");
        const from = el("input", "", null, `${id}-from`);
        const to = el("input", "", null, `${id}-to`);
        from.type = to.type = "date";
        from.value = from0 || "";
        to.value = to0 || "";
        from.setAttribute("aria-label", t("from"));
        to.setAttribute("aria-label", t("to"));
        box.append(from, el("span", "", "~"), to);
        return { name: inp.name, node: box, value: () => (from.value || to.value ? `${from.value}~${to.value}` : "") };
      }
      case "select":
      case "multi_select":
      case "user": {
        const multiple = inp.kind === "multi_select";
        const f = el("select", "", null, id);
        f.name = inp.name;
        f.multiple = multiple;
        if (inp.required) f.required = true;
        const opts = inp.kind === "user"
          ? (inp.options && inp.options.length ? inp.options : state.users.map((u) => ({ value: u.id, label: u.name || u.id })))
          : inp.options || [];
        options(f, opts, multiple);
        if (!multiple && inp.value) f.value = inp.value;
        const value = () => Array.from(f.selectedOptions).map((o) => o.value).filter((x) => x).join(",");
        if (!multiple && opts.some((o) => o.note)) {
          // A line about the chosen option (the leave balance of the
          // chosen type), following the picker as it changes.
          const box = el("span", "picker");
          const note = el("span", "input-note", "", `card-input-note-${inp.name}`);
          const show = () => {
            const o = opts.find((x) => x.value === f.value);
            note.textContent = (o && o.note) || "";
          };
          f.addEventListener("change", show);
          show();
          box.append(f, note);
          return { name: inp.name, node: box, value };
        }
        return { name: inp.name, node: f, value };
      }
      case "bool": {
        const f = el("input", "", null, id);
        f.type = "checkbox";
        f.name = inp.name;
        f.checked = inp.value === "true";
        return { name: inp.name, node: f, value: () => String(f.checked) };
      }
      case "file": {
        // The file is sent in the chat (the bot keeps it and brings the
        // form back with its name); the input shows the name.
        const f = text("input", "file");
        f.addEventListener("change", () => {
          const file = f.files && f.files[0];
          if (file) upload(file);
        });
        const box = el("span", "file-input");
        if (inp.value) box.appendChild(el("span", "file-name", "📎 " + inp.value, `card-file-${inp.name}`));
        box.appendChild(f);
        return { name: inp.name, node: box, value: () => inp.value || "" };
      }
      default: {
        const f = text("input", "text");
        f.maxLength = 1000;
        f.value = inp.value || "";
        return { name: inp.name, node: f, value: () => f.value.trim() };
      }
    }
  }

  async function clickButton(messageID, b, inputs, row) {
    const values = {};
    for (const f of inputs) {
      const v = f.value();
      if (v !== "") values[f.name] = v;
    }
    row.querySelectorAll("button").forEach((x) => (x.disabled = true));
    try {
      const res = await api("POST", "api/action", {
        id: uuid(),
        user: state.user.id,
        message_id: messageID,
        action: b.action,
        value: b.value || {},
        inputs: values,
      });
      if (res.updated) upsert(res.updated);
      for (const m of res.messages || []) upsert(m);
      toast(res.toast);
    } catch (e) {
      toast(t("failed") + e.message, true);
    } finally {
      row.querySelectorAll("button").forEach((x) => (x.disabled = false));
    }
  }

  // ---- time: in the selected user's time zone (as the cards), 24-hour ----
  const DEFAULT_TZ = "Asia/Shanghai";
  const formats = new Map(); // "locale|tz" -> Intl.DateTimeFormat
  function timeFormat() {
    const locale = lang() === "en" ? "en-GB" : "zh-CN";
    const tz = (state.user && state.user.tz) || DEFAULT_TZ;
    const key = `${locale}|${tz}`;
    let f = formats.get(key);
    if (!f) {
      const opts = {
        year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      };
      try {
        f = new Intl.DateTimeFormat(locale, { ...opts, timeZone: tz });
      } catch (e) {
        f = new Intl.DateTimeFormat(locale, { ...opts, timeZone: DEFAULT_TZ }); // unknown zone name
      }
      formats.set(key, f);
    }
    return f;
  }
  // timeParts returns {date: "2026-11-26", time: "11:57"} or null.
  function timeParts(at) {
    const d = new Date(at);
    if (isNaN(d)) return null;
    const p = {};
    for (const x of timeFormat().formatToParts(d)) p[x.type] = x.value;
    return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
  }
  function hhmm(at) {
    const p = timeParts(at);
    return p ? p.time : "";
  }

  // ---- messages ----

  function renderMessage(msg) {
    const row = el("div", `msg ${msg.from === "me" ? "me" : "bot"}`, null, "message");
    row.dataset.id = msg.id;
    row.dataset.from = msg.from;
    row.dataset.rev = msg.rev;
    const bubble = el("div", "bubble");
    if (msg.text) bubble.appendChild(el("div", "text", msg.text, "message-text"));
    if (msg.card) bubble.appendChild(renderCard(msg));
    row.appendChild(bubble);
    row.appendChild(el("div", "time", hhmm(msg.at)));
    return row;
  }

  // upsert shows msg, replacing an older revision of the same message.
  function upsert(msg) {
    if (!state.user || msg.user !== state.user.id) return;
    const box = $('[data-testid="messages"]');
    const old = state.messages.get(msg.id);
    if (old && old.rev >= msg.rev) return;
    state.messages.set(msg.id, msg);
    const node = renderMessage(msg);
    const existing = box.querySelector(`[data-id="${CSS.escape(msg.id)}"]`);
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    if (existing) {
      existing.replaceWith(node);
    } else {
      box.querySelector(".empty")?.remove();
      box.appendChild(node);
    }
    if (atBottom || (!existing && msg.from === "me")) box.scrollTop = box.scrollHeight;
  }

  async function loadHistory() {
    const user = state.user;
    // A message pushed while the history is on its way can be newer than
    // the history (the server read it first): kept and shown again after
    // the history, else the history would wipe it from the page.
    const pushed = new Map();
    state.pushed = pushed;
    let res;
    try {
      res = await api("GET", `api/history?user=${encodeURIComponent(user.id)}`);
    } finally {
      if (state.pushed === pushed) state.pushed = null;
    }
    if (state.user !== user) return;
    const box = $('[data-testid="messages"]');
    box.textContent = "";
    state.messages.clear();
    if (!res.messages.length && !pushed.size) box.appendChild(el("div", "empty", t("empty")));
    for (const m of res.messages) upsert(m);
    for (const m of pushed.values()) upsert(m); // only if newer than the history's copy
    box.scrollTop = box.scrollHeight;
  }

  function connect() {
    if (state.source) state.source.close();
    const live = $('[data-testid="live"]');
    const src = new EventSource(`api/events?user=${encodeURIComponent(state.user.id)}`);
    state.source = src;
    src.addEventListener("open", () => {
      live.classList.add("on");
      live.dataset.state = "on";
      loadHistory().catch((e) => toast(t("failed") + e.message, true));
    });
    src.addEventListener("error", () => {
      live.classList.remove("on");
      live.dataset.state = "off";
    });
    const onMsg = (e) => {
      try {
        const msg = JSON.parse(e.data);
        const seen = state.pushed && state.pushed.get(msg.id);
        if (state.pushed && (!seen || seen.rev < msg.rev)) state.pushed.set(msg.id, msg);
        upsert(msg);
      } catch (err) {
        console.error(err);
      }
    };
    src.addEventListener("message", onMsg);
    src.addEventListener("update", onMsg);
    src.addEventListener("clock", (e) => showClock(JSON.parse(e.data)));
  }

  // ---- send ----
  // send sends text; fromInput: it was typed in the composer, which is
  // cleared only once the send succeeded (a refused text is not lost).
  async function send(text, fromInput) {
    text = text.trim();
    if (!text || !state.user) return;
    const input = $('[data-testid="input"]');
    const max = maxChars();
    const n = [...text].length; // characters, not UTF-16 units
    if (max && n > max) {
      // Not sent: the text stays in the box to be shortened.
      toast(t("tooLong")(n, max), true);
      showCounter();
      return;
    }
    try {
      const res = await api("POST", "api/send", { id: uuid(), user: state.user.id, text });
      if (fromInput && input.value.trim() === text) {
        input.value = "";
        showCounter();
      }
      if (res.me) upsert(res.me);
      for (const m of res.messages || []) upsert(m);
      toast(res.toast);
    } catch (e) {
      toast(t("failed") + e.message, true);
    }
  }

  // upload sends a file in the chat, as the file's own message.
  async function upload(file) {
    if (!file || !state.user) return;
    const fd = new FormData();
    fd.append("user", state.user.id);
    fd.append("id", uuid());
    fd.append("name", file.name);
    fd.append("file", file, file.name);
    try {
      const res = await fetch("api/upload", { method: "POST", body: fd });
      let data = null;
      try {
        data = await res.json();
      } catch (e) {
        data = null;
      }
      if (!res.ok) throw new Error((data && data.error) || `HTTP ${res.status}`);
      if (data.me) upsert(data.me);
      for (const m of data.messages || []) upsert(m);
      toast(data.toast);
    } catch (e) {
      toast(t("failed") + e.message, true);
    }
  }

  // ---- composer limit ----
  // maxChars is the bot's limit in characters (data-max of the input).
  function maxChars() {
    return parseInt($('[data-testid="input"]').dataset.max, 10) || 0;
  }
  // showCounter states the limit before sending: n/max, red past it.
  function showCounter() {
    const input = $('[data-testid="input"]');
    const c = $('[data-testid="counter"]');
    const max = maxChars();
    if (!c || !max) return;
    const n = [...input.value.trim()].length;
    c.textContent = t("counter")(n, max);
    c.classList.toggle("over", n > max);
    input.setAttribute("aria-invalid", n > max ? "true" : "false");
  }

  // ---- clock ----
  function showClock(c) {
    if (!c) return;
    state.clock = c;
    const p = timeParts(c.now);
    const clock = $('[data-testid="clock"]');
    clock.dateTime = c.now;
    clock.textContent = p ? `${p.date} ${p.time}` : "--";
    document.querySelectorAll("[data-advance]").forEach((b) => (b.hidden = !c.advance));
  }
  async function loadClock() {
    try {
      showClock(await api("GET", "api/clock"));
    } catch (e) {
      /* the clock is decoration; keep the last value */
    }
  }
  async function advance(by, btn) {
    btn.disabled = true;
    try {
      showClock(await api("POST", "api/clock", { advance: by }));
    } catch (e) {
      toast(t("failed") + e.message, true);
    } finally {
      btn.disabled = false;
    }
  }

  // ---- users ----
  function describe(u) {
    return [u.department, (u.roles || []).join(", ")].filter(Boolean).join(" · ");
  }

  function renderUsers() {
    const list = $('[data-testid="user-list"]');
    const sel = $('[data-testid="user-select"]');
    list.textContent = "";
    sel.textContent = "";
    if (!state.users.length) list.appendChild(el("li", "empty", t("noUsers")));
    for (const u of state.users) {
      const li = el("li", "user", null, `user-${u.id}`);
      li.dataset.id = u.id;
      li.tabIndex = 0;
      li.setAttribute("role", "button");
      li.classList.toggle("selected", !!state.user && state.user.id === u.id);
      li.appendChild(el("span", "avatar", (u.name || u.id).slice(0, 1)));
      const who = el("div", "who");
      who.appendChild(el("div", "name", u.name || u.id));
      who.appendChild(el("div", "meta", describe(u)));
      li.appendChild(who);
      li.addEventListener("click", () => selectUser(u.id));
      li.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") selectUser(u.id);
      });
      list.appendChild(li);
      const opt = el("option", "", `${u.name || u.id}${u.department ? " · " + u.department : ""}`);
      opt.value = u.id;
      opt.selected = !!state.user && state.user.id === u.id;
      sel.appendChild(opt);
    }
  }

  function applyLocale() {
    document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
    document.querySelectorAll("[data-i18n]").forEach((e) => (e.textContent = t(e.dataset.i18n)));
    $('[data-testid="input"]').placeholder = t("placeholder");
    showCounter();
    $('[data-testid="advance-hour"]').textContent = t("hour");
    $('[data-testid="advance-day"]').textContent = t("day");
    $('[data-testid="chip-leave"]').textContent = t("leave");
    const u = state.user;
    $('[data-testid="current-user"]').textContent = u
      ? t("actingAs") + (u.name || u.id) + (u.department ? ` (${u.department})` : "")
      : "";
  }

  function selectUser(id) {
    const u = state.users.find((x) => x.id === id) || { id, name: id };
    state.user = u;
    try {
      sessionStorage.setItem("flowbot.user", id);
    } catch (e) {
      /* private mode */
    }
    const url = new URL(location.href);
    url.searchParams.set("as", id);
    history.replaceState(null, "", url);
    renderUsers();
    applyLocale();
    showClock(state.clock); // in the new user's time zone
    $('[data-testid="messages"]').textContent = "";
    state.messages.clear();
    connect();
  }

  async function start() {
    try {
      state.config = await api("GET", "api/config");
    } catch (e) {
      toast(t("failed") + e.message, true);
      return;
    }
    document.body.classList.toggle("demo", state.config.demo);
    $('[data-testid="demo-banner"]').hidden = !state.config.demo;
    if (!state.config.demo) {
      try {
        const s = await api("GET", "/auth/session");
        csrf = s.csrf_token || "";
        const form = $('[data-testid="signout-form"]');
        form.querySelector("input[name=csrf_token]").value = csrf;
        form.hidden = false;
      } catch (e) {
        toast(t("failed") + e.message, true);
      }
    }
    try {
      state.users = (await api("GET", "api/users")).users || [];
    } catch (e) {
      toast(t("failed") + e.message, true);
    }
    let want = new URL(location.href).searchParams.get("as");
    if (!state.config.demo) want = state.config.user;
    if (!want) {
      try {
        want = sessionStorage.getItem("flowbot.user");
      } catch (e) {
        want = null;
      }
    }
    if (!want && state.users.length) want = state.users[0].id;
    renderUsers();
    applyLocale();
    loadClock();
    setInterval(loadClock, 15000);
    if (want) selectUser(want);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $('[data-testid="input"]').addEventListener("input", showCounter);
    $('[data-testid="attach"]').addEventListener("change", (e) => {
      const f = e.target.files && e.target.files[0];
      e.target.value = "";
      upload(f);
    });
    $('[data-testid="composer"]').addEventListener("submit", (e) => {
      e.preventDefault();
      send($('[data-testid="input"]').value, true);
    });
    document.querySelectorAll("[data-testid^=chip-]").forEach((b) =>
      b.addEventListener("click", () => send(b.dataset.text)),
    );
    document.querySelectorAll("[data-advance]").forEach((b) =>
      b.addEventListener("click", () => advance(b.dataset.advance, b)),
    );
    $('[data-testid="user-select"]').addEventListener("change", (e) => selectUser(e.target.value));
    start();
  });
})();
