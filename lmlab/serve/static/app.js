// lmlab playground: plain JavaScript over the server's OpenAI-compatible API (no CDN, no build).
"use strict";

const I18N = {
  es: {
    playground: "playground", tab_continue: "Continuación", tab_snap: "SnapGPT", tab_chat: "Chat",
    tab_compare: "Comparar", tab_projector: "Proyector", tab_similarity: "Similitud",
    api_key: "clave de la API (opcional)", model: "Modelo", strategy: "Estrategia",
    greedy: "voraz", sample: "muestreo", beam: "haz (beam)", temperature: "Temperatura",
    beams: "Haces", max_tokens: "Máx. tokens", seed: "Semilla", generate: "Generar",
    snap_help: "Cada pulsación de tecla en el cuadro añade una palabra nueva (la más probable, o una muestra).",
    reset: "Nueva conversación", message: "Escribe un mensaje", send: "Enviar", compare: "Comparar",
    projector_help: "Vectores de palabras (del codificador de frases) en un mapa 2-D (PCA).",
    project: "Proyectar", analogy: "Analogía", solve: "Resolver", source: "Frase de origen",
    others: "Frases a comparar (una por línea)", compute: "Calcular", lang: "English",
    next_word: "Siguiente palabra tras", chosen: "elegida", no_chat: "(ningún modelo con plantilla de chat)",
    no_encoder: "El servidor no tiene codificador de frases: arráncalo con --embeddings all-MiniLM-L6-v2",
    neighbours: "Vecinos más cercanos de", answer: "Respuesta", score: "similitud",
  },
  en: {
    playground: "playground", tab_continue: "Continuation", tab_snap: "SnapGPT", tab_chat: "Chat",
    tab_compare: "Compare", tab_projector: "Projector", tab_similarity: "Similarity",
    api_key: "API key (optional)", model: "Model", strategy: "Strategy",
    greedy: "greedy", sample: "sampling", beam: "beam search", temperature: "Temperature",
    beams: "Beams", max_tokens: "Max tokens", seed: "Seed", generate: "Generate",
    snap_help: "Every key press in the box adds one new word (the most likely one, or a sample).",
    reset: "New conversation", message: "Type a message", send: "Send", compare: "Compare",
    projector_help: "Word vectors (from the sentence encoder) on a 2-D map (PCA).",
    project: "Project", analogy: "Analogy", solve: "Solve", source: "Source sentence",
    others: "Sentences to compare (one per line)", compute: "Compute", lang: "Español",
    next_word: "Next word after", chosen: "chosen", no_chat: "(no model with a chat template)",
    no_encoder: "The server has no sentence encoder: start it with --embeddings all-MiniLM-L6-v2",
    neighbours: "Nearest neighbours of", answer: "Answer", score: "similarity",
  },
};
let lang = localStorage.getItem("lmlab-lang") || "es";
const t = (key) => (I18N[lang] && I18N[lang][key]) || I18N.es[key] || key;
const $ = (id) => document.getElementById(id);

function applyLang() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
  $("lang").textContent = t("lang");
}

// ---- talking to the server ------------------------------------------------------------------

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("apikey").value.trim();
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

function showError(message) {
  const el = $("error");
  el.textContent = message || "";
  el.hidden = !message;
}

async function api(path, body) {
  const r = await fetch(path, { method: body ? "POST" : "GET", headers: headers(),
                                body: body ? JSON.stringify(body) : undefined });
  const data = await r.json();
  if (!r.ok) throw new Error((data.error && data.error.message) || r.statusText);
  return data;
}

// POST with stream=true; calls onChunk(chunk) for every server-sent event until [DONE].
async function stream(path, body, onChunk) {
  const r = await fetch(path, { method: "POST", headers: headers(),
                                body: JSON.stringify({ ...body, stream: true }) });
  if (!r.ok) {
    const data = await r.json();
    throw new Error((data.error && data.error.message) || r.statusText);
  }
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const payload = line.slice(6);
        if (payload === "[DONE]") return;
        const chunk = JSON.parse(payload);
        if (chunk.error) throw new Error(chunk.error.message);
        onChunk(chunk);
      }
    }
  }
}

const state = { models: [], encoder: null };

async function loadModels() {
  const data = await api("/v1/models");
  state.models = data.data.filter((m) => !(m.lmlab && m.lmlab.embeddings));
  const enc = data.data.find((m) => m.lmlab && m.lmlab.embeddings);
  state.encoder = enc ? enc.id : null;
  document.querySelectorAll(".lm-select").forEach((sel) => {
    sel.innerHTML = "";
    state.models.forEach((m) => sel.add(new Option(m.id, m.id)));
  });
  const chat = $("h-model");
  chat.innerHTML = "";
  const chatModels = state.models.filter((m) => m.lmlab && m.lmlab.chat);
  chatModels.forEach((m) => chat.add(new Option(m.id, m.id)));
  if (!chatModels.length) chat.add(new Option(t("no_chat"), ""));
}

// ---- the course's picture: the next word's distribution --------------------------------------

const pct = (lp) => Math.exp(lp) * 100;

function picture(el, context, chosen, top) {
  el.innerHTML = "";
  const head = document.createElement("p");
  head.textContent = `${t("next_word")} «${context.slice(-40)}»:`;
  el.appendChild(head);
  const best = top.length ? Math.exp(top[0][1]) : 1;
  top.forEach(([word, lp]) => {
    const row = document.createElement("div");
    row.className = "alt";
    const w = document.createElement("span");
    w.className = "w";
    w.textContent = word === chosen ? `${word} ✓` : word;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${Math.max(2, (Math.exp(lp) / best) * 240)}px`;
    const p = document.createElement("span");
    p.className = "p";
    p.textContent = `${pct(lp).toFixed(1)}%`;
    row.append(w, bar, p);
    el.appendChild(row);
  });
}

function tokenColor(lp) {
  const p = Math.exp(lp);  // likely tokens green, unlikely ones red
  return `hsla(${Math.round(120 * p)}, 70%, 75%, 0.8)`;
}

// ---- 1. continuation ------------------------------------------------------------------------

function decodingBody() {
  const strategy = $("c-strategy").value;
  const body = { max_tokens: Number($("c-max").value) || 16, logprobs: 5 };
  if (strategy === "greedy") body.temperature = 0;
  if (strategy === "sample") {
    body.temperature = Number($("c-temperature").value);
    body.top_k = Number($("c-topk").value) || 0;
    body.top_p = Number($("c-topp").value) || 1;
  }
  if (strategy === "beam") { body.num_beams = Number($("c-beams").value) || 4; body.temperature = 0; }
  const seed = $("c-seed").value;
  if (seed !== "") body.seed = Number(seed);
  return body;
}

async function continuation() {
  showError("");
  const out = $("c-out");
  const prompt = $("c-prompt").value;
  out.textContent = "";
  const start = document.createElement("span");
  start.textContent = prompt;
  out.appendChild(start);
  let context = prompt;
  let last = null;
  try {
    await stream("/v1/completions", { model: $("c-model").value, prompt, ...decodingBody() }, (chunk) => {
      const choice = chunk.choices[0];
      if (!choice) return;
      const lps = choice.logprobs;
      const span = document.createElement("span");
      span.className = "tok";
      span.textContent = choice.text;
      if (lps && lps.tokens.length) {
        const token = lps.tokens[0];
        const lp = lps.token_logprobs[0];
        const top = Object.entries(lps.top_logprobs[0] || {}).sort((a, b) => b[1] - a[1]);
        const ctx = context;
        span.style.background = tokenColor(lp);
        span.title = `${token}: ${pct(lp).toFixed(1)}%`;
        span.dataset.prob = pct(lp).toFixed(2);
        span.addEventListener("click", () => {
          out.querySelectorAll(".tok.sel").forEach((s) => s.classList.remove("sel"));
          span.classList.add("sel");
          picture($("c-picture"), ctx, token, top);
        });
        last = () => picture($("c-picture"), ctx, token, top);
      }
      context += choice.text;
      out.appendChild(span);
    });
    if (last) last();
  } catch (err) { showError(err.message); }
}

// ---- 2. SnapGPT: one new word per key press ------------------------------------------------

let snapBusy = false;
async function snapKey(event) {
  if (event.key.length !== 1 && event.key !== "Enter" && event.key !== "Tab") return;
  event.preventDefault();
  if (snapBusy) return;
  snapBusy = true;
  showError("");
  const box = $("s-text");
  const body = { model: $("s-model").value, prompt: box.value, max_tokens: 1, logprobs: 5,
                 temperature: $("s-sample").checked ? 1 : 0 };
  try {
    const r = await api("/v1/completions", body);
    const choice = r.choices[0];
    const lps = choice.logprobs;
    if (lps && lps.tokens.length) {
      const top = Object.entries(lps.top_logprobs[0] || {}).sort((a, b) => b[1] - a[1]);
      picture($("s-picture"), box.value, lps.tokens[0], top);
    }
    box.value += choice.text;
  } catch (err) { showError(err.message); }
  snapBusy = false;
}

// ---- 3. chat --------------------------------------------------------------------------------

let messages = [];
function addMessage(role, text) {
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  div.textContent = text;
  $("h-log").appendChild(div);
  $("h-log").scrollTop = $("h-log").scrollHeight;
  return div;
}

async function chatSend(event) {
  event.preventDefault();
  showError("");
  const input = $("h-input");
  const text = input.value.trim();
  if (!text || !$("h-model").value) return;
  input.value = "";
  messages.push({ role: "user", content: text });
  addMessage("user", text);
  const div = addMessage("assistant", "");
  let reply = "";
  try {
    await stream("/v1/chat/completions", { model: $("h-model").value, messages, max_tokens: 64 }, (chunk) => {
      const choice = chunk.choices[0];
      if (choice && choice.delta && choice.delta.content) {
        reply += choice.delta.content;
        div.textContent = reply;
      }
    });
    messages.push({ role: "assistant", content: reply });
  } catch (err) { showError(err.message); messages.pop(); }
}

// ---- 4. the same prompt on every model, side by side ---------------------------------------

async function compare() {
  showError("");
  const grid = $("m-grid");
  grid.innerHTML = "";
  const prompt = $("m-prompt").value;
  const jobs = state.models.map(async (m) => {
    const card = document.createElement("div");
    card.className = "card";
    const h = document.createElement("h3");
    h.textContent = `${m.id} (${m.lmlab ? m.lmlab.kind : ""})`;
    const p = document.createElement("p");
    p.className = "tokens";
    card.append(h, p);
    grid.appendChild(card);
    const body = { model: m.id, prompt, max_tokens: Number($("m-max").value) || 12, temperature: 0, logprobs: 1 };
    await stream("/v1/completions", body, (chunk) => {
      const choice = chunk.choices[0];
      if (!choice) return;
      const span = document.createElement("span");
      span.className = "tok";
      span.textContent = choice.text;
      if (choice.logprobs && choice.logprobs.token_logprobs.length) {
        span.style.background = tokenColor(choice.logprobs.token_logprobs[0]);
      }
      p.appendChild(span);
    });
  });
  try { await Promise.all(jobs); } catch (err) { showError(err.message); }
}

// ---- embeddings: 5. the projector, 6. sentence similarity ----------------------------------

async function embed(texts) {
  if (!state.encoder) throw new Error(t("no_encoder"));
  const r = await api("/v1/embeddings", { model: state.encoder, input: texts, encoding_format: "float" });
  return r.data.map((d) => d.embedding);
}

const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a) => Math.sqrt(dot(a, a)) || 1;
const cosine = (a, b) => dot(a, b) / (norm(a) * norm(b));

function pca2(vectors) {
  const n = vectors.length, d = vectors[0].length;
  const mean = new Array(d).fill(0);
  vectors.forEach((v) => v.forEach((x, i) => { mean[i] += x / n; }));
  const X = vectors.map((v) => v.map((x, i) => x - mean[i]));
  const comps = [];
  for (let c = 0; c < 2; c++) {  // power iteration on X^T X, deflating the first component
    let w = Array.from({ length: d }, (_, i) => Math.sin(i + 1 + c));
    for (let it = 0; it < 100; it++) {
      const s = X.map((row) => dot(row, w));
      const nw = new Array(d).fill(0);
      X.forEach((row, r) => row.forEach((x, i) => { nw[i] += x * s[r]; }));
      comps.forEach((u) => { const k = dot(nw, u); nw.forEach((_, i) => { nw[i] -= k * u[i]; }); });
      const len = norm(nw);
      w = nw.map((x) => x / len);
    }
    comps.push(w);
  }
  return X.map((row) => [dot(row, comps[0]), dot(row, comps[1])]);
}

const projector = { words: [], vectors: [] };

async function project() {
  showError("");
  try {
    const words = $("p-words").value.split(/\s+/).filter(Boolean);
    if (words.length < 3) return;
    projector.words = words;
    projector.vectors = await embed(words);
    draw();
  } catch (err) { showError(err.message); }
}

function draw(highlight) {
  const canvas = $("p-canvas");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const pts = pca2(projector.vectors);
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => 40 + ((x - x0) / (x1 - x0 || 1)) * (canvas.width - 120);
  const sy = (y) => 30 + ((y - y0) / (y1 - y0 || 1)) * (canvas.height - 60);
  projector.screen = pts.map(([x, y]) => [sx(x), sy(y)]);
  ctx.font = "14px system-ui";
  projector.words.forEach((w, i) => {
    const [x, y] = projector.screen[i];
    ctx.fillStyle = highlight && highlight.includes(w) ? "#d93025" : "#2f6fde";
    ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fill();
    ctx.fillStyle = "#1d2330";
    ctx.fillText(w, x + 6, y - 6);
  });
}

function neighbours(vec, exclude) {
  return projector.words.map((w, i) => [w, cosine(vec, projector.vectors[i])])
    .filter(([w]) => !exclude.includes(w)).sort((a, b) => b[1] - a[1]).slice(0, 5);
}

function canvasClick(event) {
  if (!projector.screen) return;
  const rect = $("p-canvas").getBoundingClientRect();
  const scale = $("p-canvas").width / rect.width;
  const x = (event.clientX - rect.left) * scale, y = (event.clientY - rect.top) * scale;
  let best = -1, dist = 1e9;
  projector.screen.forEach(([px, py], i) => {
    const dd = (px - x) ** 2 + (py - y) ** 2;
    if (dd < dist) { dist = dd; best = i; }
  });
  if (best < 0) return;
  const word = projector.words[best];
  const near = neighbours(projector.vectors[best], [word]);
  $("p-info").textContent = `${t("neighbours")} «${word}»: ` +
    near.map(([w, s]) => `${w} ${s.toFixed(2)}`).join(", ");
  draw([word, ...near.map(([w]) => w)]);
}

async function analogy() {
  showError("");
  try {
    const [a, b, c] = ["p-a", "p-b", "p-c"].map((id) => $(id).value.trim());
    for (const w of [a, b, c]) {
      if (!projector.words.includes(w)) $("p-words").value += " " + w;
    }
    await project();
    const v = (w) => projector.vectors[projector.words.indexOf(w)];
    const target = v(a).map((x, i) => x - v(b)[i] + v(c)[i]);
    const near = neighbours(target, [a, b, c]);
    $("p-info").textContent = `${t("answer")}: ${a} − ${b} + ${c} ≈ ` +
      near.map(([w, s]) => `${w} ${s.toFixed(2)}`).join(", ");
    draw(near.slice(0, 1).map(([w]) => w));
  } catch (err) { showError(err.message); }
}

async function similarity() {
  showError("");
  const source = $("y-source").value.trim();
  const others = $("y-others").value.split("\n").map((s) => s.trim()).filter(Boolean);
  const table = $("y-out");
  table.innerHTML = "";
  if (!source || !others.length) return;
  try {
    const vecs = await embed([source, ...others]);
    const rows = others.map((s, i) => [s, cosine(vecs[0], vecs[i + 1])]).sort((a, b) => b[1] - a[1]);
    rows.forEach(([s, score]) => {
      const tr = table.insertRow();
      const a = tr.insertCell(); a.className = "score"; a.textContent = score.toFixed(3);
      const b = tr.insertCell(); b.textContent = s;
    });
  } catch (err) { showError(err.message); }
}

// ---- wiring ---------------------------------------------------------------------------------

function showTab(name) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((s) => s.classList.toggle("active", s.id === name));
}

document.addEventListener("DOMContentLoaded", () => {
  $("apikey").value = localStorage.getItem("lmlab-key") || "";
  $("apikey").addEventListener("change", () => { localStorage.setItem("lmlab-key", $("apikey").value); loadModels().catch((e) => showError(e.message)); });
  $("lang").addEventListener("click", () => {
    lang = lang === "es" ? "en" : "es";
    localStorage.setItem("lmlab-lang", lang);
    applyLang();
  });
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("c-go").addEventListener("click", continuation);
  $("s-text").addEventListener("keydown", snapKey);
  $("h-form").addEventListener("submit", chatSend);
  $("h-reset").addEventListener("click", () => { messages = []; $("h-log").innerHTML = ""; });
  $("m-go").addEventListener("click", compare);
  $("p-go").addEventListener("click", project);
  $("p-analogy").addEventListener("click", analogy);
  $("p-canvas").addEventListener("click", canvasClick);
  $("y-go").addEventListener("click", similarity);
  applyLang();
  loadModels().then(() => { document.body.dataset.ready = "1"; }).catch((e) => showError(e.message));
});
