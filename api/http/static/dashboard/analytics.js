// The analytics page (#/analytics): orders per day per site and channel, the committed
// plans' cost and on-time share, planned against actual for the routes driven, and the
// demand forecast per site with its backtest, all read from /v1/analytics/*. Every chart
// (uPlot, canvas) has a PNG download and a text summary; every table a CSV download (the
// API's CSV variant, fetched with the session's API key).

/* global uPlot */

import { ApiError, apiKey, getJson, query } from "./api.js";
import { el, formatMoney, formatNumber, formatShare, notice, table } from "./dom.js";

const COLOURS = ["#1f4e9c", "#b35900", "#1b6e3a", "#7b2d8e", "#9b1c1c", "#00646e", "#4a4a4a"];
const DAY_S = 86400;
const ORDER_DAYS = 28;
const HISTORY_SHOWN = 21;
// tick steps: whole orders, and clock times on quarter hours and hours
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
const CLOCK_STEPS = [300, 600, 900, 1800, 3600, 7200, 10800, 21600];
// and whole days on a time axis
const DAY_STEPS = [1, 2, 7, 14, 28, 56, 91, 182, 364].map((n) => n * DAY_S);

// ---- small helpers -------------------------------------------------------------------

/** A UTC day (YYYY-MM-DD) as unix seconds at its midnight. */
function daySeconds(iso) {
  return Date.parse(`${iso}T00:00:00Z`) / 1000;
}

/** Unix seconds as a UTC day (YYYY-MM-DD). */
function isoDay(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** Unix seconds as a short UTC day, e.g. "28 Nov". */
function shortDay(seconds) {
  return new Date(seconds * 1000).toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
}

/** A time axis' range: the days of `xs`, or a week around a single one. */
function dayRange(xs) {
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  const range = min === max ? [min - 3 * DAY_S, max + 3 * DAY_S] : [min, max];
  return () => range;
}

function today() {
  return new Date().toISOString().slice(0, 10);
}

/** Minutes (one decimal) of a number of seconds. */
function minutes(seconds) {
  return seconds === null || seconds === undefined ? "–" : formatNumber(seconds / 60, 1);
}

/** A figure and its unit, or "–" alone when it is missing. */
function withUnit(text, unit) {
  return text === "–" ? text : `${text} ${unit}`;
}

/** `n` and a noun, plural unless n is 1. */
function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Seconds from a day start as a clock time HH:MM. */
function clock(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const total = Math.round(seconds / 60);
  const h = Math.floor(total / 60);
  const m = ((total % 60) + 60) % 60;
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
}

function slug(text) {
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/** Offer `blob` as a download called `name`. */
function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A link to an API CSV table; clicking fetches it with the API key and saves it. */
function csvLink(path, label, name, testid) {
  const link = el("a", { href: path, download: name, class: "csv-link", "data-testid": testid },
    `Download CSV: ${label}`);
  link.addEventListener("click", async (event) => {
    event.preventDefault();
    const headers = { Accept: "text/csv" };
    const key = apiKey();
    if (key) headers.Authorization = `Bearer ${key}`;
    try {
      const response = await fetch(path, { headers });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      save(await response.blob(), name);
    } catch (error) {
      link.after(notice(`The CSV could not be downloaded: ${error.message}`, { error: true }));
    }
  });
  return link;
}

/** A <details> holding a table, its CSV links after it (shown while it is closed). */
function tableBox(summary, tableNode, ...links) {
  return el("div", { class: "analytics-table" },
    el("details", {}, el("summary", {}, summary), el("div", { class: "table-wrap" }, tableNode)),
    links.length ? el("p", { class: "csv-links" }, ...links) : null);
}

// ---- charts --------------------------------------------------------------------------

/** The options given (uPlot takes an undefined option for a value, not for its default). */
function defined(options) {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/** Draw a chart's canvas with a white background, its title and legend into a PNG. */
function exportPng(plot, title, series, name) {
  const source = plot.ctx.canvas;
  const ratio = source.width / plot.width || 1;
  const pad = 12 * ratio;
  const titleH = 26 * ratio;
  const legendH = 22 * ratio;
  const out = document.createElement("canvas");
  out.width = source.width + 2 * pad;
  out.height = source.height + titleH + legendH + 2 * pad;
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = "#1a1a1a";
  ctx.textBaseline = "middle";
  ctx.font = `600 ${16 * ratio}px system-ui, sans-serif`;
  ctx.fillText(title, pad, pad + titleH / 2);
  ctx.font = `${12 * ratio}px system-ui, sans-serif`;
  let x = pad;
  for (const s of series.filter((s) => !s.hideInLegend)) {
    ctx.fillStyle = s.stroke;
    ctx.fillRect(x, pad + titleH + legendH / 2 - 5 * ratio, 10 * ratio, 10 * ratio);
    ctx.fillStyle = "#1a1a1a";
    ctx.fillText(s.label, x + 14 * ratio, pad + titleH + legendH / 2);
    x += 14 * ratio + ctx.measureText(s.label).width + 16 * ratio;
  }
  ctx.drawImage(source, pad, pad + titleH + legendH);
  out.toBlob((blob) => save(blob, name), "image/png");
}

/**
 * A figure: a title, a legend, the chart (uPlot, drawn by `later` once in the page) and
 * a text summary as its caption. spec: {id, title, summary, x (numbers), series: [{label,
 * stroke, values, dash, hideInLegend}], bands, time, yLabel, yValues, xValues, yRange}.
 * With no x values, the figure says `empty` instead of drawing.
 */
function figure(spec, later) {
  const heading = el("h3", { id: `h-${spec.id}` }, spec.title);
  const box = el("div", { class: "chart", role: "img", "aria-label": `${spec.title}: ${spec.summary}` });
  const node = el("figure", { class: "analytics-chart", "data-testid": `chart-${spec.id}`,
    "aria-labelledby": `h-${spec.id}` });
  if (!spec.x.length) {
    node.append(heading, notice(spec.empty, {}));
    node.lastChild.setAttribute("data-testid", `empty-${spec.id}`);
    return node;
  }
  const button = el("button", { type: "button", class: "png-button", "data-testid": `png-${spec.id}` },
    "Download PNG");
  button.setAttribute("aria-label", `Download PNG: ${spec.title}`);
  const legend = el("ul", { class: "legend" }, ...spec.series.filter((s) => !s.hideInLegend).map((s) =>
    el("li", {}, el("span", { class: "swatch", style: `background:${s.stroke}` }), s.label)));
  node.append(el("div", { class: "chart-head" }, heading, button), legend, box,
    el("figcaption", { class: "muted" }, spec.summary));
  later.push(() => {
    if (typeof uPlot === "undefined") return;
    const width = Math.max(320, box.clientWidth || 600);
    const options = {
      width,
      height: spec.height || 240,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: spec.time === false ? { time: false } : { time: true, range: dayRange(spec.x) },
        y: spec.yRange ? { range: spec.yRange } : {},
      },
      axes: [
        spec.time === false
          ? defined({ stroke: "#1a1a1a", grid: { stroke: "#e3e7eb" }, values: spec.xValues, incrs: COUNT_STEPS })
          : { stroke: "#1a1a1a", grid: { stroke: "#e3e7eb" }, incrs: DAY_STEPS,
            values: (_u, ticks) => ticks.map(shortDay) },
        defined({ stroke: "#1a1a1a", grid: { stroke: "#e3e7eb" }, label: spec.yLabel, values: spec.yValues,
          size: 60, incrs: spec.yLabel === "orders" ? COUNT_STEPS : spec.yIncrs }),
      ],
      series: [{}, ...spec.series.map((s) => defined({
        label: s.label, stroke: s.stroke, width: s.width ?? 2, dash: s.dash,
        points: { show: s.points ?? true, size: 6 }, spanGaps: false,
      }))],
    };
    if (spec.bands) options.bands = spec.bands;
    if (spec.time !== false) options.tzDate = (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");
    const plot = new uPlot(options, [spec.x, ...spec.series.map((s) => s.values)], box);
    button.addEventListener("click", () => exportPng(plot, spec.title, spec.series, `${spec.id}.png`));
  });
  return node;
}

/** The values of `rows` (with `date` and a count) summed per day of `dates` and key. */
function perDayBy(rows, dates, key) {
  const keys = [...new Set(rows.map((r) => r[key]))].sort();
  const index = new Map(dates.map((d, k) => [d, k]));
  const out = new Map(keys.map((k) => [k, dates.map(() => 0)]));
  for (const row of rows) out.get(row[key])[index.get(row.date)] += row.orders;
  return out;
}

function lineSeries(map) {
  return [...map.entries()].map(([label, values], k) => ({
    label, values, stroke: COLOURS[k % COLOURS.length],
  }));
}

// ---- sections ------------------------------------------------------------------------

function section(id, title, ...children) {
  return el("section", { class: "analytics-section", "aria-labelledby": `h-${id}`, "data-testid": `section-${id}` },
    el("h2", { id: `h-${id}` }, title), ...children);
}

function ordersSection(report, csvQuery, later) {
  const dates = report.per_day.map((d) => d.date);
  const x = dates.map(daySeconds);
  const bySite = perDayBy(report.rows, dates, "site_id");
  const byChannel = perDayBy(report.rows, dates, "channel");
  const range = `${report.from_date} to ${report.to_date}`;
  const busiest = report.per_day.reduce((a, b) => (b.orders > a.orders ? b : a), report.per_day[0]);
  const none = report.total === 0;
  const empty = `No orders were placed from ${range}.`;
  const totals = (map) => [...map.entries()].map(([k, v]) => `${k} ${v.reduce((a, b) => a + b, 0)}`).join(", ");
  const site = figure({
    id: "orders-site", title: "Orders per day by site", x: none ? [] : x, empty, yLabel: "orders",
    series: lineSeries(bySite),
    summary: none ? empty : `${report.total} orders from ${range}; by site: ${totals(bySite)}. ` +
      `Busiest day ${busiest.date} with ${busiest.orders}.`,
  }, later);
  const channel = figure({
    id: "orders-channel", title: "Orders per day by channel", x: none ? [] : x, empty, yLabel: "orders",
    series: lineSeries(byChannel),
    summary: none ? empty : `${report.total} orders from ${range}; by channel: ${totals(byChannel)}.`,
  }, later);
  const sites = [...bySite.keys()];
  const channels = [...byChannel.keys()];
  const rows = report.per_day.map((d, k) => [d.date, String(d.orders),
    ...sites.map((s) => String(bySite.get(s)[k])), ...channels.map((c) => String(byChannel.get(c)[k]))]);
  rows.push([el("strong", {}, "Total"), el("strong", {}, String(report.total)),
    ...sites.map((s) => String(bySite.get(s).reduce((a, b) => a + b, 0))),
    ...channels.map((c) => String(byChannel.get(c).reduce((a, b) => a + b, 0)))]);
  const tab = table(["Date", "All orders", ...sites.map((s) => `Site ${s}`), ...channels.map((c) => `Channel ${c}`)],
    rows, { testid: "table-orders", caption: `Orders per day, ${range}` });
  const base = `/v1/analytics/orders${csvQuery}`;
  return section("orders", "Orders",
    el("p", { "data-testid": "orders-total" }, `${report.total} orders placed from ${range}.`),
    el("div", { class: "chart-grid" }, site, channel),
    tableBox("Table: orders per day", tab,
      csvLink(`${base}&table=per_day`, "orders per day", "orders-per-day.csv", "csv-orders-per-day"),
      csvLink(`${base}&table=rows`, "per day, site and channel", "orders.csv", "csv-orders")));
}

/** Committed plans per plan day: cost per order, routing cost per stop, on-time share. */
function planDays(plans) {
  const days = new Map();
  for (const p of plans) {
    if (p.status !== "committed") continue;
    const day = p.plan_date || (p.committed_at || "").slice(0, 10);
    const d = days.get(day) || { cost: 0, orders: 0, routing: 0, stops: 0, onTime: 0 };
    d.cost += p.cost;
    d.orders += p.orders;
    d.routing += p.routing_cost;
    d.stops += p.van_stops;
    d.onTime += p.on_time_share * p.orders;
    days.set(day, d);
  }
  return [...days.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
}

function plansSection(report, csvQuery, later) {
  const days = planDays(report.plans);
  const x = days.map(([day]) => daySeconds(day));
  const ratio = (a, b) => (b > 0 ? a / b : null);
  const perOrder = days.map(([, d]) => ratio(d.cost, d.orders));
  const perStop = days.map(([, d]) => ratio(d.routing, d.stops));
  const onTime = days.map(([, d]) => (d.orders > 0 ? (100 * d.onTime) / d.orders : null));
  const empty = "No committed plans in this range.";
  const cost = figure({
    id: "plan-cost", title: "Cost per order and per van stop", x, empty, yLabel: "cost",
    yValues: (_u, ticks) => ticks.map((v) => formatMoney(v)),
    series: [
      { label: "cost per order", values: perOrder, stroke: COLOURS[0] },
      { label: "routing cost per van stop", values: perStop, stroke: COLOURS[1], dash: [6, 4] },
    ],
    summary: `${plural(days.length, "plan day")}; committed cost per order over the range ` +
      `${formatMoney(report.cost_per_order)} (${report.committed_orders} orders, cost ` +
      `${formatMoney(report.committed_cost)}).`,
  }, later);
  const share = figure({
    id: "plan-on-time", title: "On-time share as planned", x, empty, yLabel: "% on time", yRange: [0, 100],
    series: [{ label: "on-time share (%)", values: onTime, stroke: COLOURS[2] }],
    summary: days.length ? `On-time share per plan day: ${days.map(([day], k) =>
      `${day} ${formatNumber(onTime[k], 1)} %`).join(", ")}.` : empty,
  }, later);
  const rows = report.plans.map((p) => [
    el("a", { href: `#/plans/${encodeURIComponent(p.plan_id)}` }, `${p.plan_date || "undated"} · ${p.plan_id.slice(0, 8)}`),
    p.status, String(p.orders), formatMoney(p.cost), formatMoney(p.cost_per_order),
    String(p.van_stops), formatMoney(p.routing_cost_per_stop), formatShare(p.on_time_share),
    String(p.vehicles_used), formatNumber(p.distance_m / 1000, 1),
  ]);
  const tab = table(["Plan", "Status", "Orders", "Cost", "Cost per order", "Van stops",
    "Routing cost per stop", "On time", "Vans", "Distance (km)"], rows,
  { testid: "table-plans", caption: "Committed and superseded plans, oldest first" });
  return section("plans", "Plans: cost and service",
    el("div", { class: "chart-grid" }, cost, share),
    tableBox("Table: plans", tab,
      csvLink(`/v1/analytics/plans${csvQuery}`, "plans", "plans.csv", "csv-plans")));
}

function routesSection(report, csvQuery, later) {
  const o = report.overall;
  const stops = report.stops;
  const vans = new Map(report.routes.map((r) => [r.route_id, r.vehicle_id]));
  const facts = [
    ["Routes driven", String(report.routes.length)], ["Stops done", String(o.stops_done)],
    ["Mean lateness", withUnit(minutes(o.mean_lateness_s), "min")],
    ["90th percentile", withUnit(minutes(o.p90_lateness_s), "min")],
    ["On time (windows)", formatShare(o.on_time_share)],
  ];
  const kpis = el("ul", { class: "kpis", "data-testid": "routes-overall" }, ...facts.map(([label, value]) =>
    el("li", { class: "kpi" }, el("span", { class: "kpi-label" }, label), el("span", { class: "kpi-value" }, value))));
  const empty = "No dispatched or completed routes with stops done in this range.";
  const chart = figure({
    id: "routes-lateness", title: "Planned against actual time per stop", x: stops.map((_s, k) => k + 1), empty,
    time: false, yLabel: "time of day", yValues: (_u, ticks) => ticks.map(clock), yIncrs: CLOCK_STEPS,
    xValues: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? `#${t}` : "")),
    series: [
      { label: "planned start", values: stops.map((s) => s.planned_start_s), stroke: COLOURS[0] },
      { label: "actual (delivered or failed)", values: stops.map((s) => s.actual_s), stroke: COLOURS[1], dash: [6, 4] },
    ],
    summary: stops.length ? `${plural(o.stops_done, "stop")} done on ${plural(report.routes.length, "route")}: mean lateness ` +
      `${minutes(o.mean_lateness_s)} min (negative: early), 90th percentile ${minutes(o.p90_lateness_s)} min, ` +
      `${formatShare(o.on_time_share)} within the delivery window.` : empty,
  }, later);
  const routeRows = report.routes.map((r) => [r.day, r.site_id, r.vehicle_id, r.status, String(r.stops_planned),
    String(r.stops_done), minutes(r.mean_lateness_s), minutes(r.p90_lateness_s), formatShare(r.on_time_share)]);
  const routeTable = table(["Day", "Site", "Van", "Status", "Stops planned", "Stops done",
    "Mean lateness (min)", "P90 lateness (min)", "On time"], routeRows,
  { testid: "table-routes", caption: "Routes driven: lateness is actual minus planned start" });
  const stopRows = stops.map((s, k) => [`#${k + 1}`, vans.get(s.route_id) || s.vehicle_id, String(s.position), s.stop_id,
    s.status, s.window_start_s === null ? "–" : `${clock(s.window_start_s)}–${clock(s.window_end_s)}`,
    clock(s.planned_start_s), clock(s.actual_s), minutes(s.lateness_s),
    s.on_time === null ? "–" : s.on_time ? "yes" : "no"]);
  const stopTable = table(["#", "Van", "Position", "Stop", "Status", "Window", "Planned start", "Actual",
    "Lateness (min)", "On time"], stopRows, { testid: "table-stops", caption: "Stops done, in chart order" });
  const base = `/v1/analytics/routes${csvQuery}`;
  return section("routes", "Planned against actual",
    kpis, chart,
    tableBox("Table: routes", routeTable,
      csvLink(`${base}&table=routes`, "routes", "routes.csv", "csv-routes")),
    tableBox("Table: stops done", stopTable,
      csvLink(`${base}&table=stops`, "stops", "route-stops.csv", "csv-stops")));
}

function seriesName(s) {
  return s.site_id === null ? "All sites" : `Site ${s.site_id}`;
}

function forecastFigure(s, report, later) {
  const history = s.history.slice(-HISTORY_SHOWN);
  const dates = [...history.map((d) => d.date), ...s.forecast.map((d) => d.date)];
  const pad = (values) => [...history.map(() => null), ...values];
  const lastHistory = history.length ? history[history.length - 1].orders : null;
  // the forecast line starts at the last day of history so the two join
  const joined = (values) => [...history.map((_d, k) => (k === history.length - 1 ? lastHistory : null)), ...values];
  const level = Math.round(report.interval_level * 100);
  const name = seriesName(s);
  const next = s.forecast.reduce((a, d) => a + d.orders, 0);
  return figure({
    id: `forecast-${slug(s.site_id ?? "all")}`, title: `Forecast: ${name}`, x: dates.map(daySeconds),
    empty: "No history.", yLabel: "orders",
    series: [
      { label: "orders placed", values: [...history.map((d) => d.orders), ...s.forecast.map(() => null)], stroke: COLOURS[0] },
      { label: "forecast", values: joined(s.forecast.map((d) => d.orders)), stroke: COLOURS[1], dash: [6, 4] },
      { label: `${level} % interval`, values: pad(s.forecast.map((d) => d.upper)), stroke: "#c58a4d", width: 1, points: false },
      { label: "lower", values: pad(s.forecast.map((d) => d.lower)), stroke: "#c58a4d", width: 1, points: false, hideInLegend: true },
    ],
    bands: [{ series: [3, 4], fill: "rgba(179, 89, 0, 0.15)" }],
    summary: `${formatNumber(next, 1)} orders forecast over the next ${s.forecast.length} days ` +
      `(${s.model}${s.fallback_reason ? `, because ${s.fallback_reason}` : ""}), with its ${level} % ` +
      "prediction interval; " +
      `the last ${history.length} days of history before it.`,
  }, later);
}

function backtestFigure(s, later) {
  const days = s.backtest.origins.flatMap((o) => o.days).sort((a, b) => (a.date < b.date ? -1 : 1));
  const b = s.backtest;
  return figure({
    id: `backtest-${slug(s.site_id ?? "all")}`, title: `Backtest: ${seriesName(s)}`, x: days.map((d) => daySeconds(d.date)),
    empty: "Too little history for a backtest (each cut-off needs two weeks before it).", yLabel: "orders",
    series: [
      { label: "actual", values: days.map((d) => d.actual), stroke: COLOURS[0] },
      { label: "forecast then", values: days.map((d) => d.forecast), stroke: COLOURS[1], dash: [6, 4] },
      { label: "seasonal naive", values: days.map((d) => d.baseline), stroke: COLOURS[6], dash: [2, 3] },
    ],
    summary: `${b.origins.length} past cut-offs: forecast MAE ${formatNumber(b.mae, 2)}, sMAPE ` +
      `${formatShare(b.smape)}; the seasonal naive's MAE ${formatNumber(b.baseline_mae, 2)}, sMAPE ` +
      `${formatShare(b.baseline_smape)}.`,
  }, later);
}

function forecastTables(series, report, csvQuery) {
  const dates = series.length ? series[0].forecast.map((d) => d.date) : [];
  const level = Math.round(report.interval_level * 100);
  const rows = dates.map((date, k) => [date, ...series.flatMap((s) => {
    const d = s.forecast[k];
    return [formatNumber(d.orders, 1), `${formatNumber(d.lower, 1)}–${formatNumber(d.upper, 1)}`];
  })]);
  const fTable = table(["Date", ...series.flatMap((s) => [seriesName(s), `${seriesName(s)}: ${level} % interval`])],
    rows, { testid: "table-forecast", caption: `Orders forecast per day, ${level} % prediction interval` });
  const score = (v) => formatNumber(v, 2);
  const bRows = series.flatMap((s) => [
    [el("strong", {}, seriesName(s)), "all cut-offs", s.model, score(s.backtest.mae), formatShare(s.backtest.smape),
      score(s.backtest.baseline_mae), formatShare(s.backtest.baseline_smape)],
    ...s.backtest.origins.map((o) => [seriesName(s), o.cutoff, o.model, score(o.mae), formatShare(o.smape),
      score(o.baseline_mae), formatShare(o.baseline_smape)]),
  ]);
  const bTable = table(["Series", "Cut-off", "Model", "MAE", "sMAPE", "Naive MAE", "Naive sMAPE"], bRows,
    { testid: "table-backtest", caption: "Backtest: errors of past forecasts against what happened" });
  const base = `/v1/analytics/forecast${csvQuery}`;
  return [
    tableBox("Table: forecast", fTable,
      csvLink(`${base}&table=forecast`, "forecast", "forecast.csv", "csv-forecast"),
      csvLink(`${base}&table=history`, "history", "forecast-history.csv", "csv-history")),
    tableBox("Table: backtest", bTable,
      csvLink(`${base}&table=backtest`, "backtest days", "backtest.csv", "csv-backtest")),
  ];
}

function forecastSection(report, csvQuery, later) {
  const series = [...(report.total ? [report.total] : []), ...report.sites];
  const intro = el("p", {}, `From the orders of ${report.history_from} to ${report.history_to}: the next ` +
    `${report.horizon_days} days per site, with their ${Math.round(report.interval_level * 100)} % ` +
    "prediction interval. The backtest cuts the history at past weeks and compares each forecast with what then " +
    "happened, beside the seasonal naive (the same weekday a week before); MAE in orders per day.");
  return section("forecast", "Demand forecast", intro,
    el("div", { class: "chart-grid" }, ...series.map((s) => forecastFigure(s, report, later))),
    el("h3", {}, "How past forecasts did"),
    el("div", { class: "chart-grid" }, ...series.map((s) => backtestFigure(s, later))),
    ...forecastTables(series, report, csvQuery));
}

function failed(id, title, error) {
  const first = error instanceof ApiError ? error.body?.details?.[0] : null;
  let text = `Could not load: ${error.message}`;
  if (first && first.field === "history") text = `Not enough data yet: ${first.message}.`;
  else if (first) text = `The filter was refused: ${first.field} ${first.value} ${first.message}.`;
  const box = notice(text, { error: !(first && first.field === "history") });
  box.setAttribute("data-testid", `empty-${id}`);
  return section(id, title, box);
}

// ---- the page ------------------------------------------------------------------------

function filterForm(filters, sites, channels) {
  const field = (id, label, control) => el("span", { class: "field" }, el("label", { for: id }, label), control);
  const choice = (id, values, current) => {
    const box = el("select", { id, name: id });
    for (const [value, label] of values) box.append(el("option", { value, selected: value === current }, label));
    return box;
  };
  const form = el("form", { class: "filters", role: "search", "aria-label": "Filter analytics" },
    field("an-from", "From", el("input", { id: "an-from", name: "from", type: "date", value: filters.from })),
    field("an-to", "To", el("input", { id: "an-to", name: "to", type: "date", value: filters.to })),
    field("an-site", "Site", choice("an-site", [["", "every site"], ...sites.map((s) => [s, s])], filters.site_id)),
    field("an-channel", "Channel", choice("an-channel", [["", "every channel"], ...channels.map((c) => [c, c])],
      filters.channel)),
    el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const e = form.elements;
    form.querySelector(".notice")?.remove();
    if (e.from.value && e.to.value && e.from.value > e.to.value) {
      form.append(notice(`From (${e.from.value}) is after To (${e.to.value}).`, { error: true }));
      e.from.focus();
      return;
    }
    location.hash = `#/analytics${query({ from: e.from.value, to: e.to.value, site_id: e["an-site"].value,
      channel: e["an-channel"].value })}`;
  });
  return form;
}

function filtersOf(params) {
  const day = (name) => {
    const value = params.get(name) || "";
    return /^\d{4}-\d{2}-\d{2}$/.test(value) && Number.isFinite(daySeconds(value)) ? value : "";
  };
  const to = day("to") || today(); // a malformed date in the hash falls back to the default
  const from = day("from") || isoDay(daySeconds(to) - (ORDER_DAYS - 1) * DAY_S);
  return { from, to, site_id: params.get("site_id") || "", channel: params.get("channel") || "" };
}

/** #/analytics: the reports, filtered by range, site and channel from the hash's query. */
export async function renderAnalytics(main, params) {
  const f = filtersOf(params);
  const range = { from: f.from, to: f.to };
  const ordersQuery = query({ ...range, site_id: f.site_id, channel: f.channel });
  const rangeQuery = query(range);
  const forecastQuery = query({ site_id: f.site_id });
  const calls = await Promise.allSettled([
    getJson(`/v1/analytics/orders${ordersQuery}`),
    getJson(`/v1/analytics/plans${rangeQuery}`),
    getJson(`/v1/analytics/routes${rangeQuery}`),
    getJson(`/v1/analytics/forecast${forecastQuery}`),
    getJson("/v1/sites"),
  ]);
  const refused = calls.find((c) => c.status === "rejected" && c.reason instanceof ApiError && c.reason.status === 401);
  if (refused) throw refused.reason;
  const [orders, plans, routes, forecast, sites] = calls;
  const later = [];
  const csv = (q) => (q ? `${q}&format=csv` : "?format=csv");
  const siteIds = [...(sites.status === "fulfilled" ? sites.value.map((s) => s.id) : []), "unplanned"];
  const channels = orders.status === "fulfilled" ? [...new Set(orders.value.rows.map((r) => r.channel))].sort() : [];
  if (f.channel && !channels.includes(f.channel)) channels.push(f.channel);
  const view = el("div", { class: "analytics", "data-testid": "analytics-view" },
    el("h1", {}, "Analytics"),
    filterForm(f, siteIds, channels),
    el("p", { class: "muted" }, `Orders, plans and routes from ${f.from} to ${f.to}` +
      `${f.site_id ? `; orders and forecast of site ${f.site_id}` : ""}${f.channel ? `; channel ${f.channel}` : ""}.`),
    orders.status === "fulfilled" ? ordersSection(orders.value, csv(ordersQuery), later)
      : failed("orders", "Orders", orders.reason),
    plans.status === "fulfilled" ? plansSection(plans.value, csv(rangeQuery), later)
      : failed("plans", "Plans: cost and service", plans.reason),
    routes.status === "fulfilled" ? routesSection(routes.value, csv(rangeQuery), later)
      : failed("routes", "Planned against actual", routes.reason),
    forecast.status === "fulfilled" ? forecastSection(forecast.value, csv(forecastQuery), later)
      : failed("forecast", "Demand forecast", forecast.reason));
  main.replaceChildren(view);
  for (const draw of later) draw();
  view.setAttribute("data-ready", "true");
}
