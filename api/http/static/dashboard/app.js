// The dashboard's entry: hash routes (#/plans, #/plans/{id}, #/orders, #/stock,
// #/analytics), the API key's login form (shown when the API answers 401), and errors
// shown in the page.

import { ApiError, apiKey, setApiKey } from "./api.js";
import { el, notice } from "./dom.js";
import { renderAnalytics } from "./analytics.js";
import { renderPlan } from "./plan.js";
import { renderOrders, renderPlans, renderStock } from "./views.js";

const main = document.getElementById("main");
const status = document.getElementById("status");
const logout = document.getElementById("logout");
let leaving = [];
let generation = 0;

/** The route of a hash: [name, id or null, URLSearchParams]. */
export function parseHash(hash) {
  const text = (hash || "").replace(/^#\/?/, "");
  const [path, search = ""] = text.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return [parts[0] || "plans", parts[1] || null, new URLSearchParams(search)];
}

function loginForm(refused) {
  const input = el("input", {
    id: "api-key", name: "api-key", type: "password", autocomplete: "current-password",
    required: true,
  });
  const form = el("form", { class: "login", "data-testid": "login", "aria-labelledby": "h-login" },
    el("h1", { id: "h-login" }, "Sign in"),
    el("p", {}, "This server needs an API key. It is kept for this browser session only."),
    refused ? notice("That key was refused: check it and try again.", { error: true }) : null,
    el("label", { for: "api-key" }, "API key"), input,
    el("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setApiKey(input.value.trim());
    render();
  });
  main.replaceChildren(form);
  input.focus();
}

function markNav(name) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function render({ focus = false } = {}) {
  for (const stop of leaving) stop();
  leaving = [];
  const mine = ++generation;
  const [name, id, params] = parseHash(location.hash);
  markNav(name);
  logout.hidden = !apiKey();
  main.replaceChildren(el("p", { class: "muted" }, "Loading…"));
  const onLeave = (stop) => (mine === generation ? leaving.push(stop) : stop());
  try {
    if (name === "plans" && id) await renderPlan(main, id, onLeave);
    else if (name === "plans") await renderPlans(main, params);
    else if (name === "orders") await renderOrders(main, params);
    else if (name === "stock") await renderStock(main, params);
    else if (name === "analytics") await renderAnalytics(main, params);
    else main.replaceChildren(el("h1", {}, "Not found"), notice(`No page ${location.hash}.`));
    status.textContent = `${document.querySelector("main h1")?.textContent || ""} loaded`;
  } catch (error) {
    if (mine !== generation) return;
    if (error instanceof ApiError && error.status === 401) {
      const refused = Boolean(apiKey());
      setApiKey(null);
      logout.hidden = true;
      loginForm(refused);
      return;
    }
    const text = error instanceof ApiError && error.status === 404 ? "Not found." : error.message;
    main.replaceChildren(el("h1", {}, "Something went wrong"), notice(text, { error: true }));
  }
  if (focus && mine === generation) main.focus();
}

logout.addEventListener("click", () => {
  setApiKey(null);
  render();
});
window.addEventListener("hashchange", () => {
  if (location.hash.startsWith("#/")) render({ focus: true }); // "#main" is the skip link's
});
if (!location.hash.startsWith("#/")) history.replaceState(null, "", "#/plans");
render();
