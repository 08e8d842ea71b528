/**
 * The job's two curves: training loss, and training and validation accuracy, by epoch.
 *
 * - They are drawn from the series in `job` (see main.js), whose x is the number of epochs done
 *   (fractional between epochs); the x axis runs to job.epochs.
 * - schedule() redraws at the next animation frame, at most once a frame however many events
 *   arrive; draw() redraws now. The canvases are also redrawn when their size changes, sharp at
 *   the screen's pixel ratio.
 * - Colours and the font are the page's CSS variables, so the curves follow the light or dark
 *   theme. Each canvas's data-points says how many points it shows, and data-ticks the y values
 *   of its grid lines.
 * - The y axes have round ticks (steps of 1, 2, 2.5 or 5 times a power of ten: 80/85/90/95/100%,
 *   never 30/48/65/83%). A series with few points (a job's very start, or a finished job's
 *   per-epoch history, shown while its stream is replayed or when the stream cannot be read)
 *   shows each point as a dot, so a single point is never an invisible line.
 */

/**
 * @param {object} options
 * @param {HTMLCanvasElement} options.loss
 * @param {HTMLCanvasElement} options.accuracy
 * @param {{loss: number[][], train: number[][], val: number[][], epochs: number}} options.job
 */
export function createCharts({ loss, accuracy, job }) {
  let pending = false;

  function draw() {
    const accent = cssVar("--accent", "#4f46e5");
    const second = cssVar("--good", "#0e9f6e");
    const xMax = Math.max(1, job.epochs);
    const lossTicks = niceTicks(0, Math.max(0.1, ...job.loss.map(([, y]) => y)));
    plot(loss, [{ points: job.loss, color: accent }], {
      xMax,
      ticks: lossTicks,
      format: (y) => String(Number(y.toFixed(4))),
    });
    const accs = [...job.train, ...job.val].map(([, y]) => y);
    const accTicks = niceTicks(accs.length ? Math.min(...accs) : 0, 1);
    plot(
      accuracy,
      [
        { points: job.train, color: accent },
        { points: job.val, color: second, dots: true },
      ],
      { xMax, ticks: accTicks, format: (y) => `${Number((y * 100).toFixed(1))}%` },
    );
  }

  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  }

  new ResizeObserver(schedule).observe(loss);
  return { draw, schedule };
}

function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/**
 * Round grid lines covering [lo, hi]: a step of 1, 2, 2.5 or 5 times a power of ten, giving at
 * most `most` intervals, with the ends on multiples of the step.
 * @returns {number[]} the tick values, lowest first
 */
export function niceTicks(lo, hi, most = 5) {
  const span = Math.max(hi - lo, 1e-9);
  const power = 10 ** Math.floor(Math.log10(span / most));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => span / s <= most);
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks = [];
  for (let y = first; y < hi + step - 1e-9; y += step) ticks.push(Number(y.toFixed(10)));
  return ticks;
}

/** One chart: a grid with labelled y lines, epoch ticks, then each series as a line or dots. */
function plot(canvas, series, { xMax, ticks, format }) {
  const yMin = ticks[0];
  const yMax = ticks[ticks.length - 1];
  canvas.dataset.ticks = ticks.map(format).join(" ");
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
  const X = (x) => pad.l + (x / xMax) * pw;
  const Y = (y) => pad.t + (1 - (y - yMin) / (yMax - yMin || 1)) * ph;
  ctx.font = `11px ${cssVar("--font", "system-ui")}`;
  ctx.lineWidth = 1;
  ctx.strokeStyle = cssVar("--border", "#e2e5ec");
  ctx.fillStyle = cssVar("--muted", "#5f6675");
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const y of ticks) {
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
    // At most one point an epoch (history, or a job's very start): each point is a dot.
    if (s.dots || s.points.length <= xMax + 1) {
      for (const [x, y] of s.points) {
        ctx.beginPath();
        ctx.arc(X(x), Y(y), 3.5, 0, Math.PI * 2);
        ctx.fill();
      }
    }
    if (s.points.length > 1) {
      ctx.beginPath();
      ctx.moveTo(X(s.points[0][0]), Y(s.points[0][1]));
      for (const [x, y] of s.points.slice(1)) ctx.lineTo(X(x), Y(y));
      ctx.stroke();
    }
  }
  canvas.dataset.points = String(series.reduce((n, s) => n + s.points.length, 0));
}
