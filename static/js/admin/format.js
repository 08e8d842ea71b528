/**
 * How the admin page writes numbers, durations, times and training configs: pure functions of
 * their arguments, no DOM. A missing value is written as "–".
 */

/** 0.9924 → "99.24%" */
export const pct = (x, digits = 2) => (x == null ? "–" : `${(x * 100).toFixed(digits)}%`);

/** An ISO time: just the time of day when it is today, else the date and the time. */
export function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/** Seconds → "42 s", "3 min 07 s", "1 h 05 min". */
export function duration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** Layer sizes and activation → "784–512–256–10 relu". */
export const network = (sizes, activation) =>
  sizes ? `${sizes.join("–")} ${activation || ""}` : "–";

/**
 * A job's training config, in short, with what its request asked beyond it:
 * "512·256 · 30 ep · 6,000 img · aug · drawings ×3 · force".
 */
export function configText(c, request) {
  if (!c) return "–";
  const asked = request ?? {}; // (a record from an older release may have none)
  const parts = [(c.hidden || c.hidden_layers || []).join("·"), `${c.epochs} ep`];
  if (c.max_train_samples) parts.push(`${c.max_train_samples.toLocaleString()} img`);
  if (c.augment) parts.push("aug");
  const weight = asked.feedback_weight ? ` ×${asked.feedback_weight}` : "";
  if (asked.include_feedback) parts.push(`drawings${weight}`);
  if (asked.force) parts.push("force");
  return parts.join(" · ");
}

/** Whether a job's result is a model promoted by Force although it failed the gate. */
export const forcedBelowGate = (result) => Boolean(result?.forced && !result?.gate_passed);
