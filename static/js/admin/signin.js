/**
 * Signing in and out of the admin page with the admin token.
 *
 * - The token is kept in this tab's sessionStorage only (never localStorage, never a cookie),
 *   under "digits.adminToken". token() reads it; the API client asks for it on every request.
 * - Unlock stores the typed token (or, with the field empty, keeps the stored one) and calls
 *   onUnlock(), which checks it against the server and then calls signedIn(), or
 *   fail(message) when the server could not be asked.
 * - signOut(message) forgets the token, calls onSignOut() (so the live job stream stops), shows
 *   the sign-in card again with the message (none after the Sign out button) and puts the focus
 *   in the token field.
 * - The page's main element says which side shows: data-state "locked" or "ready".
 */

import { byRole } from "./dom.js";

const TOKEN_KEY = "digits.adminToken";

/**
 * @param {object} options
 * @param {ParentNode} options.root the page (the sign-in card, the console, the session badge)
 * @param {Storage} options.storage where the token is kept (sessionStorage)
 * @param {() => void} options.onUnlock a token was entered
 * @param {() => void} options.onSignOut the session ended
 */
export function createSignin({ root, storage, onUnlock, onSignOut }) {
  const main = root.querySelector("main.admin");
  const card = byRole(root, "signin");
  const error = byRole(root, "signin-error");
  const input = root.querySelector("[data-testid=token]");
  const panels = byRole(root, "console");
  const session = byRole(root, "session");
  const firstHeading = panels.querySelector("h2");
  firstHeading.tabIndex = -1; // focusable from the script, not a tab stop

  function show(signedIn) {
    card.hidden = signedIn;
    panels.hidden = !signedIn;
    session.hidden = !signedIn;
    main.dataset.state = signedIn ? "ready" : "locked";
  }

  function say(message) {
    error.hidden = !message;
    error.textContent = message || "";
  }

  byRole(root, "signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    // An empty field asks again with the token kept in this tab (the server was unreachable).
    const token = input.value.trim() || storage.getItem(TOKEN_KEY);
    if (!token) return;
    storage.setItem(TOKEN_KEY, token);
    onUnlock();
  });
  byRole(root, "signout").addEventListener("click", () => signOut(""));

  function signOut(message) {
    storage.removeItem(TOKEN_KEY);
    input.required = true;
    onSignOut();
    show(false);
    say(message);
    input.value = "";
    input.focus();
  }

  return {
    token: () => storage.getItem(TOKEN_KEY),
    signOut,
    /** The server accepted the token: show the console (and move the focus to it, if it was
     * on the sign-in card, which is now hidden). */
    signedIn() {
      const fromCard = card.contains(document.activeElement);
      say("");
      show(true);
      if (fromCard) firstHeading.focus();
    },
    /** The server could not be asked (not a refused token): stay on the sign-in card, where
     * Unlock with the field empty asks again with the token kept. */
    fail(message) {
      show(false);
      say(message);
      input.required = !storage.getItem(TOKEN_KEY);
    },
    /** At page load: the sign-in card, unless a token is kept from earlier in this tab. */
    locked: () => show(false),
  };
}
