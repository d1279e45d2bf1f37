// The timeline: an SVG Gantt row per van, from the route's steps' times (seconds from the
// day start): driving, service, waiting and breaks as bars, each stop's time window behind
// it, late or at-risk stops in red. Labels are HTML (readable, and checked for contrast).
// On a dispatched route, each remaining stop whose live ETA moved off the plan gets a dashed
// ghost bar at its live time (red: later than planned or past its window; teal: earlier).

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 1000;
const HEIGHT = 26;

/** Bar kinds, their colours and names (the legend). */
export const KINDS = {
  window: { colour: "#d6e4f0", name: "time window" },
  driving: { colour: "#5b7fa6", name: "driving" },
  service: { colour: "#2e7d32", name: "service" },
  waiting: { colour: "#e0a800", name: "waiting" },
  break: { colour: "#7b61a8", name: "break" },
  late: { colour: "#c62828", name: "late or at risk" },
};

/** The live ETA ghosts, their colours and names (in the legend when a route is live). */
export const LIVE_KINDS = {
  "live-late": { colour: "#c62828", name: "live ETA later than planned" },
  "live-early": { colour: "#00796b", name: "live ETA earlier than planned" },
};

/** Stop states that are done with: their ETAs no longer move. */
const DONE = new Set(["delivered", "failed", "skipped"]);
/** Record kinds that are visits. */
const VISIT_KINDS = new Set(["job", "delivery", "pickup"]);
/** A live ETA less than this (s) off the plan counts as on plan. */
const ON_PLAN_S = 30;

/**
 * How a dispatch stop record's live ETA stands against the plan, or null for a stop that
 * is done or not a visit: {shiftS (live start minus planned start), pastWindow (live start
 * after the window's end), direction: "late" | "early" | "on-plan", text ("+12 min",
 * "−1 h 5 min")}.
 */
export function liveShift(stop) {
  if (!stop || DONE.has(stop.status) || !VISIT_KINDS.has(stop.kind)) return null;
  const shiftS = stop.eta_start_s - stop.planned_start_s;
  const pastWindow = stop.window_end_s !== null && stop.window_end_s !== undefined
    && stop.eta_start_s > stop.window_end_s;
  let direction = "on-plan";
  if (shiftS >= ON_PLAN_S || pastWindow) direction = "late";
  else if (shiftS <= -ON_PLAN_S) direction = "early";
  const minutes = Math.round(Math.abs(shiftS) / 60);
  const sign = shiftS >= ON_PLAN_S ? "+" : shiftS <= -ON_PLAN_S ? "\u2212" : "\u00b1";
  const size = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  return { shiftS, pastWindow, direction, text: `${sign}${size}` };
}

/** "HH:MM" of `s` seconds after the day start (which is `offsetS` after midnight). */
export function clock(s, offsetS = 0) {
  if (s === null || s === undefined || Number.isNaN(s)) return "–";
  const total = Math.round(s + offsetS);
  const day = Math.floor(total / 86400);
  const rest = total - day * 86400;
  const hh = String(Math.floor(rest / 3600)).padStart(2, "0");
  const mm = String(Math.floor((rest % 3600) / 60)).padStart(2, "0");
  return day > 0 ? `${hh}:${mm} (+${day}d)` : `${hh}:${mm}`;
}

function element(name, attrs) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

/** The bars of one route: [{kind, from_s, to_s, stepId, label}]. */
export function bars(steps, windows, late) {
  const behind = [];
  const out = [];
  for (let k = 0; k < steps.length; k += 1) {
    const step = steps[k];
    const previous = k > 0 ? steps[k - 1] : null;
    const id = step.id || step.type;
    const window = step.id ? windows.get(step.id) : null;
    if (window) behind.push({ kind: "window", from_s: window[0], to_s: window[1], stepId: id });
    if (previous && step.arrival_s > previous.departure_s) {
      out.push({ kind: "driving", from_s: previous.departure_s, to_s: step.arrival_s, stepId: id });
    }
    if (step.service_start_s > step.arrival_s) {
      out.push({ kind: "waiting", from_s: step.arrival_s, to_s: step.service_start_s, stepId: id });
    }
    if (step.departure_s > step.service_start_s || step.type === "job" || step.type === "delivery") {
      let kind = step.type === "break" ? "break" : "service";
      if (step.id && late.has(step.id)) kind = "late";
      const to_s = Math.max(step.departure_s, step.service_start_s + 1);
      out.push({ kind, from_s: step.service_start_s, to_s, stepId: id });
    }
  }
  return [...behind, ...out];
}

/** The span of every route: [start_s, end_s], widened to whole hours. */
export function span(routes) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const route of routes) {
    for (const step of route.steps) {
      lo = Math.min(lo, step.arrival_s);
      hi = Math.max(hi, step.departure_s);
    }
    for (const [from_s, to_s] of route.windows.values()) {
      lo = Math.min(lo, from_s);
      hi = Math.max(hi, to_s);
    }
    for (const stop of route.record?.stops || []) {
      if (!liveShift(stop)) continue;
      lo = Math.min(lo, stop.eta_arrival_s);
      hi = Math.max(hi, stop.eta_start_s + stop.service_s);
    }
  }
  if (!Number.isFinite(lo)) return [0, 3600];
  lo = Math.floor(lo / 3600) * 3600;
  hi = Math.max(lo + 3600, Math.ceil(hi / 3600) * 3600);
  return [lo, hi];
}

function legend(live) {
  const list = document.createElement("ul");
  list.className = "legend";
  const add = (name, className, style) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = className;
    Object.assign(swatch.style, style);
    item.append(swatch, document.createTextNode(name));
    list.append(item);
  };
  for (const { colour, name } of Object.values(KINDS)) add(name, "swatch", { background: colour });
  for (const { colour, name } of live ? Object.values(LIVE_KINDS) : []) {
    add(name, "swatch swatch-ghost", { borderColor: colour });
  }
  return list;
}

/** The live ETA ghosts of a dispatched route: {stop, shift} of each remaining stop off plan. */
export function ghosts(route) {
  const out = [];
  for (const stop of route.record?.stops || []) {
    const shift = liveShift(stop);
    if (shift && shift.direction !== "on-plan") out.push({ stop, shift });
  }
  return out;
}

/** Draw a route's live ETA ghosts into its row's `svg`: a dashed bar at the live service
 * time and a line back to the planned start, each titled with the shift in words. */
function drawGhosts(svg, route, lo, scale, offsetS) {
  for (const { stop, shift } of ghosts(route)) {
    const kind = shift.direction === "late" ? "live-late" : "live-early";
    const colour = LIVE_KINDS[kind].colour;
    const from = (stop.eta_start_s - lo) * scale;
    const planned = (stop.planned_start_s - lo) * scale;
    const group = element("g", {
      class: `live-eta ${kind}`,
      "data-testid": "live-eta",
      "data-stop-id": stop.stop_id,
      "data-shift-s": Math.round(shift.shiftS),
    });
    group.append(element("line", {
      x1: planned, x2: from, y1: HEIGHT / 2, y2: HEIGHT / 2,
      stroke: colour, "stroke-width": 1, "vector-effect": "non-scaling-stroke",
    }));
    group.append(element("rect", {
      x: from,
      y: 3,
      width: Math.max(3, stop.service_s * scale),
      height: HEIGHT - 6,
      fill: colour,
      "fill-opacity": 0.15,
      stroke: colour,
      "stroke-width": 2,
      "stroke-dasharray": "3 2",
      "vector-effect": "non-scaling-stroke",
      class: "bar bar-live",
    }));
    const title = element("title", {});
    title.textContent = `live ETA ${stop.stop_id}: ${clock(stop.eta_start_s, offsetS)} ` +
      `(${shift.text} vs planned ${clock(stop.planned_start_s, offsetS)}` +
      `${shift.pastWindow ? ", past its window" : ""})`;
    group.append(title);
    svg.append(group);
  }
}

/** Words for a row's live state (the row's image label): shifted and at-risk stops. */
function liveWords(route) {
  if (!route.record) return "";
  const moved = ghosts(route);
  const risky = moved.filter((g) => g.shift.pastWindow).length;
  return `; live: ${moved.length} stops off plan, ${risky} past their window`;
}

function axis(lo, hi, offsetS) {
  const row = document.createElement("div");
  row.className = "timeline-axis";
  row.setAttribute("aria-hidden", "true");
  const label = document.createElement("span");
  label.className = "timeline-label";
  const ticks = document.createElement("div");
  ticks.className = "timeline-ticks";
  const step = (hi - lo) / 3600 > 14 ? 7200 : 3600;
  for (let s = lo; s <= hi; s += step) {
    const tick = document.createElement("span");
    tick.style.left = `${((s - lo) / (hi - lo)) * 100}%`;
    // the first and last labels stay inside the axis
    if (s === lo) tick.style.transform = "translateX(0)";
    if (s + step > hi) tick.style.transform = "translateX(-100%)";
    tick.textContent = clock(s, offsetS);
    ticks.append(tick);
  }
  row.append(label, ticks);
  return row;
}

/**
 * Draw the timeline into `container`: `routes` are {vehicleId, siteId, steps, windows
 * (Map stop id -> [from_s, to_s]), late (Set of stop ids), record (the dispatch route with
 * live ETAs, or null)}; `offsetS` is the day start's
 * time of day (for the clock labels).
 */
export function drawTimeline(container, routes, offsetS = 0) {
  container.replaceChildren();
  const [lo, hi] = span(routes);
  const scale = WIDTH / (hi - lo);
  container.append(legend(routes.some((r) => r.record)), axis(lo, hi, offsetS));
  for (const route of routes) {
    const row = document.createElement("div");
    row.className = "timeline-row";
    row.dataset.testid = "timeline-row";
    row.dataset.vehicleId = route.vehicleId;
    const label = document.createElement("span");
    label.className = "timeline-label";
    label.textContent = route.vehicleId;
    const svg = element("svg", {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": `${route.vehicleId}: ${clock(route.steps[0]?.departure_s, offsetS)} to ` +
        `${clock(route.steps[route.steps.length - 1]?.arrival_s, offsetS)}${liveWords(route)}`,
    });
    for (const bar of bars(route.steps, route.windows, route.late)) {
      const behind = bar.kind === "window";
      const rect = element("rect", {
        x: (bar.from_s - lo) * scale,
        y: behind ? 1 : 6,
        width: Math.max(1, (bar.to_s - bar.from_s) * scale),
        height: behind ? HEIGHT - 2 : HEIGHT - 12,
        fill: KINDS[bar.kind].colour,
        class: `bar bar-${bar.kind}`,
        "data-stop-id": bar.stepId,
      });
      const title = element("title", {});
      title.textContent = `${KINDS[bar.kind].name} ${bar.stepId}: ` +
        `${clock(bar.from_s, offsetS)}–${clock(bar.to_s, offsetS)}`;
      rect.append(title);
      svg.append(rect);
    }
    drawGhosts(svg, route, lo, scale, offsetS);
    row.append(label, svg);
    container.append(row);
  }
}
