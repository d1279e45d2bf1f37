// The plan's map: Leaflet with no tile layer (a plain light background, under the thin grey
// roads of /v1/basemap when the server has them), one SVG polyline per route (on the roads when
// the plan has each route's geometry, else straight legs), numbered stops in visiting order
// (spread on a small circle where several share a place), depots and sites, unassigned stops,
// vans' positions.

/* global L */

import { getJson, query } from "./api.js";

/** The first route colours: distinct, and dark enough for white numbers (contrast >= 4.5). */
export const COLOURS = [
  "#1f4e9c", "#1b6e3a", "#7b3fa0", "#8a5300", "#00666f", "#a3266b", "#4a4a4a", "#2c5f8a",
  "#9c3d00", "#3d6b00", "#5a3e9e", "#006b4f", "#54606b", "#004d99",
];
/** The least contrast of white numbers on a route colour (WCAG AA for text). */
export const MIN_CONTRAST = 4.5;
const GOLDEN_ANGLE = 137.508;

function hslToRgb(h, s, l) {
  const a = s * Math.min(l, 1 - l);
  const f = (n) => {
    const k = (n + h / 30) % 12;
    return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
  };
  return [f(0), f(8), f(4)].map((c) => Math.round(c * 255));
}

function channel(c) {
  const v = c / 255;
  return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** The contrast ratio of white on the colour "#rrggbb". */
export function contrastWithWhite(hex) {
  const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const lum = 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]);
  return 1.05 / (lum + 0.05);
}

function toHex(rgb) {
  return `#${rgb.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}

/** A generated colour: a golden-angle hue (each turn at another saturation), darkened
 * until white numbers on it keep their contrast. */
function candidate(n) {
  const hue = (n * GOLDEN_ANGLE + 17) % 360;
  const saturation = [0.7, 0.5, 0.85, 0.4][Math.floor((n * GOLDEN_ANGLE) / 360) % 4];
  for (let lightness = 0.42; lightness > 0.1; lightness -= 0.02) {
    const hex = toHex(hslToRgb(hue, saturation, lightness));
    if (contrastWithWhite(hex) >= MIN_CONTRAST) return hex;
  }
  return "#333333";
}

function rgbGap(a, b) {
  let sum = 0;
  for (const i of [1, 3, 5]) sum += (parseInt(a.slice(i, i + 2), 16) - parseInt(b.slice(i, i + 2), 16)) ** 2;
  return Math.sqrt(sum);
}

/** Generated colours keep at least this RGB distance from every earlier one, when they can. */
const MIN_GAP = 40;
const PALETTE = [...COLOURS];
let tried = 0;

/**
 * The colour of the route at index k: the fixed list first, then generated colours (see
 * candidate), each the first of the next candidates far enough from all earlier colours.
 */
export function colourOf(k) {
  while (PALETTE.length <= k) {
    let best = null;
    let bestGap = -1;
    for (let attempt = 0; attempt < 64; attempt += 1) {
      const colour = candidate(tried);
      tried += 1;
      const gap = Math.min(...PALETTE.map((c) => rgbGap(c, colour)));
      if (gap > bestGap) [best, bestGap] = [colour, gap];
      if (gap >= MIN_GAP) break;
    }
    PALETTE.push(best);
  }
  return PALETTE[k];
}

/** An encoded polyline (precision 5, lat/lon pairs, as VROOM and OSRM give it) as [lat, lng]. */
export function decodePolyline(text, precision = 5) {
  const factor = 10 ** precision;
  const points = [];
  let index = 0;
  let lat = 0;
  let lng = 0;
  const next = () => {
    let result = 0;
    let shift = 0;
    let byte;
    do {
      if (index >= text.length) throw new Error("the polyline ends inside a value");
      byte = text.charCodeAt(index++) - 63;
      result |= (byte & 0x1f) << shift;
      shift += 5;
    } while (byte >= 0x20);
    return result & 1 ? ~(result >> 1) : result >> 1;
  };
  while (index < text.length) {
    lat += next();
    lng += next();
    points.push([lat / factor, lng / factor]);
  }
  return points;
}

const VISITS = new Set(["job", "pickup", "delivery"]);

/** A step that is a visit (a stop or a shipment end), not the start, the end or a break. */
export function isVisit(step) {
  return VISITS.has(step.type);
}

function latLng(lonLat) {
  return [lonLat[1], lonLat[0]];
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The points of a route's line: each step's road geometry when it has one, else straight. */
export function routeLine(steps) {
  const points = [];
  for (const step of steps) {
    if (Array.isArray(step.geometry) && step.geometry.length) {
      for (const point of step.geometry) points.push(latLng(point));
    } else if (step.location) {
      points.push(latLng(step.location));
    }
  }
  return points;
}

/** A route's geometry (an encoded polyline) as [lat, lng] points; null when it has none. */
export function roadLine(route) {
  if (typeof route.geometry !== "string" || !route.geometry) return null;
  try {
    const points = decodePolyline(route.geometry);
    return points.length >= 2 ? points : null;
  } catch (_error) {
    return null; // a broken geometry: drawn as straight legs
  }
}

/** A route's drawn line: its road geometry when the plan has one, else straight legs. */
export function routePath(route) {
  return roadLine(route) || routeLine(route.steps);
}

/** Pixel offsets for n markers at one place: none for one, else a small circle. */
export function spread(n) {
  if (n <= 1) return [[0, 0]];
  const radius = 10 + 2 * n;
  return Array.from({ length: n }, (_, i) => {
    const angle = (2 * Math.PI * i) / n - Math.PI / 2;
    return [Math.round(radius * Math.cos(angle)), Math.round(radius * Math.sin(angle))];
  });
}

/** The largest box side /v1/basemap draws, in degrees. */
const BASEMAP_MAX_DEG = 0.5;
/** Line widths of the base map's road classes, in pixels. */
const ROAD_WEIGHTS = {
  motorway: 2.5, primary: 2, secondary: 1.6, tertiary: 1.3, residential: 0.9, other: 0.6,
};

/** The box of `bounds` (padded) as /v1/basemap's bbox, cut to its limit around the centre. */
export function basemapBox(bounds) {
  const padded = bounds.pad(0.1);
  const centre = padded.getCenter();
  const half = BASEMAP_MAX_DEG / 2 - 1e-6;
  const clip = (lo, hi, mid) => [Math.max(lo, mid - half), Math.min(hi, mid + half)];
  const [west, east] = clip(padded.getWest(), padded.getEast(), centre.lng);
  const [south, north] = clip(padded.getSouth(), padded.getNorth(), centre.lat);
  const r = (x) => x.toFixed(5);
  // a view panned past the antimeridian: keep a valid box at the edge (no roads there)
  const w = Math.min(Math.max(west, -180), 179.99);
  const s = Math.min(Math.max(south, -90), 89.99);
  return [r(w), r(s), r(Math.max(Math.min(east, 180), w + 0.01)), r(Math.max(Math.min(north, 90), s + 0.01))].join(",");
}

function area(bounds) {
  return (bounds.getEast() - bounds.getWest()) * (bounds.getNorth() - bounds.getSouth());
}

/**
 * The base map of `map`: /v1/basemap's roads for the view (padded), as thin grey lines in
 * the "basemap" pane, under the routes. Drawn again when the view leaves the box drawn or
 * zooms far into it (the lines are simplified to the box's scale); nothing when the server
 * has no base map. Answers the function that draws it for the current view.
 */
function baseLayer(map) {
  const group = L.layerGroup().addTo(map);
  const renderer = L.svg({ pane: "basemap" });
  let drawn = null; // the box drawn, as LatLngBounds
  let lastBox = "";
  let busy = false;
  let again = false; // the view moved while a fetch was out: look once more when it is back
  let available = true;
  const refresh = async () => {
    const view = map.getBounds();
    const fine = drawn && area(view) * 16 > area(drawn);
    if (busy) {
      again = true;
      return;
    }
    if (!available || (drawn && drawn.contains(view) && fine)) return;
    const bbox = basemapBox(view);
    if (bbox === lastBox) return;
    busy = true;
    try {
      const body = await getJson(`/v1/basemap${query({ bbox })}`);
      lastBox = bbox;
      if (!body || !body.available) {
        available = false;
        return;
      }
      const byClass = new Map();
      for (const feature of body.features) {
        const name = feature.properties.class;
        if (!byClass.has(name)) byClass.set(name, []);
        byClass.get(name).push(feature.geometry.coordinates.map(latLng));
      }
      group.clearLayers();
      for (const [name, lines] of byClass) {
        L.polyline(lines, {
          renderer,
          pane: "basemap",
          color: name === "other" || name === "residential" ? "#d3d8dd" : "#bcc3ca",
          weight: ROAD_WEIGHTS[name] || 0.8,
          opacity: 1,
          interactive: false,
          className: `basemap-road basemap-${name}`,
          smoothFactor: 1.5,
        }).addTo(group);
      }
      const [west, south, east, north] = bbox.split(",").map(Number);
      drawn = L.latLngBounds([south, west], [north, east]);
      map.getContainer().dataset.basemap = String(body.features.length);
    } finally {
      busy = false;
    }
    if (again) {
      again = false;
      await refresh();
    }
  };
  map.on("moveend", () => refresh().catch(() => {}));
  return refresh;
}

/** Markers closer than this many pixels (at the first view's zoom) are spread apart. */
const OVERLAP_PX = 16;

/** Each visit of the routes with its route, number and pixel offset: visits at one place,
 * or so close that their markers overlap at the map's first zoom, are spread on a small
 * circle so that each stays visible and clickable. */
function placedStops(routes, map) {
  const zoom = map.getZoom();
  const groups = []; // {x, y, items}
  for (const route of routes) {
    let n = 0;
    for (const step of route.steps) {
      if (!isVisit(step) || !step.location) continue;
      n += 1;
      const at = map.project(latLng(step.location), zoom);
      let group = groups.find((g) => Math.hypot(g.x - at.x, g.y - at.y) < OVERLAP_PX);
      if (!group) {
        group = { x: at.x, y: at.y, items: [] };
        groups.push(group);
      }
      group.items.push({ route, step, n });
    }
  }
  const out = [];
  for (const { items } of groups) {
    const offsets = spread(items.length);
    items.forEach((item, i) => out.push({ ...item, offset: offsets[i], shared: items.length }));
  }
  return out;
}

/**
 * Draw the plan on `container`. `routes` are {vehicleId, siteId, colour, steps, geometry?}
 * (geometry: the route's encoded polyline, drawn instead of straight legs); `sites`
 * {id, location, kind}; `unassigned` {orderId, location, reason}. The roads of /v1/basemap
 * go under the routes when the server has a base map. Answers an object that moves vans'
 * markers (setVan) and adds unassigned places later (addUnassigned).
 */
export function drawMap(container, { routes, sites, unassigned }) {
  const map = L.map(container, {
    renderer: L.svg(),
    attributionControl: false, // the libraries are credited in the page's footer
    zoomSnap: 0.25,
  });
  // the view first: layers added to a map without one wait for it (and have no element yet)
  const roads = routes.map(roadLine);
  const lines = routes.map((route, k) => roads[k] || routeLine(route.steps));
  const bounds = L.latLngBounds([]);
  for (const line of lines) line.forEach((point) => bounds.extend(point));
  for (const site of sites) if (site.location) bounds.extend(latLng(site.location));
  for (const item of unassigned) if (item.location) bounds.extend(latLng(item.location));
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 });
  else map.setView([0, 0], 2);
  map.createPane("basemap").style.zIndex = "250"; // above tiles (none), under the routes
  if (bounds.isValid()) baseLayer(map)().catch(() => {}); // a help, not the view
  routes.forEach((route, k) => {
    const line = lines[k];
    if (line.length < 2) return;
    const path = L.polyline(line, {
      color: route.colour,
      weight: 3,
      opacity: 0.9,
      className: "route-path",
      interactive: false,
    }).addTo(map);
    path.getElement().setAttribute("data-vehicle-id", route.vehicleId);
    path.getElement().setAttribute("data-road", roads[k] ? "yes" : "no");
  });
  for (const { route, step, n, offset, shared } of placedStops(routes, map)) {
    const icon = L.divIcon({
      className: "stop-marker",
      html: `<span style="background:${route.colour}">${n}</span>`,
      iconSize: [22, 22],
      iconAnchor: [11 - offset[0], 11 - offset[1]],
      popupAnchor: [offset[0], offset[1] - 11],
    });
    const together = shared > 1 ? ` (one of ${shared} stops here)` : "";
    L.marker(latLng(step.location), {
      icon,
      keyboard: false,
      title: `${route.vehicleId}, stop ${n}: ${step.id}${together}`,
    })
      .bindPopup(`<strong>${escapeHtml(route.vehicleId)}</strong> stop ${n}<br>${escapeHtml(step.id)}${escapeHtml(together)}`)
      .addTo(map);
  }
  const depots = new Map();
  for (const route of routes) {
    for (const step of route.steps) {
      if ((step.type === "start" || step.type === "end") && step.location) {
        depots.set(step.location.join(","), { id: route.siteId, location: step.location });
      }
    }
  }
  for (const site of sites) {
    if (site.location) depots.set(site.location.join(","), site);
  }
  const marked = new Set();
  const addSites = (list) => {
    for (const site of list) {
      const key = `${site.id}|${site.location.join(",")}`;
      if (marked.has(key)) continue;
      marked.add(key);
      const icon = L.divIcon({
        className: "depot-marker",
        html: `<span>${escapeHtml(site.id || "depot")}</span>`,
        iconSize: null,
      });
      L.marker(latLng(site.location), { icon, keyboard: false, title: `site ${site.id}`, zIndexOffset: 1000 })
        .addTo(map);
    }
  };
  addSites(depots.values());
  const unassignedLayer = L.layerGroup().addTo(map);
  const addUnassigned = (items) => {
    for (const item of items) {
      if (!item.location) continue;
      const icon = L.divIcon({ className: "unassigned-marker", html: "<span>!</span>", iconSize: [20, 20] });
      L.marker(latLng(item.location), {
        icon,
        keyboard: false,
        title: `unassigned ${item.orderId}: ${item.reason}`,
      }).addTo(unassignedLayer);
    }
  };
  addUnassigned(unassigned);

  const vans = new Map();
  return {
    map,
    addUnassigned,
    addSites,
    /** Put (or move) a van's marker at its last known [lon, lat]. */
    setVan(vehicleId, lonLat, colour) {
      if (!lonLat) return;
      let marker = vans.get(vehicleId);
      if (!marker) {
        const icon = L.divIcon({
          className: "van-marker",
          html: `<span style="border-color:${colour}">${escapeHtml(vehicleId)}</span>`,
          iconSize: null,
        });
        marker = L.marker(latLng(lonLat), {
          icon, keyboard: false, title: `van ${vehicleId}`, zIndexOffset: 2000,
        });
        marker.addTo(map);
        marker.getElement().setAttribute("data-van-id", vehicleId);
        vans.set(vehicleId, marker);
      } else {
        marker.setLatLng(latLng(lonLat));
      }
    },
  };
}
