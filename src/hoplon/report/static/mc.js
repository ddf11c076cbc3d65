/* Hoplon Monte Carlo report: debris landing density and leaker impacts on the offline
   base map (data: #hoplon-data from report/mc.py; base map: #hoplon-basemap). */
(function () {
  'use strict';
  function $(id) { return document.getElementById(id); }
  var esc = hoplonBase.esc;
  var D = JSON.parse($('hoplon-data').textContent);
  var shown = hoplonBase.map('map'), map = shown.map, renderer = shown.renderer, base = shown.base;
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
