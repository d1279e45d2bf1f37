// The list views of the dashboard: stored plans (#/plans), orders (#/orders) and stock
// (#/stock). Each renders into the page's <main> and reads the /v1 API.

import { getJson, query } from "./api.js";
import { el, formatMoney, formatShare, notice, table } from "./dom.js";

const PLAN_STATES = ["", "draft", "committed", "superseded"];
const ORDER_STATES = [
  "", "received", "on_hold", "ready", "backordered", "allocated", "picking", "packed",
  "shipped", "delivered", "delivery_failed", "cancelled", "returned",
];

function select(id, label, values, current) {
  const box = el("select", { id, name: id });
  for (const value of values) {
    box.append(el("option", { value, selected: value === current }, value || "any"));
  }
  return [el("label", { for: id }, label), box];
}

function input(id, label, value, attrs = {}) {
  return [el("label", { for: id }, label), el("input", { id, name: id, type: "text", value: value || "", ...attrs })];
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString("en-GB") : "–";
}

function planRow(plan) {
  const k = plan.kpis;
  const link = el("a", { href: `#/plans/${encodeURIComponent(plan.id)}` },
    `${plan.plan_date || "undated"} · ${plan.id.slice(0, 8)}`);
  return [
    link,
    el("span", { class: `badge status-${plan.status}` }, plan.status),
    plan.source,
    formatMoney(k.cost),
    String(k.vehicles_used),
    String(k.shipments),
    formatShare(k.on_time_share),
    when(plan.created_at),
  ];
}

/** #/plans: stored plans, newest first, with a status filter and "more". */
export async function renderPlans(main, params) {
  const status = params.get("status") || "";
  const form = el("form", { class: "filters", role: "search", "aria-label": "Filter plans" },
    ...select("plan-status", "Status", PLAN_STATES, status),
    el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/plans${query({ status: form.elements["plan-status"].value })}`;
  });
  const headers = ["Plan", "Status", "Source", "Cost", "Vans", "Shipments", "On time", "Made"];
  const plans = [];
  let cursor = null;
  const holder = el("div", { class: "table-wrap" });
  const more = el("button", { type: "button", hidden: true }, "More plans");
  const draw = () => {
    holder.replaceChildren(table(headers, plans.map(planRow), {
      testid: "plan-list",
      caption: "Stored plans, newest first",
      rowAttrs: (k) => ({ "data-testid": "plan-row", "data-plan-id": plans[k].id }),
    }));
    more.hidden = !cursor;
  };
  const load = async () => {
    const page = await getJson(`/v1/plans${query({ status, cursor, limit: 100 })}`);
    plans.push(...page.plans);
    cursor = page.next_cursor;
    draw();
  };
  more.addEventListener("click", () => load().catch(() => {}));
  await load();
  main.replaceChildren(el("h1", {}, "Plans"), form, holder, more);
}

function orderDetail(order, history, tracking) {
  const lines = order.lines.map((l) => [l.id, l.sku, String(l.quantity), String(l.reserved), String(l.shipped)]);
  const steps = history.transitions.map((t) => [when(t.at), t.from_status || "–", t.to_status, t.cause, t.reason || "–"]);
  const track = tracking
    ? [
      ["Route", tracking.route_id || "–"], ["Stop", tracking.stop_id || "–"],
      ["Stop state", tracking.stop_status || "–"], ["Stops before", tracking.stops_before ?? "–"],
      ["ETA", when(tracking.eta_start_time)], ["Planned", when(tracking.planned_start_time)],
      ["At risk", tracking.at_risk ? "yes" : "no"],
      ["Customer page", el("a", { href: tracking.tracking_url }, tracking.tracking_url)],
    ]
    : [];
  return el("section", { class: "order-detail", "data-testid": "order-detail", "data-order-id": order.id, "aria-labelledby": "h-order" },
    el("h2", { id: "h-order" }, `Order ${order.id} `, el("span", { class: `badge status-${order.status}` }, order.status)),
    el("p", {}, `${order.channel} · promised ${order.promised_date || "–"} · payment ${order.payment_status}` +
      (order.status_detail ? ` · ${order.status_detail}` : "") + (order.address ? ` · ${order.address}` : "")),
    el("h3", {}, "Lines"), table(["Line", "SKU", "Quantity", "Reserved", "Shipped"], lines),
    el("h3", {}, "History"), table(["At", "From", "To", "Cause", "Reason"], steps, { testid: "history" }),
    el("h3", {}, "Tracking"),
    tracking ? table(["Field", "Value"], track, { testid: "tracking" }) : notice("No tracking for this order yet."));
}

async function showOrder(id, channel) {
  const suffix = query({ channel });
  const path = `/v1/orders/${encodeURIComponent(id)}`;
  const [order, history] = await Promise.all([getJson(path + suffix), getJson(`${path}/history${suffix}`)]);
  let tracking = null;
  try {
    tracking = await getJson(`${path}/tracking${suffix}`);
  } catch (_error) {
    tracking = null;
  }
  return orderDetail(order, history, tracking);
}

/** #/orders: search by id, or list by status and channel; an order's history and tracking. */
export async function renderOrders(main, params) {
  const id = params.get("id") || "";
  const status = params.get("status") || "";
  const channel = params.get("channel") || "";
  const form = el("form", { class: "filters", role: "search", "aria-label": "Search orders" },
    ...input("order-id", "Order id", id),
    ...select("order-status", "Status", ORDER_STATES, status),
    ...input("order-channel", "Channel", channel),
    el("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const f = form.elements;
    location.hash = `#/orders${query({ id: f["order-id"].value.trim(), status: f["order-status"].value, channel: f["order-channel"].value.trim() })}`;
  });
  const out = [el("h1", {}, "Orders"), form];
  if (id) {
    try {
      out.push(await showOrder(id, channel || null));
    } catch (error) {
      out.push(notice(error.status === 404 ? `No order ${id}.` : error.message, { error: true }));
    }
  } else {
    const page = await getJson(`/v1/orders${query({ status, channel, limit: 200 })}`);
    const rows = page.orders.map((o) => [
      el("a", { href: `#/orders${query({ id: o.id, channel: o.channel })}` }, o.id),
      o.channel, el("span", { class: `badge status-${o.status}` }, o.status),
      o.promised_date || "–", o.status_detail || "–",
    ]);
    out.push(el("div", { class: "table-wrap" }, table(["Order", "Channel", "Status", "Promised", "Detail"], rows,
      { testid: "order-list", caption: page.next_cursor ? "First 200 orders" : "Orders" })));
  }
  main.replaceChildren(...out);
}

/** #/stock: stock per site and sku (on hand, reserved, available), and backordered orders. */
export async function renderStock(main, params) {
  const site = params.get("site_id") || "";
  const sku = params.get("sku") || "";
  const form = el("form", { class: "filters", role: "search", "aria-label": "Filter stock" },
    ...input("stock-site", "Site", site), ...input("stock-sku", "SKU", sku),
    el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/stock${query({ site_id: form.elements["stock-site"].value.trim(), sku: form.elements["stock-sku"].value.trim() })}`;
  });
  const [stock, back] = await Promise.all([
    getJson(`/v1/stock${query({ site_id: site, sku })}`),
    getJson(`/v1/orders${query({ status: "backordered", limit: 500 })}`),
  ]);
  const levels = stock.levels.map((l) => [l.site_id, l.sku, String(l.on_hand), String(l.reserved), String(l.safety_stock), String(l.available)]);
  const backordered = back.orders.map((o) => [
    el("a", { href: `#/orders${query({ id: o.id, channel: o.channel })}` }, o.id),
    o.channel, o.promised_date || "–", o.status_detail || "–",
  ]);
  main.replaceChildren(
    el("h1", {}, "Stock"), form,
    el("div", { class: "table-wrap" }, table(["Site", "SKU", "On hand", "Reserved", "Safety stock", "Available"], levels, { testid: "stock", caption: "Stock per site and SKU" })),
    el("h2", {}, `Backordered orders (${back.orders.length}${back.next_cursor ? "+" : ""})`),
    el("div", { class: "table-wrap" }, table(["Order", "Channel", "Promised", "Why"], backordered, { testid: "backordered" })));
}
