// The plan's map: Leaflet with no tile layer (a plain light background), one SVG polyline per
// route, numbered stops in visiting order, depots and sites, unassigned stops, vans' positions.

/* global L */

/** Route colours: distinct, and dark enough for white numbers on them (contrast >= 4.5). */
export const COLOURS = [
  "#1f4e9c", "#1b6e3a", "#7b3fa0", "#8a5300", "#00666f", "#a3266b", "#4a4a4a", "#2c5f8a",
  "#9c3d00", "#3d6b00", "#5a3e9e", "#006b4f", "#54606b", "#004d99",
];

/** The colour of the route at index k. */
export function colourOf(k) {
  return COLOURS[k % COLOURS.length];
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

/**
 * Draw the plan on `container`. `routes` are {vehicleId, siteId, colour, steps}; `sites`
 * {id, location, kind}; `unassigned` {orderId, location, reason}. Answers an object that
 * moves vans' markers (setVan) and adds unassigned places later (addUnassigned).
 */
export function drawMap(container, { routes, sites, unassigned }) {
  const map = L.map(container, {
    renderer: L.svg(),
    attributionControl: false, // the libraries are credited in the page's footer
    zoomSnap: 0.25,
  });
  // the view first: layers added to a map without one wait for it (and have no element yet)
  const bounds = L.latLngBounds([]);
  for (const route of routes) routeLine(route.steps).forEach((point) => bounds.extend(point));
  for (const site of sites) if (site.location) bounds.extend(latLng(site.location));
  for (const item of unassigned) if (item.location) bounds.extend(latLng(item.location));
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 });
  else map.setView([0, 0], 2);
  for (const route of routes) {
    const line = routeLine(route.steps);
    if (line.length < 2) continue;
    const path = L.polyline(line, {
      color: route.colour,
      weight: 3,
      opacity: 0.9,
      className: "route-path",
      interactive: false,
    }).addTo(map);
    path.getElement().setAttribute("data-vehicle-id", route.vehicleId);
    let n = 0;
    for (const step of route.steps) {
      if (!isVisit(step) || !step.location) continue;
      n += 1;
      const icon = L.divIcon({
        className: "stop-marker",
        html: `<span style="background:${route.colour}">${n}</span>`,
        iconSize: [22, 22],
        iconAnchor: [11, 11],
      });
      L.marker(latLng(step.location), {
        icon,
        keyboard: false,
        title: `${route.vehicleId}, stop ${n}: ${step.id}`,
      })
        .bindPopup(`<strong>${escapeHtml(route.vehicleId)}</strong> stop ${n}<br>${escapeHtml(step.id)}`)
        .addTo(map);
    }
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
