/**
 * The question asked before a job with Force starts: Force promotes the new model even when it
 * fails the quality gate, so the admin is told in figures what the gate would have required.
 *
 * confirmForce() names the active model, its MNIST test accuracy, the gate's tolerance and the
 * accuracy below which the new model would otherwise be refused, and returns whether the admin
 * went on. The active model comes from getActive() (the models table's last answer), the
 * tolerance from the server's settings (the page's #admin-facts).
 */

import { pct } from "./format.js";

/**
 * @param {object} options
 * @param {() => ({version: string, metrics?: {mnist_test_accuracy?: number|null}} | null)}
 *   options.getActive the active model's summary, or null while unknown
 * @param {number} options.tolerancePp the gate's tolerance in percentage points
 * @param {(text: string) => boolean} [options.ask] the dialog (window.confirm by default)
 * @returns {() => boolean}
 */
export function createForceConfirm({ getActive, tolerancePp, ask = (t) => window.confirm(t) }) {
  return function confirmForce() {
    const active = getActive();
    const accuracy = active?.metrics?.mnist_test_accuracy;
    const points = `${tolerancePp} percentage point${tolerancePp === 1 ? "" : "s"}`;
    const gate =
      accuracy == null
        ? `The gate compares it with the active model's MNIST test accuracy, less ${points}.`
        : `The gate would refuse it below ${pct(accuracy - tolerancePp / 100)}: the active ` +
          `model ${active.version} has ${pct(accuracy)}, less ${points}.`;
    return ask(
      `Force: the new model goes live even if it fails the quality gate.\n\n${gate}\n\n` +
        "A forced model can be rolled back in the Models table. Start training with Force?",
    );
  };
}
