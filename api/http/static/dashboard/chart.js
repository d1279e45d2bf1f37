// The plan's progress chart (uPlot, canvas): visits done over the day as planned, and, for a
// committed plan, as reported (delivered or failed) by the dispatch records.

/* global uPlot */

import { clock } from "./timeline.js";

const STEP_S = 900;

/** [times, planned done, reported done] every quarter hour over the day's span. */
export function progress(routes) {
  const planned = [];
  const reported = [];
  for (const route of routes) {
    for (const step of route.steps) {
      if (["job", "pickup", "delivery"].includes(step.type)) planned.push(step.departure_s);
    }
    for (const stop of route.record?.stops || []) {
      if (["delivered", "failed"].includes(stop.status)) reported.push(stop.eta_start_s + stop.service_s);
    }
  }
  if (!planned.length) return [[], [], []];
  const lo = Math.floor(Math.min(...planned) / 3600) * 3600;
  const hi = Math.ceil(Math.max(...planned) / 3600) * 3600;
  const xs = [];
  for (let s = lo; s <= hi; s += STEP_S) xs.push(s);
  const count = (times, s) => times.filter((t) => t <= s).length;
  return [xs, xs.map((s) => count(planned, s)), xs.map((s) => (reported.length ? count(reported, s) : null))];
}

/** Draw the chart into `box` (replacing what it held); the uPlot instance, or null. */
export function drawProgress(box, routes, offsetS) {
  box.replaceChildren();
  if (typeof uPlot === "undefined") return null;
  const data = progress(routes);
  if (!data[0].length) return null;
  const width = Math.max(320, box.clientWidth || 640);
  return new uPlot({
    width,
    height: 220,
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: false } },
    axes: [
      { values: (_u, ticks) => ticks.map((s) => clock(s, offsetS)), stroke: "#1a1a1a" },
      { label: "visits done", stroke: "#1a1a1a" },
    ],
    series: [
      {},
      { label: "planned", stroke: "#1f4e9c", width: 2 },
      { label: "reported", stroke: "#1b6e3a", width: 2, dash: [6, 4] },
    ],
  }, data, box);
}
