/**
 * How the pages say things in words, in one place.
 */

/**
 * "a 7", "an 8": the digit with its article, as it is read aloud.
 * @param {number} digit
 * @returns {string}
 */
export function aDigit(digit) {
  return `${digit === 8 ? "an" : "a"} ${digit}`;
}

/**
 * A probability as every confidence on the pages is written: one decimal, except that a value
 * that would round to 100.0% or to 0.0% says so, since a softmax output is never exactly
 * certain or impossible (an exact 1 or 0 is the server's rounding to 6 decimals).
 * 0.9812 → "98.1%", 0.99996 → ">99.9%", 0.00002 → "<0.1%", 0 → "<0.1%".
 * @param {number} p in [0, 1]
 * @returns {string}
 */
export function percent(p) {
  const x = Math.min(Math.max(Number(p) || 0, 0), 1);
  if (x >= 0.9995) return ">99.9%";
  if (x < 0.0005) return "<0.1%";
  return `${(x * 100).toFixed(1)}%`;
}

/**
 * A server's message as a sentence on the page: "a job is already running" → "A job is already
 * running."
 * @param {string} text
 * @returns {string} "" for an empty message
 */
export function sentence(text) {
  const t = text.trim();
  if (t === "") return "";
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".");
}
