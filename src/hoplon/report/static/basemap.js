/* Shared by report.js and mc.js: HTML escaping, and a Leaflet map on the offline base map
   in #hoplon-basemap (Natural Earth countries as integer deltas of 1/scale degree, see
   report/static/README.md). */
var hoplonBase = (function () {
  'use strict';
  function esc(s) {
    return String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  /* the map in element `id` with its canvas renderer and the base-map layer (shown) */
  function map(id) {
    var renderer = L.canvas({ padding: 0.5 });
    var m = L.map(id, { preferCanvas: true, renderer: renderer, zoomSnap: 0.25, minZoom: 2, maxZoom: 14 });
    m.attributionControl.setPrefix(false);
    m.attributionControl.addAttribution('Base map: Natural Earth (public domain) &middot; Leaflet (BSD-2)');
    L.control.scale({ imperial: false }).addTo(m);
    var base = L.layerGroup();
    var B = JSON.parse(document.getElementById('hoplon-basemap').textContent);
    B.countries.forEach(function (c) {
      var polys = c.polygons.map(function (rings) {
        return rings.map(function (r) {
          var x = r[0], y = r[1], pts = [[y / B.scale, x / B.scale]];
          for (var i = 2; i < r.length; i += 2) { x += r[i]; y += r[i + 1]; pts.push([y / B.scale, x / B.scale]); }
          return pts;
        });
      });
      L.polygon(polys, { renderer: renderer, color: '#98a2ad', weight: 0.8, fillColor: '#f3f0e8', fillOpacity: 1,
                         interactive: false }).addTo(base);
    });
    base.addTo(m);
    return { map: m, renderer: renderer, base: base };
  }
  return { esc: esc, map: map };
}());
