// digits admin page: sign in with the admin token, retrain, watch the job live, manage models.
//
// The token lives in sessionStorage only and travels in the Authorization header, never in a
// URL. A job's progress arrives as Server-Sent Events; EventSource cannot send headers, so the
// stream is read with fetch() and parsed here (resuming with Last-Event-ID after a drop).

const TOKEN_KEY = "digits.adminToken";
const FINAL = new Set(["succeeded", "rejected", "failed", "cancelled", "interrupted"]);
const $ = (role) => document.querySelector(`[data-role="${role}"]`);

const el = {
  main: document.querySelector("main.admin"),
  signin: $("signin"),
  signinForm: $("signin-form"),
  signinError: $("signin-error"),
  tokenInput: document.querySelector("[data-testid=token]"),
  console: $("console"),
  session: $("session"),
  signout: $("signout"),
  form: $("train-form"),
  trainError: $("train-error"),
  retrain: document.querySelector("[data-testid=retrain]"),
  resetForm: $("reset-form"),
  job: $("job"),
  status: document.querySelector("[data-testid=job-status]"),
  jobLine: $("job-line"),
  progress: $("progress"),
  progressText: $("progress-text"),
  statEpoch: $("stat-epoch"),
  statLoss: $("stat-loss"),
  statVal: $("stat-val"),
  statElapsed: $("stat-elapsed"),
  statEta: $("stat-eta"),
  lossChart: $("loss-chart"),
  accChart: $("acc-chart"),
  reason: $("job-reason"),
  cancel: $("cancel"),
  modelsBody: $("models-body"),
  modelsHint: $("models-hint"),
  jobsBody: $("jobs-body"),
  confusion: $("confusion"),
  mistakes: $("mistakes"),
  insightHint: $("insight-hint"),
  badge: document.querySelector("[data-testid=model-version]"),
};

// ---- API -------------------------------------------------------------------------------------

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}` };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
    cache: "no-store",
  });
  if (response.status === 401) {
    signOut("The token was not accepted. Enter the admin token again.");
    throw new Unauthorized();
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (data?.error?.code === "admin_rate_limited") {
    // Too many wrong tokens from this address: the server's message says how long to wait.
    const message = data.error.message;
    signOut(message.charAt(0).toUpperCase() + message.slice(1));
    throw new Unauthorized();
  }
  if (!response.ok) {
    const error = new Error(data?.error?.message || `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.code = data?.error?.code;
    error.details = data?.error?.details;
    throw error;
  }
  return data;
}

// ---- formatting ------------------------------------------------------------------------------

const pct = (x, digits = 2) => (x == null ? "–" : `${(x * 100).toFixed(digits)}%`);
const when = (iso) => {
  if (!iso) return "–";
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
};
const duration = (s) => {
  if (s == null || !Number.isFinite(s)) return "–";
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
};
const network = (sizes, activation) => (sizes ? `${sizes.join("–")} ${activation || ""}` : "–");
const configText = (c) =>
  c
    ? `${(c.hidden || c.hidden_layers || []).join("·")} · ${c.epochs} ep${
        c.max_train_samples ? ` · ${c.max_train_samples.toLocaleString()} img` : ""
      }${c.augment ? " · aug" : ""}`
    : "–";

function node(tag, props = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") n.className = v;
    else if (k === "dataset") Object.assign(n.dataset, v);
    else if (k === "text") n.textContent = v;
    else if (v !== undefined && v !== null && v !== false) n.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c != null) n.append(c);
  return n;
}

// ---- sign in ---------------------------------------------------------------------------------

function showConsole(signedIn) {
  el.signin.hidden = signedIn;
  el.console.hidden = !signedIn;
  el.session.hidden = !signedIn;
  el.main.dataset.state = signedIn ? "ready" : "locked";
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  stream.stop();
  showConsole(false);
  el.signinError.hidden = !message;
  el.signinError.textContent = message || "";
  el.tokenInput.value = "";
  el.tokenInput.focus();
}

el.signinForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = el.tokenInput.value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  await start();
});
el.signout.addEventListener("click", () => signOut(""));

async function start() {
  try {
    await refreshModels();
  } catch (e) {
    if (!(e instanceof Unauthorized)) {
      showConsole(false);
      el.signinError.hidden = false;
      el.signinError.textContent = e.message;
    }
    return;
  }
  el.signinError.hidden = true;
  showConsole(true);
  review.refresh().catch(() => {});
  const jobs = await refreshJobs().catch(() => null);
  const running = jobs?.running || jobs?.jobs?.[0]?.id;
  if (running) watchJob(running);
}

// ---- the training form -----------------------------------------------------------------------

const defaults = new FormData(el.form);
const defaultChecks = [...el.form.querySelectorAll("input[type=checkbox]")].map((c) => c.checked);

el.resetForm.addEventListener("click", () => {
  for (const [name, value] of defaults) {
    const input = el.form.elements[name];
    if (input && input.type !== "checkbox") input.value = value;
  }
  el.form.querySelectorAll("input[type=checkbox]").forEach((c, i) => (c.checked = defaultChecks[i]));
  el.form.elements.max_train_samples.value = "";
  clearFieldErrors();
});

function clearFieldErrors() {
  el.trainError.hidden = true;
  el.form.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
}

function readForm() {
  const f = el.form.elements;
  const body = {
    hidden_layers: f.hidden_layers.value
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number),
    activation: f.activation.value,
    loss: f.loss.value,
    augment: f.augment.checked,
    force: f.force.checked,
    include_feedback: f.include_feedback.checked,
  };
  if (f.feedback_weight.value !== "") body.feedback_weight = Number(f.feedback_weight.value);
  for (const name of ["epochs", "batch_size", "seed", "max_train_samples"]) {
    if (f[name].value !== "") body[name] = Number(f[name].value);
  }
  for (const name of ["learning_rate", "momentum", "weight_decay"]) {
    if (f[name].value !== "") body[name] = Number(f[name].value);
  }
  return body;
}

el.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors();
  el.retrain.disabled = true;
  try {
    const accepted = await api("/api/admin/retrain", { method: "POST", body: readForm() });
    watchJob(accepted.job_id, true);
    refreshJobs();
  } catch (e) {
    if (e instanceof Unauthorized) return;
    el.trainError.hidden = false;
    el.trainError.textContent = e.message;
    for (const d of Array.isArray(e.details) ? e.details : []) {
      const field = el.form.elements[d.loc?.[1]];
      if (field) field.setAttribute("aria-invalid", "true");
    }
    if (e.code === "job_running" && e.details?.job_id) watchJob(e.details.job_id);
  } finally {
    el.retrain.disabled = job.status === "queued" || job.status === "running";
  }
});

// ---- the live job ----------------------------------------------------------------------------

const job = {
  id: null,
  status: "idle",
  loss: [], // [x, loss] with x = epochs done (fractional)
  train: [], // [x, train accuracy]
  val: [], // [x, validation accuracy], once per epoch
  epochs: 1,
};

function setStatus(status, phase) {
  job.status = status;
  el.status.textContent = status === "running" && phase ? `running · ${phase}` : status;
  el.status.dataset.status = status;
  el.job.dataset.state = status;
  const active = status === "queued" || status === "running";
  el.cancel.hidden = !active;
  el.retrain.disabled = active;
}

function resetJob(id) {
  Object.assign(job, { id, loss: [], train: [], val: [], epochs: 1 });
  el.progress.value = 0;
  el.progressText.textContent = "0%";
  for (const s of [el.statEpoch, el.statLoss, el.statVal, el.statElapsed, el.statEta])
    s.textContent = "–";
  el.reason.textContent = "";
  drawCharts();
}

function onProgress(e) {
  const x = e.epoch - 1 + e.batch_fraction;
  job.epochs = e.epochs;
  job.loss.push([x, e.loss]);
  job.train.push([x, e.train_accuracy]);
  if (e.kind === "epoch" && e.validation_accuracy != null) job.val.push([x, e.validation_accuracy]);
  const done = x / e.epochs;
  el.progress.value = done;
  el.progressText.textContent = `${Math.floor(done * 100)}%`;
  el.statEpoch.textContent = `${e.kind === "epoch" ? e.epoch : e.epoch} / ${e.epochs}`;
  el.statLoss.textContent = e.loss.toFixed(4);
  if (e.validation_accuracy != null) el.statVal.textContent = pct(e.validation_accuracy);
  el.statElapsed.textContent = duration(e.elapsed);
  el.statEta.textContent = done >= 1 ? "–" : duration(e.eta);
  scheduleDraw();
}

function onEvent(type, data) {
  if (type === "status") {
    setStatus(data.status);
    if (data.status === "running") {
      el.jobLine.textContent = `Job ${job.id} is running.`;
      refreshJobs().catch(() => {});
    }
    if (FINAL.has(data.status)) {
      el.reason.textContent = data.reason || "";
      el.jobLine.textContent = `Job ${job.id} ${data.status}.`;
      if (data.status === "succeeded") {
        el.progress.value = 1;
        el.progressText.textContent = "100%";
        el.statEta.textContent = "–";
      }
      refreshModels().catch(() => {});
      refreshJobs().catch(() => {});
    }
  } else if (type === "phase") {
    if (job.status === "running") setStatus("running", data.phase);
  } else if (type === "batch" || type === "epoch") {
    onProgress(data);
    if (type === "epoch") refreshJobs().catch(() => {});
  }
}

const stream = {
  controller: null,
  stop() {
    this.controller?.abort();
    this.controller = null;
  },
  async open(id) {
    this.stop();
    const controller = new AbortController();
    this.controller = controller;
    let lastId = 0;
    let finished = false;
    for (let attempt = 0; !finished && !controller.signal.aborted && attempt < 30; attempt++) {
      try {
        const response = await fetch(`/api/admin/jobs/${encodeURIComponent(id)}/events`, {
          headers: {
            Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}`,
            Accept: "text/event-stream",
            "Last-Event-ID": String(lastId),
          },
          signal: controller.signal,
          cache: "no-store",
        });
        if (response.status === 401) return signOut("The token was not accepted.");
        if (!response.ok) throw new Error(`events: ${response.status}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let type = "message";
            let data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) type = line.slice(6).trim();
              else if (line.startsWith("data:")) data += line.slice(5).trim();
              else if (line.startsWith("id:")) lastId = Number(line.slice(3).trim()) || lastId;
            }
            if (!data) continue;
            const parsed = JSON.parse(data);
            onEvent(type, parsed);
            if (type === "status" && FINAL.has(parsed.status)) finished = true;
          }
        }
      } catch (e) {
        if (controller.signal.aborted) return;
      }
      if (!finished) await new Promise((r) => setTimeout(r, 1500));
    }
  },
};

async function watchJob(id, fresh = false) {
  if (job.id === id && stream.controller && !fresh) return;
  resetJob(id);
  setStatus(fresh ? "queued" : "…");
  el.jobLine.textContent = `Job ${id}`;
  if (!fresh) {
    // A finished job: show its history at once, without replaying its stream.
    try {
      const record = await api(`/api/admin/jobs/${encodeURIComponent(id)}`);
      if (FINAL.has(record.status)) {
        for (const e of record.history || []) onProgress(e);
        setStatus(record.status);
        el.reason.textContent = record.reason || "";
        el.jobLine.textContent = `Last job ${id} ${record.status} ${when(record.finished)}.`;
        if (!record.history?.length) {
          el.progressText.textContent = "–";
        }
        return;
      }
    } catch (e) {
      return;
    }
  }
  stream.open(id);
}

el.cancel.addEventListener("click", async () => {
  if (!job.id) return;
  el.cancel.disabled = true;
  try {
    await api(`/api/admin/jobs/${encodeURIComponent(job.id)}/cancel`, { method: "POST" });
    el.reason.textContent = "Cancelling…";
  } catch (e) {
    if (!(e instanceof Unauthorized)) el.reason.textContent = e.message;
  } finally {
    el.cancel.disabled = false;
  }
});

// ---- charts ----------------------------------------------------------------------------------

let drawPending = false;
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    drawCharts();
  });
}

function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function chart(canvas, series, { yMin, yMax, format }) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (!w || !h) return;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const pad = { l: 44, r: 10, t: 8, b: 22 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const xMax = Math.max(1, job.epochs);
  const X = (x) => pad.l + (x / xMax) * pw;
  const Y = (y) => pad.t + (1 - (y - yMin) / (yMax - yMin || 1)) * ph;
  const muted = cssVar("--muted", "#5f6675");
  const grid = cssVar("--border", "#e2e5ec");
  ctx.font = `11px ${cssVar("--font", "system-ui")}`;
  ctx.lineWidth = 1;
  ctx.strokeStyle = grid;
  ctx.fillStyle = muted;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (let i = 0; i <= 4; i++) {
    const y = yMin + ((yMax - yMin) * i) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.l, Math.round(Y(y)) + 0.5);
    ctx.lineTo(w - pad.r, Math.round(Y(y)) + 0.5);
    ctx.stroke();
    ctx.fillText(format(y), pad.l - 6, Y(y));
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const step = Math.max(1, Math.ceil(xMax / 8));
  for (let e = 0; e <= xMax; e += step) ctx.fillText(String(e), X(e), h - pad.b + 6);
  for (const s of series) {
    if (!s.points.length) continue;
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = 2;
    ctx.lineJoin = "round";
    if (s.dots) {
      for (const [x, y] of s.points) {
        ctx.beginPath();
        ctx.arc(X(x), Y(y), 3.5, 0, Math.PI * 2);
        ctx.fill();
      }
    }
    if (s.points.length > 1 || !s.dots) {
      ctx.beginPath();
      s.points.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
      ctx.stroke();
    }
  }
  canvas.dataset.points = String(series.reduce((n, s) => n + s.points.length, 0));
}

// The smallest "nice" number (1, 2, 2.5 or 5 times a power of ten, times 4 grid steps) >= x.
function niceMax(x) {
  const raw = x / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return step * 4;
}

function drawCharts() {
  const accent = cssVar("--accent", "#4f46e5");
  const second = cssVar("--good", "#0e9f6e");
  const lossMax = niceMax(Math.max(0.1, ...job.loss.map(([, y]) => y)));
  chart(el.lossChart, [{ points: job.loss, color: accent }], {
    yMin: 0,
    yMax: lossMax,
    format: (y) => String(Number(y.toFixed(3))),
  });
  const accs = [...job.train, ...job.val].map(([, y]) => y);
  const accMin = accs.length ? Math.max(0, Math.floor(Math.min(...accs) * 10) / 10) : 0;
  chart(
    el.accChart,
    [
      { points: job.train, color: accent },
      { points: job.val, color: second, dots: true },
    ],
    { yMin: accMin, yMax: 1, format: (y) => `${Math.round(y * 100)}%` },
  );
}
new ResizeObserver(() => scheduleDraw()).observe(el.lossChart);

// ---- models, jobs, insights ------------------------------------------------------------------

async function refreshModels() {
  const data = await api("/api/admin/models");
  el.modelsHint.textContent = `${data.models.length} version${data.models.length === 1 ? "" : "s"}`;
  el.modelsBody.replaceChildren(
    ...data.models.map((m) => {
      const activate = node("button", {
        type: "button",
        class: "btn btn-small",
        "data-action": "activate",
        text: "Activate",
      });
      const remove = node("button", {
        type: "button",
        class: "btn btn-small btn-quiet-danger",
        "data-action": "delete",
        text: "Delete",
        "aria-label": `Delete ${m.version}`,
      });
      activate.addEventListener("click", () => modelAction("activate", m.version, activate));
      remove.addEventListener("click", () => modelAction("delete", m.version, remove));
      const actions = m.active
        ? node("span", { class: "tag tag-active", text: "Active" })
        : node("span", { class: "actions" }, activate, remove);
      return node(
        "tr",
        { class: m.active ? "is-active" : "", dataset: { version: m.version } },
        node("td", {}, node("code", { text: m.version }), m.error ? node("span", { class: "tag tag-bad", text: "damaged" }) : null),
        node("td", { text: when(m.created) }),
        node("td", { text: network(m.sizes, m.activation) }),
        node("td", { class: "num", text: pct(m.metrics?.mnist_test_accuracy) }),
        node(
          "td",
          {
            class: "num",
            dataset: { testid: "held-back" },
            title: m.metrics?.feedback_size
              ? `${m.metrics.feedback_size} held-back drawings${m.feedback?.trained_on ? `; trained on ${m.feedback.train_samples} drawings ×${m.feedback.weight}` : "; not trained on drawings"}`
              : "no held-back drawings when it was trained",
          },
          m.metrics?.feedback_size ? `${pct(m.metrics.feedback_accuracy)} ` : "–",
          m.metrics?.feedback_size ? node("small", { class: "muted", text: `of ${m.metrics.feedback_size}` }) : null,
          m.feedback?.trained_on ? node("span", { class: "tag tag-fb", text: "+drawings" }) : null,
        ),
        node("td", {}, m.parent ? node("code", { class: "muted", text: m.parent }) : "–"),
        node("td", { class: "cell-actions" }, actions),
      );
    }),
  );
  if (data.serving && el.badge) el.badge.textContent = data.serving;
  if (data.serving && data.serving !== insightsFor) refreshInsights();
  // This worker swaps to a newly activated model within a second; look again until it has.
  if (data.active !== data.serving && modelRetries < 10) {
    modelRetries += 1;
    setTimeout(() => refreshModels().catch(() => {}), 1000);
  } else if (data.active === data.serving) {
    modelRetries = 0;
  }
  return data;
}
let modelRetries = 0;

async function modelAction(action, version, button) {
  if (action === "delete" && !confirm(`Delete model ${version}? This cannot be undone.`)) return;
  button.disabled = true;
  try {
    if (action === "activate") {
      await api(`/api/admin/models/${encodeURIComponent(version)}/activate`, { method: "POST" });
    } else {
      await api(`/api/admin/models/${encodeURIComponent(version)}`, { method: "DELETE" });
    }
    el.modelsHint.textContent = action === "activate" ? `${version} is now active` : `${version} deleted`;
  } catch (e) {
    if (!(e instanceof Unauthorized)) alert(e.message);
  } finally {
    button.disabled = false;
    await refreshModels().catch(() => {});
  }
}

async function refreshJobs() {
  const data = await api("/api/admin/jobs?limit=15");
  el.jobsBody.replaceChildren(
    ...(data.jobs.length
      ? data.jobs.map((j) =>
          node(
            "tr",
            { dataset: { job: j.id } },
            node("td", {}, node("code", { text: j.id })),
            node("td", { text: when(j.started || j.created) }),
            node("td", { text: configText(j.config) }),
            node("td", {}, node("span", { class: "status-pill status-small", dataset: { status: j.status }, text: j.status })),
            node("td", { class: "outcome", text: outcome(j) }),
          ),
        )
      : [node("tr", {}, node("td", { colspan: "5", class: "empty", text: "No jobs yet." }))]),
  );
  return data;
}

function outcome(j) {
  const r = j.result;
  const drawings = r?.feedback_size
    ? `; drawings ${pct(r.feedback_accuracy)}${r.active_feedback_accuracy != null ? ` vs ${pct(r.active_feedback_accuracy)}` : ""}`
    : "";
  if (j.status === "succeeded" && r) return `${pct(r.mnist_test_accuracy)} → ${r.version}${r.forced && !r.gate_passed ? " (forced)" : ""}${drawings}`;
  if (j.status === "rejected" && r) return `${pct(r.mnist_test_accuracy)} vs ${pct(r.active_accuracy)}: below the gate${drawings}`;
  if (j.status === "queued") return "starting";
  if (j.status === "running") return j.progress ? `epoch ${j.progress.epoch} of ${j.progress.epochs}` : "loading data";
  return j.reason || "";
}

const HEAT_LEVELS = 8;
let insightsFor = null; // the model version the insight card shows (or is loading)
async function refreshInsights() {
  el.insightHint.textContent = "Measuring…";
  insightsFor = el.badge?.textContent || null;
  let data;
  try {
    data = await api("/api/admin/insights");
  } catch (e) {
    el.insightHint.textContent = e instanceof Unauthorized ? "" : e.message;
    insightsFor = null;
    return;
  }
  insightsFor = data.version;
  el.insightHint.textContent = `${data.version}: ${pct(data.accuracy)} correct, ${data.errors} of ${data.test_size.toLocaleString()} wrong`;
  const max = Math.max(1, ...data.confusion.flatMap((row, i) => row.filter((_, j) => j !== i)));
  const head = node("tr", {}, node("th", { scope: "col", class: "corner", text: "" }), ...[...Array(10).keys()].map((d) => node("th", { scope: "col", text: String(d) })));
  const rows = data.confusion.map((row, i) =>
    node(
      "tr",
      {},
      node("th", { scope: "row", text: String(i) }),
      ...row.map((n, j) => {
        const level = i === j ? "diag" : n === 0 ? "0" : String(1 + Math.min(HEAT_LEVELS - 1, Math.floor(((HEAT_LEVELS - 1) * Math.sqrt(n)) / Math.sqrt(max))));
        return node("td", { class: `heat heat-${level}`, title: `true ${i}, predicted ${j}: ${n}`, text: n ? String(n) : "" });
      }),
    ),
  );
  el.confusion.replaceChildren(node("thead", {}, head), node("tbody", {}, ...rows));
  el.mistakes.replaceChildren(
    ...data.most_confident_mistakes.map((m) => {
      const canvas = node("canvas", { width: "28", height: "28", class: "digit", role: "img", "aria-label": `a test ${m.label} read as ${m.predicted}` });
      paintDigit(canvas, m.pixels_base64);
      return node(
        "li",
        { class: "mistake", dataset: { label: String(m.label), predicted: String(m.predicted) } },
        canvas,
        node("span", { class: "mistake-text" }, node("b", { text: String(m.label) }), " → ", node("b", { class: "wrong", text: String(m.predicted) })),
        node("span", { class: "mistake-conf", text: pct(m.confidence, 1) }),
      );
    }),
  );
}

function paintDigit(canvas, b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = 255 - bytes[i]; // dark ink on paper, like the drawing pad
    image.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}

// ---- user drawings: the review grid ----------------------------------------------------------

const review = (() => {
  const grid = $("review-grid");
  const counts = $("review-counts");
  const hint = $("review-hint");
  const message = $("review-message");
  const filters = $("review-filters");
  const pageText = $("review-page");
  const prev = $("review-prev");
  const next = $("review-next");
  const trainHint = $("feedback-train-hint");
  const state = { page: 1, pages: 1 };

  function say(text, tone = "ok") {
    message.textContent = text;
    message.dataset.tone = tone;
    message.hidden = !text;
  }

  function query() {
    const f = filters.elements;
    const params = new URLSearchParams({ page: String(state.page), per_page: "48" });
    if (f.label.value !== "") params.set("label", f.label.value);
    if (f.predicted.value !== "") params.set("predicted", f.predicted.value);
    if (f.wrong_only.checked) params.set("wrong_only", "true");
    return params;
  }

  async function refresh() {
    const data = await api(`/api/admin/feedback?${query()}`);
    state.pages = data.pages;
    if (state.page > data.pages) {
      state.page = data.pages;
      return refresh();
    }
    const c = data.counts;
    hint.textContent = `${c.total.toLocaleString()} drawing${c.total === 1 ? "" : "s"}, ${c.wrong.toLocaleString()} the model got wrong`;
    trainHint.textContent = c.total
      ? `${c.total.toLocaleString()} stored; a fixed 20% is held back to score the model`
      : "none stored yet";
    const selected = filters.elements.label.value;
    counts.replaceChildren(
      ...c.by_label.map((n, d) => {
        const button = node(
          "button",
          {
            type: "button",
            class: `digit-count${selected === String(d) ? " is-selected" : ""}`,
            "aria-pressed": String(selected === String(d)),
            "aria-label": `${d}: ${n} drawings, ${c.wrong_by_label[d]} wrong`,
            dataset: { digit: String(d), count: String(n) },
          },
          node("b", { text: String(d) }),
          node("span", { text: String(n) }),
          c.wrong_by_label[d] ? node("small", { text: `${c.wrong_by_label[d]} wrong` }) : null,
        );
        button.addEventListener("click", () => {
          filters.elements.label.value = selected === String(d) ? "" : String(d);
          state.page = 1;
          refresh().catch(report);
        });
        return node("li", {}, button);
      }),
    );
    grid.dataset.count = String(data.items.length);
    grid.replaceChildren(
      ...(data.items.length
        ? data.items.map(item)
        : [node("li", { class: "empty", text: c.total ? "No drawings match these filters." : "No drawings yet. They arrive when people answer on the drawing page." })]),
    );
    pageText.textContent = `Page ${data.page} of ${data.pages} · ${data.total.toLocaleString()} shown by the filters`;
    prev.disabled = data.page <= 1;
    next.disabled = data.page >= data.pages;
    return data;
  }

  function item(s) {
    const select = node("select", { "aria-label": `Label of drawing ${s.id}`, dataset: { testid: "feedback-relabel" } });
    for (let d = 0; d < 10; d++) {
      const option = node("option", { value: String(d), text: String(d) });
      option.selected = d === s.label;
      select.append(option);
    }
    select.addEventListener("change", async () => {
      select.disabled = true;
      try {
        await api(`/api/admin/feedback/${s.id}`, { method: "PATCH", body: { label: Number(select.value) } });
        say(`Drawing ${s.id} is now labelled ${select.value}.`);
        await refresh();
      } catch (e) {
        report(e);
        select.disabled = false;
      }
    });
    const remove = node("button", {
      type: "button",
      class: "btn btn-small btn-quiet-danger",
      text: "Delete",
      "aria-label": `Delete drawing ${s.id}`,
      dataset: { testid: "feedback-delete" },
    });
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      try {
        await api(`/api/admin/feedback/${s.id}`, { method: "DELETE" });
        say(`Drawing ${s.id} deleted.`);
        await refresh();
      } catch (e) {
        report(e);
        remove.disabled = false;
      }
    });
    const predicted = s.predicted == null ? "not asked" : String(s.predicted);
    return node(
      "li",
      {
        class: `review-item${s.wrong ? " is-wrong" : ""}`,
        dataset: { testid: "feedback-item", id: String(s.id), label: String(s.label), wrong: String(s.wrong) },
        title: `#${s.id} · ${when(s.created)}${s.model_version ? ` · ${s.model_version}` : ""}`,
      },
      node("img", { src: s.thumbnail, width: "84", height: "84", alt: `drawing ${s.id}, labelled ${s.label}` }),
      node("span", { class: "review-label" }, "Label ", select),
      node("span", { class: `review-predicted${s.wrong ? " wrong" : ""}`, text: `Read as ${predicted}` }),
      remove,
    );
  }

  function report(e) {
    if (!(e instanceof Unauthorized)) say(e.message, "error");
  }

  filters.addEventListener("change", () => {
    state.page = 1;
    refresh().catch(report);
  });
  prev.addEventListener("click", () => {
    state.page = Math.max(1, state.page - 1);
    refresh().catch(report);
  });
  next.addEventListener("click", () => {
    state.page = Math.min(state.pages, state.page + 1);
    refresh().catch(report);
  });

  $("review-export").addEventListener("click", async () => {
    // A plain link cannot carry the Authorization header: fetch the file, then save the blob.
    try {
      const response = await fetch("/api/admin/feedback/export", {
        headers: { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}` },
        cache: "no-store",
      });
      if (!response.ok) throw new Error(`export failed (${response.status})`);
      const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "")?.[1] || "digits-feedback.npz";
      const url = URL.createObjectURL(await response.blob());
      const link = node("a", { href: url, download: name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      say(`Exported ${response.headers.get("X-Sample-Count") ?? "all"} drawings to ${name}.`);
    } catch (e) {
      report(e);
    }
  });

  const importInput = $("review-import");
  importInput.addEventListener("change", async () => {
    const file = importInput.files?.[0];
    if (!file) return;
    try {
      const response = await fetch("/api/admin/feedback/import", {
        method: "POST",
        headers: {
          Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}`,
          "Content-Type": "application/octet-stream",
        },
        body: file,
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data?.error?.message || `import failed (${response.status})`);
      say(`Imported ${file.name}: ${data.added} new, ${data.skipped} already here; ${data.total} in all.`);
      state.page = 1;
      await refresh();
    } catch (e) {
      report(e);
    } finally {
      importInput.value = "";
    }
  });

  return { refresh };
})();

// ---- start -----------------------------------------------------------------------------------

setStatus("idle");
el.status.textContent = "idle";
drawCharts();
if (sessionStorage.getItem(TOKEN_KEY)) start();
else showConsole(false);
setInterval(() => {
  if (el.console.hidden || document.hidden) return;
  if (!FINAL.has(job.status) && job.status !== "idle") return; // the stream keeps it current
  refreshJobs()
    .then((d) => d.running && d.running !== job.id && watchJob(d.running))
    .catch(() => {});
}, 5000);
document.documentElement.classList.add("js-ready");
