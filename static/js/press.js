/**
 * A press of a button that a touch screen cannot swallow.
 *
 * Chrome on a phone turns a finger lifted while still moving into a fling, even over a canvas
 * with `touch-action: none` that cannot scroll, and the next tap within about half a second is
 * taken as "stop the fling": the button gets pointerdown and pointerup but no click. On the
 * drawing page that tap is Clear or Undo right after a stroke (in a replay, 9 taps in 15), and the
 * next digit was drawn over the last one.
 *
 * CONTRACT of onPress(button, action):
 * - a touch or pen press runs `action` once, on pointerup, if the pointer went down on the button
 *   and comes up inside it (sliding off first cancels, as a click would);
 * - the click that may follow such a press is ignored, so one tap is one action;
 * - a mouse click, and Enter or Space on the focused button, run `action` through click as usual.
 */

/** A click this long after a touch press belongs to that press (Chrome sends it within ~300 ms). */
const CLICK_AFTER_PRESS_MS = 800;

/**
 * @param {HTMLElement} button
 * @param {(event: Event) => void} action
 */
export function onPress(button, action) {
  let pressing = null; // the touch or pen pointer that went down on the button
  let pressedAt = -Infinity; // when a touch press last ran the action

  button.addEventListener("pointerdown", (e) => {
    if (e.pointerType !== "mouse" && e.isPrimary) pressing = e.pointerId;
  });
  button.addEventListener("pointercancel", () => {
    pressing = null;
  });
  button.addEventListener("pointerup", (e) => {
    if (e.pointerId !== pressing) return;
    pressing = null;
    const r = button.getBoundingClientRect();
    const inside =
      e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
    if (!inside) return;
    pressedAt = performance.now();
    action(e);
  });
  button.addEventListener("click", (e) => {
    // detail is 0 for a click made by the keyboard, which no touch press precedes.
    if (e.detail !== 0 && performance.now() - pressedAt < CLICK_AFTER_PRESS_MS) return;
    action(e);
  });
}
