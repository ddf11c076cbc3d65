/* Hoplon Monte Carlo report: debris landing density and leaker impacts on the offline
   base map (data: #hoplon-data from report/mc.py; base map: #hoplon-basemap). */
(function () {
  'use strict';
  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  var D = JSON.parse($('hoplon-data').textContent);
  var B = JSON.parse($('hoplon-basemap').textContent);
  var renderer = L.canvas({ padding: 0.5 });
  var map = L.map('map', { preferCanvas: true, renderer: renderer, zoomSnap: 0.25, minZoom: 2, maxZoom: 14 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution('Base map: Natural Earth (public domain) &middot; Leaflet (BSD-2)');
  L.control.scale({ imperial: false }).addTo(map);
  var base = L.layerGroup();
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
  base.addTo(map);
  var density = L.layerGroup(), impacts = L.layerGroup();
  var most = 1;
  D.density.forEach(function (d) { most = Math.max(most, d[2]); });
  var pts = [];
  D.density.forEach(function (d) {
    var f = Math.log(1 + d[2]) / Math.log(1 + most);
    var r = L.rectangle([[d[0], d[1]], [d[0] + D.cell, d[1] + D.cell]], { renderer: renderer, weight: 0,
      fillColor: '#b03a2e', fillOpacity: 0.15 + 0.75 * f });
    r.bindPopup(esc(d[2]) + ' fragments landed here (' + esc(d[3]) + ' above 15 J)');
    density.addLayer(r);
    pts.push([d[0], d[1]], [d[0] + D.cell, d[1] + D.cell]);
  });
  D.impacts.forEach(function (p) {
    impacts.addLayer(L.circleMarker([p[0], p[1]], { renderer: renderer, radius: 3, stroke: false, fillColor: '#c0392b',
      fillOpacity: 0.7 }).bindPopup(esc(p[2].replace(/_/g, ' ')) + (p[3] ? ': hit ' + esc(p[3]) : '')));
    pts.push([p[0], p[1]]);
  });
  density.addTo(map); impacts.addTo(map);
  L.control.layers({ 'Natural Earth (offline)': base },
                   { 'Debris landing density': density, 'Leaker impacts': impacts }, { collapsed: false }).addTo(map);
  if (pts.length) { map.fitBounds(L.latLngBounds(pts), { padding: [30, 30], maxZoom: 9 }); } else { map.setView([30, 30], 3); }
  document.body.setAttribute('data-overlays', '2');
  document.body.setAttribute('data-ready', '1');
}());
