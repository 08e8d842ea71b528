/**
 * Finding and making the admin page's elements. Elements the script needs are marked in
 * templates/admin.html with data-role (or data-testid where a test also needs them).
 */

/** The element marked data-role=`role` inside `root`. */
export const byRole = (root, role) => root.querySelector(`[data-role="${role}"]`);

/**
 * A new element: node("td", { class: "num", text: "42" }, child, …). `class`, `text` and
 * `dataset` are set as properties; any other key is an attribute (true → present, and null,
 * undefined or false → left out). Null and undefined children are skipped.
 */
export function node(tag, props = {}, ...children) {
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
