// The plan view (#/plans/{id}): KPI cards, the map, the timeline, each route's stops (with
// their live state for a committed plan), what was left out and why, each site's verdict,
// and the allocation with its explanations.

import { getJson, followEvents, query } from "./api.js";
import { colourOf, drawMap, isVisit } from "./map.js";
import { clock, drawTimeline, liveShift } from "./timeline.js";
import { drawProgress } from "./chart.js";
import { el, formatMoney, formatNumber, formatShare, table } from "./dom.js";

/** Events after which a route is read again. */
const LIVE_EVENTS = new Set([
  "stop.arrived", "stop.delivered", "stop.failed", "eta.changed", "route.dispatched",
]);
/** Dispatch stop kinds that are visits, and the states of a visit done with. */
const VISIT_KINDS = new Set(["job", "delivery", "pickup"]);
const DONE = new Set(["delivered", "failed", "skipped"]);
/** Violation codes that make a stop late. */
const LATE_CODES = new Set(["time_window"]);

/** Seconds after midnight of an ISO day start ("2026-11-27T06:00:00" -> 21600). */
function dayOffsetS(dayStart) {
  const match = /T(\d\d):(\d\d)(?::(\d\d(?:\.\d+)?))?/.exec(dayStart || "");
  if (!match) return 0;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3] || 0);
}

/** The plan's routes, each with its site, colour, dispatch route id and verdict's late stops. */
function planRoutes(plan) {
  const refs = new Map((plan.routes || []).map((r) => [`${r.site_id}|${r.vehicle_id}`, r.route_id]));
  const out = [];
  for (const site of plan.sites) {
    const late = new Set();
    for (const v of site.routing.evaluation?.violations || []) {
      if (v.stop_id && LATE_CODES.has(v.code)) late.add(v.stop_id);
    }
    for (const route of site.routing.routes) {
      out.push({
        siteId: site.site_id,
        vehicleId: route.vehicle_id,
        steps: route.steps,
        geometry: route.geometry || null,
        summary: route.summary,
        colour: colourOf(out.length),
        routeId: refs.get(`${site.site_id}|${route.vehicle_id}`) || null,
        record: null,
        windows: new Map(),
        late: new Set(late),
        verdictLate: late,
        reads: 0,
        dayStart: site.routing.day_start || plan.day_start,
      });
    }
  }
  return out;
}

/** Take a dispatch route record into a route: windows, late stops. */
function takeRecord(route, record) {
  route.record = record;
  route.windows = new Map();
  route.late = new Set(route.verdictLate);
  for (const stop of record.stops) {
    if (stop.window_start_s !== null || stop.window_end_s !== null) {
      const from_s = stop.window_start_s ?? stop.planned_start_s;
      const to_s = stop.window_end_s ?? stop.planned_start_s;
      route.windows.set(stop.stop_id, [from_s, to_s]);
    }
    if (stop.at_risk) route.late.add(stop.stop_id);
  }
}

/**
 * A route's load use: the peak on-board load (steps' `load`, after each step) over the van's
 * capacity, the largest share over the dimensions with a capacity; null without capacity
 * (plans stored before summaries carried it) or without visits.
 */
export function loadUse(route) {
  const capacity = route.summary?.capacity || {};
  if (!route.steps.some(isVisit)) return null;
  let best = null;
  for (const [name, cap] of Object.entries(capacity)) {
    if (!(cap > 0)) continue;
    const peak = Math.max(0, ...route.steps.map((s) => s.load?.[name] ?? 0));
    const share = peak / cap;
    if (!best || share > best.share) best = { share, name, peak, capacity: cap };
  }
  return best;
}

/** The average load use over the used vans that report a capacity (null when none does). */
function averageLoadUse(routes) {
  const shares = routes.map(loadUse).filter((u) => u).map((u) => u.share);
  return shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null;
}

function kpiCards(plan, routes) {
  const k = plan.kpis;
  const visits = routes.reduce((n, r) => n + r.steps.filter(isVisit).length, 0);
  const perVan = k.vehicles_used ? visits / k.vehicles_used : 0;
  const cards = [
    ["cost", "Total cost", k.cost, formatMoney(k.cost)],
    ["carrier_cost", "Carrier cost", k.carrier_cost, formatMoney(k.carrier_cost)],
    ["routing_cost", "Routing cost", k.routing_cost, formatMoney(k.routing_cost)],
    ["distance_m", "Distance", k.distance_m, `${formatNumber(k.distance_m / 1000, 1)} km`],
    ["vehicles_used", "Vans used", k.vehicles_used, String(k.vehicles_used)],
    ["stops_per_van", "Stops per van", perVan, formatNumber(perVan, 1)],
    ["on_time_share", "On time", k.on_time_share, formatShare(k.on_time_share)],
    ["shipments", "Shipments", k.shipments, String(k.shipments)],
    ["shipments_by_van", "By van", k.shipments_by_van, String(k.shipments_by_van)],
    ["shipments_by_carrier", "By carrier", k.shipments_by_carrier, String(k.shipments_by_carrier)],
    ["splits", "Split orders", k.splits, String(k.splits)],
    ["orders_complete", "Orders complete", k.orders_complete, `${k.orders_complete} of ${k.orders}`],
  ];
  // load use: each van's peak on-board load over its capacity (route summaries carry it)
  const use = averageLoadUse(routes);
  cards.push(["load_use", "Load use (avg peak)", use ?? "", formatShare(use)]);
  const list = el("ul", { class: "kpis", "aria-label": "Key figures" });
  for (const [name, label, value, text] of cards) {
    list.append(
      el("li", { class: "kpi", "data-testid": "kpi", "data-kpi": name, "data-value": String(value) },
        el("span", { class: "kpi-label" }, label),
        el("span", { class: "kpi-value" }, text)),
    );
  }
  return list;
}

function stopStatus(route, stepId) {
  if (!route.record) return "planned";
  const stop = route.record.stops.find((s) => s.stop_id === stepId);
  return stop ? stop.status : "pending";
}

function stopItem(route, step, n, offsetS) {
  const item = el("li", {
    class: "stop",
    "data-testid": "stop",
    "data-stop-id": step.id,
    "data-status": stopStatus(route, step.id),
  });
  fillStop(item, route, step, n, offsetS);
  return item;
}

function fillStop(item, route, step, n, offsetS) {
  const status = stopStatus(route, step.id);
  const stop = route.record?.stops.find((s) => s.stop_id === step.id);
  item.dataset.status = status;
  item.classList.toggle("late", route.late.has(step.id));
  const parts = [
    el("span", { class: "stop-number", style: `background:${route.colour}` }, String(n)),
    el("span", { class: "stop-id" }, step.id),
    el("span", { class: "stop-time" }, `planned ${clock(step.service_start_s, offsetS)}`),
  ];
  if (stop) {
    parts.push(el("span", { class: "stop-eta", "data-testid": "eta" }, `ETA ${clock(stop.eta_start_s, offsetS)}`));
    const shift = liveShift(stop);
    if (shift) parts.push(shiftBadge(shift));
  }
  if (route.late.has(step.id)) parts.push(el("span", { class: "badge status-late" }, "late"));
  parts.push(el("span", { class: `badge status-${status}` }, status));
  item.replaceChildren(...parts);
}

/** The live ETA's shift against the plan, in words and colour ("+12 min late"). */
function shiftBadge(shift) {
  const words = { late: "late", early: "early", "on-plan": "on plan" }[shift.direction];
  const text = shift.direction === "on-plan" ? "on plan" : `${shift.text} ${words}`;
  return el("span", {
    class: `stop-shift shift-${shift.direction}`,
    "data-testid": "eta-shift",
    "data-shift-s": String(Math.round(shift.shiftS)),
    "data-direction": shift.direction,
    title: shift.pastWindow ? "the live ETA is past the stop's window" : "live ETA against the plan",
  }, text, shift.pastWindow ? " · past window" : "");
}

/** A route's load use in words, for its facts line. */
function loadUseText(route) {
  const use = loadUse(route);
  const attrs = { "data-testid": "load-use", "data-value": use ? String(use.share) : "" };
  if (!use) return el("span", attrs, "load use –");
  attrs.title = `peak ${formatNumber(use.peak, 1)} of ${formatNumber(use.capacity, 1)} ${use.name}`;
  return el("span", attrs, `load use ${formatShare(use.share)}`);
}

/** Counts of the live dispatch, over the visits of the dispatched routes. */
export function liveCounts(routes) {
  const counts = { done: 0, current: 0, remaining: 0, atRisk: 0, late: 0 };
  for (const route of routes) {
    for (const stop of route.record?.stops || []) {
      const shift = liveShift(stop);
      if (!shift) {
        if (VISIT_KINDS.has(stop.kind) && DONE.has(stop.status)) counts.done += 1;
        continue;
      }
      if (stop.status === "arrived") counts.current += 1;
      else counts.remaining += 1;
      if (shift.pastWindow) counts.atRisk += 1;
      if (shift.direction === "late") counts.late += 1;
    }
  }
  return counts;
}

/** Fill the live summary: done, at a stop, to go, late against plan, at risk. */
function fillLiveSummary(box, routes) {
  const c = liveCounts(routes);
  box.dataset.atRisk = String(c.atRisk);
  box.dataset.late = String(c.late);
  box.replaceChildren(
    `${c.done} done · ${c.current} at a stop · ${c.remaining} to go · ${c.late} later than planned · `,
    el("strong", { class: c.atRisk ? "at-risk" : null, "data-testid": "at-risk" },
      `${c.atRisk} at risk`),
    " (live ETA past the window's end)");
}

function routeSection(route, offsetS) {
  const s = route.summary;
  const visits = route.steps.filter(isVisit);
  const title = el("h3", {},
    el("span", { class: "swatch", style: `background:${route.colour}`, "aria-hidden": "true" }),
    `${route.vehicleId} `, el("span", { class: "muted" }, `from ${route.siteId}`));
  const facts = el("p", { class: "route-facts" },
    `${visits.length} stops · ${formatNumber(s.distance_m / 1000, 1)} km · ` +
    `${clock(s.start_s, offsetS)}–${clock(s.end_s, offsetS)} · cost ${formatMoney(s.cost)} · `,
    loadUseText(route),
    route.record ? ` · ${route.record.status}` : "");
  const list = el("ol", { class: "stops" });
  visits.forEach((step, k) => list.append(stopItem(route, step, k + 1, offsetS)));
  return el("section", {
    class: "route", "data-testid": "route", "data-vehicle-id": route.vehicleId,
    "aria-label": `Route of ${route.vehicleId}`,
  }, title, facts, list);
}

function unassignedSection(plan) {
  const list = el("ul", { class: "unassigned", "data-testid": "unassigned" });
  for (const item of plan.unassigned) {
    list.append(el("li", { "data-testid": "unassigned-item", "data-order-id": item.order_id },
      el("strong", {}, item.order_id),
      item.line_id ? ` line ${item.line_id}` : "",
      item.site_id ? ` at ${item.site_id}` : "",
      ` (${item.stage}): `,
      el("code", { "data-testid": "reason" }, item.reason),
      " — ", item.message));
  }
  if (!plan.unassigned.length) list.append(el("li", { class: "muted" }, "Nothing left out."));
  return el("section", { "aria-labelledby": "h-unassigned" },
    el("h2", { id: "h-unassigned" }, `Unassigned (${plan.unassigned.length})`), list);
}

function verdictSection(plan) {
  const rows = plan.sites.map((site) => {
    const ev = site.routing.evaluation;
    const verdict = !ev ? "not evaluated" : ev.feasible ? "feasible" : "infeasible";
    const problems = (ev?.violations || []).map((v) => `${v.code}: ${v.message}`).join("; ");
    return [site.site_id, site.routing.stats.status, verdict, problems || "none"];
  });
  return el("section", { "aria-labelledby": "h-verdicts" },
    el("h2", { id: "h-verdicts" }, "Routing verdict per site"),
    table(["Site", "Search", "Verdict", "Violations"], rows, { testid: "verdicts" }));
}

function allocationSection(plan) {
  const a = plan.allocation;
  const bySite = a.site_loads.map((l) => [l.site_id, l.orders, l.units]);
  const carrier = plan.shipments.filter((s) => s.mode === "carrier")
    .map((s) => [s.order_id, s.site_id, formatNumber(s.distance_km, 1), s.expected_date, s.on_time ? "yes" : "no"]);
  const counts = new Map();
  for (const s of a.shipments) counts.set(s.order_id, (counts.get(s.order_id) || 0) + 1);
  const splits = [...counts].filter(([, n]) => n > 1).map(([order, n]) => [order, n]);
  const explanations = a.explanations.map((e) => [
    e.order_id, e.status, (e.site_ids || []).join(", ") || "–", formatMoney(e.cost_total),
    e.next_best ? `${e.next_best.note} (+${formatMoney(e.next_best.extra_cost)})` : "–",
  ]);
  return el("section", { "aria-labelledby": "h-allocation", "data-testid": "allocation" },
    el("h2", { id: "h-allocation" }, "Allocation"),
    el("h3", {}, "Shipments per site"), table(["Site", "Orders", "Units"], bySite),
    el("h3", {}, `Split orders (${splits.length})`), table(["Order", "Shipments"], splits),
    el("h3", {}, `Carrier shipments (${carrier.length})`),
    table(["Order", "Site", "Distance (km)", "Expected", "On time"], carrier),
    el("details", {},
      el("summary", {}, `Explanations (${explanations.length})`),
      table(["Order", "Status", "Sites", "Cost", "Next best"], explanations, { testid: "explanations" })));
}

async function fetchRecords(routes) {
  await Promise.all(routes.filter((r) => r.routeId).map(async (route) => {
    try {
      takeRecord(route, await getJson(`/v1/routes/${encodeURIComponent(route.routeId)}`));
    } catch (_error) {
      route.record = null; // shown as planned; the live feed may bring it later
    }
  }));
}

/** Unassigned orders' places, from the book (plans made from it know their orders). */
async function unassignedPlaces(plan) {
  const refs = new Map((plan.book_orders || []).map((r) => [r.plan_order_id, r]));
  const wanted = [...new Set(plan.unassigned.map((u) => u.order_id))].slice(0, 200);
  const out = [];
  await Promise.all(wanted.map(async (id) => {
    const ref = refs.get(id);
    if (!ref) return;
    try {
      const order = await getJson(`/v1/orders/${encodeURIComponent(ref.order_id)}${query({ channel: ref.channel })}`);
      const reason = plan.unassigned.find((u) => u.order_id === id).reason;
      out.push({ orderId: id, location: order.location, reason });
    } catch (_error) {
      /* listed only */
    }
  }));
  return out;
}

/** The book's sites that the plan uses (a plan made from the book: its sites are there). */
async function planSites(plan) {
  if (plan.source === "request") return [];
  const ids = new Set(plan.allocation.site_loads.map((l) => l.site_id));
  plan.sites.forEach((s) => ids.add(s.site_id));
  const sites = await getJson("/v1/sites");
  return sites.filter((s) => ids.has(s.id) && s.location).map((s) => ({ id: s.id, location: s.location }));
}

/** Render the plan `planId` into `main`; `onLeave(fn)` registers what to stop on leaving. */
export async function renderPlan(main, planId, onLeave) {
  const plan = await getJson(`/v1/plans/${encodeURIComponent(planId)}`);
  const routes = planRoutes(plan);
  if (plan.status !== "draft") await fetchRecords(routes);
  const offsetS = dayOffsetS(plan.day_start || routes[0]?.dayStart);
  const mapBox = el("div", { class: "map", "data-testid": "map", role: "region", "aria-label": "Map of the routes" });
  const timeline = el("div", {
    class: "timeline", "data-testid": "timeline", role: "region", "aria-label": "Timeline of the vans", tabindex: "0",
  });
  const chartBox = el("div", { class: "chart", role: "img", "aria-label": "Visits done over the day, planned and reported" });
  const live = el("p", { class: "live muted", "data-testid": "live" }, plan.status === "committed" ? "Live: connecting…" : "");
  const liveSummary = el("p", { class: "live-summary", "data-testid": "live-summary", role: "status" });
  if (routes.some((r) => r.record)) fillLiveSummary(liveSummary, routes);
  const view = el("article", { class: "plan-view", "data-testid": "plan-view", "data-plan-id": plan.id },
    el("h1", {}, `Plan ${plan.plan_date || ""} `, el("span", { class: `badge status-${plan.status}` }, plan.status)),
    el("p", { class: "muted" }, `${plan.id} · from ${plan.source} · made ${new Date(plan.created_at).toLocaleString()}`),
    live,
    liveSummary,
    kpiCards(plan, routes),
    el("section", { "aria-labelledby": "h-map" }, el("h2", { id: "h-map" }, "Map"), mapBox),
    el("section", { "aria-labelledby": "h-timeline" }, el("h2", { id: "h-timeline" }, "Timeline"), timeline),
    el("section", { "aria-labelledby": "h-progress" }, el("h2", { id: "h-progress" }, "Visits over the day"),
      el("figure", {}, chartBox,
        el("figcaption", { class: "muted" }, "Solid blue: visits done as planned; dashed green: as the drivers reported."))),
    el("section", { "aria-labelledby": "h-routes" }, el("h2", { id: "h-routes" }, `Routes (${routes.length})`),
      el("div", { class: "routes" }, ...routes.map((r) => routeSection(r, offsetS)))),
    unassignedSection(plan),
    verdictSection(plan),
    allocationSection(plan));
  view.dataset.offsetS = String(offsetS);
  main.replaceChildren(view);
  const drawn = drawMap(mapBox, { routes, sites: [], unassigned: [] });
  drawTimeline(timeline, routes, offsetS);
  view.dataset.ready = "true";
  window.__routeplanReadyMs = performance.now();
  for (const route of routes) if (route.record) drawn.setVan(route.vehicleId, route.record.position, route.colour);
  unassignedPlaces(plan).then(drawn.addUnassigned).catch(() => {});
  planSites(plan).then(drawn.addSites).catch(() => {});
  const chart = () => {
    try {
      drawProgress(chartBox, routes, offsetS);
    } catch (_error) {
      chartBox.replaceChildren(); // the chart is a help, not the view
    }
  };
  chart();
  if (plan.status === "committed" && routes.some((r) => r.routeId)) {
    startLive(view, routes, drawn, () => {
      drawTimeline(timeline, routes, offsetS);
      fillLiveSummary(liveSummary, routes);
      chart();
    }, live, onLeave);
  }
}

function updateRoute(view, route, drawn, offsetS) {
  const section = view.querySelector(`[data-testid="route"][data-vehicle-id="${CSS.escape(route.vehicleId)}"]`);
  if (!section) return;
  const visits = route.steps.filter(isVisit);
  visits.forEach((step, k) => {
    const item = section.querySelector(`[data-testid="stop"][data-stop-id="${CSS.escape(step.id)}"]`);
    if (item) fillStop(item, route, step, k + 1, offsetS);
  });
  drawn.setVan(route.vehicleId, route.record?.position, route.colour);
}

function startLive(view, routes, drawn, redrawAll, live, onLeave) {
  const offsetS = Number(view.dataset.offsetS || 0);
  const byId = new Map(routes.filter((r) => r.routeId).map((r) => [r.routeId, r]));
  let redraw = null;
  const refresh = async (targets) => {
    for (const route of targets) {
      const read = ++route.reads; // answers may come back out of order: the newest read wins
      try {
        const record = await getJson(`/v1/routes/${encodeURIComponent(route.routeId)}`);
        if (read !== route.reads) continue;
        takeRecord(route, record);
        updateRoute(view, route, drawn, offsetS);
      } catch (_error) {
        /* try again on the next event */
      }
    }
    clearTimeout(redraw);
    redraw = setTimeout(redrawAll, 300);
  };
  const feed = followEvents(
    (event) => {
      if (!LIVE_EVENTS.has(event.type)) return;
      const route = byId.get(event.data?.route_id);
      if (route) refresh([route]);
    },
    (state) => {
      view.dataset.live = state;
      live.textContent = state === "stream" ? "Live: following events."
        : state === "polling" ? "Live: polling every 2 s." : "";
      if (state !== "stopped") refresh([...byId.values()]); // what happened while connecting
    },
  );
  onLeave(() => feed.stop());
}
