// Small DOM helpers of the dashboard: elements, tables and number formats.

/** An element `tag` with attributes `attrs` and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === "") continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A table with a header row and body rows (cells are text or nodes). */
export function table(headers, rows, { testid, caption, rowAttrs } = {}) {
  const head = el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h))));
  const body = el("tbody");
  rows.forEach((row, k) => {
    const attrs = rowAttrs ? rowAttrs(k) : {};
    body.append(el("tr", attrs, ...row.map((cell) => el("td", {}, cell ?? "–"))));
  });
  if (!rows.length) {
    body.append(el("tr", {}, el("td", { colspan: headers.length, class: "muted" }, "None.")));
  }
  return el("table", { "data-testid": testid }, caption ? el("caption", {}, caption) : null, head, body);
}

/** `value` with `digits` decimals, grouped ("–" when missing). */
export function formatNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toLocaleString("en", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A cost with two decimals. */
export function formatMoney(value) {
  return formatNumber(value, 2);
}

/** A share (0..1) as a percentage. */
export function formatShare(value) {
  if (value === null || value === undefined) return "–";
  return `${formatNumber(value * 100, 1)} %`;
}

/** A short message for the user (errors, empty results) with role "alert" when it is one. */
export function notice(text, { error = false } = {}) {
  return el("p", { class: error ? "notice error" : "notice", role: error ? "alert" : null }, text);
}
