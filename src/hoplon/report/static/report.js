/* Hoplon report: the interactive map (Leaflet, offline base map), the replay slider and
   the timeline cursor. Data: the JSON in #hoplon-data (report/scene.py) and the base map
   in #hoplon-basemap, drawn by basemap.js. */
(function () {
  'use strict';
  function $(id) { return document.getElementById(id); }
  var esc = hoplonBase.esc;
  function fmt(x, d) { return (x === null || x === undefined) ? '' : Number(x).toFixed(d); }

  var D = JSON.parse($('hoplon-data').textContent);
  var epochMs = Date.parse(D.epoch_utc);
  function utc(t) { return new Date(epochMs + t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC'); }

  var shown = hoplonBase.map('map'), map = shown.map, renderer = shown.renderer, base = shown.base;

  var KIND_COLOUR = { ballistic_missile: '#c0392b', drone: '#e67e22', cruise_missile: '#8e44ad',
                      spent_booster: '#888888', interceptor: '#1f4fd1' };
  var groups = {
    tracks: L.layerGroup(), interceptors: L.layerGroup(), intercepts: L.layerGroup(), leakers: L.layerGroup(),
    debris: L.layerGroup(), fragments: L.layerGroup(), coverage: L.layerGroup(), zones: L.layerGroup(),
    assets: L.layerGroup(), places: L.layerGroup()
  };
  var timed = [];   /* {layer, group, t}: shown from time t on */
  var movers = [];  /* objects replayed along their samples */

  function bisect(ts, t) { /* last index with ts[i] <= t, or -1 */
    var lo = 0, hi = ts.length - 1, k = -1;
    while (lo <= hi) { var m = (lo + hi) >> 1; if (ts[m] <= t) { k = m; lo = m + 1; } else { hi = m - 1; } }
    return k;
  }

  /* objects: threats, boosters, interceptors */
  D.objects.forEach(function (o) {
    var colour = KIND_COLOUR[o.kind] || '#555';
    var group = o.kind === 'interceptor' ? groups.interceptors : groups.tracks;
    var ll = o.lat.map(function (la, i) { return [la, o.lon[i]]; });
    var line = L.polyline([], { renderer: renderer, color: colour, weight: o.kind === 'spent_booster' ? 1.5 : 2.2,
                                dashArray: o.kind === 'spent_booster' ? '5 4' : null, opacity: 0.9 });
    line.bindPopup('<b>' + esc(o.id) + '</b><br>' + esc(o.kind.replace(/_/g, ' ')) + '<br>' + esc(utc(o.t[0])) +
                   ' to ' + esc(utc(o.t[o.t.length - 1])) + '<br>max altitude ' + fmt(Math.max.apply(null, o.alt) / 1e3, 1) + ' km');
    var dot = L.circleMarker(ll[0], { renderer: renderer, radius: 4, color: '#fff', weight: 1, fillColor: colour,
                                      fillOpacity: 1 });
    dot.bindTooltip(esc(o.id));
    group.addLayer(line);
    movers.push({ o: o, ll: ll, line: line, dot: dot, group: group, shown: false });
  });

  function marker(lat, lon, opts, html, group, t) {
    var m = L.circleMarker([lat, lon], Object.assign({ renderer: renderer }, opts));
    if (html) { m.bindPopup(html); }
    if (t === null || t === undefined) { group.addLayer(m); } else { timed.push({ layer: m, group: group, t: t }); }
    return m;
  }

  D.intercepts.forEach(function (x) {
    var kill = x.result === 'kill';
    marker(x.lat_deg, x.lon_deg, { radius: kill ? 7 : 5, color: kill ? '#0a8f3c' : '#f39c12', weight: 2.5, fillOpacity: 0.25 },
           '<b>' + esc(x.interceptor) + '</b> (' + esc(x.battery) + ')<br>' + esc(kill ? 'kill' : 'miss') + ' against ' +
           esc(x.threat || '?') + '<br>' + esc(utc(x.time_s)) + '<br>altitude ' + fmt(x.alt_m / 1e3, 1) + ' km, miss distance ' +
           fmt(x.miss_distance_m, 1) + ' m', groups.intercepts, x.time_s);
  });
  D.leakers.forEach(function (x) {
    marker(x.lat_deg, x.lon_deg, { radius: 8, color: '#7b241c', weight: 2, fillColor: '#e74c3c', fillOpacity: 0.9 },
           '<b>' + esc(x.id) + '</b> leaked<br>' + esc(utc(x.time_s)) + (x.asset_hit ? '<br>hit ' + esc(x.asset_hit) : ''),
           groups.leakers, x.time_s);
  });
  D.clouds.forEach(function (c) {
    if (c.polygon.length >= 3) {
      var p = L.polygon(c.polygon, { renderer: renderer, color: '#b03a2e', weight: 1.5, fillColor: '#e6b0aa', fillOpacity: 0.45 });
      p.bindPopup('<b>debris of ' + esc(c.id) + '</b> (' + esc(c.source) + ')<br>' + esc(c.fragments) + ' fragments, ' +
                  esc(c.hazardous) + ' above 15 J<br>95 % footprint ' + fmt(c.area_km2, 1) + ' km&#178;<br>near ' + esc(c.near) +
                  (c.places.length ? '<br>places: ' + esc(c.places.join(', ')) : ''));
      timed.push({ layer: p, group: groups.debris, t: c.time_s });
    }
  });
  var cloudTime = {};
  D.clouds.forEach(function (c) { cloudTime[c.id] = c.time_s; });
  D.fragments.forEach(function (f) {
    var t = f[4] !== null ? f[4] : cloudTime[f[3]];
    marker(f[0], f[1], { radius: 1.6, stroke: false, fillColor: f[2] ? '#c0392b' : '#7f8c8d', fillOpacity: 0.8 }, null,
           groups.fragments, t);
  });

  /* sensors: site and coverage fans at the chosen altitude */
  var altSelect = $('coverage-alt');
  function drawCoverage() {
    groups.coverage.clearLayers();
    var k = altSelect ? Number(altSelect.value) : 0;
    D.sensors.forEach(function (s) {
      if (s.kind !== 'radar') { return; }
      var site = L.circleMarker([s.lat_deg, s.lon_deg], { renderer: renderer, radius: 5, color: '#fff', weight: 1.5,
                                                          fillColor: '#2c7fb8', fillOpacity: 1 });
      var fan = s.fans[k];
      var html = '<b>' + esc(s.id) + '</b><br>' + esc(s.label) + '<br>boresight ' + fmt(s.boresight_deg, 0) + ' deg, &plusmn;' +
                 fmt(s.azimuth_half_width_deg, 0) + ' deg';
      if (fan) {
        html += '<br>at ' + fmt(fan.altitude_m / 1e3, 0) + ' km: search ' + fmt(fan.search_range_km, 0) + ' km, cued ' +
                fmt(fan.cued_range_km, 0) + ' km (slant)';
        if (fan.cued.length) {
          groups.coverage.addLayer(L.polygon(fan.cued, { renderer: renderer, color: '#2c7fb8', weight: 1, dashArray: '6 4',
                                                         fillOpacity: 0.05 }).bindPopup(html));
        }
        if (fan.search.length) {
          groups.coverage.addLayer(L.polygon(fan.search, { renderer: renderer, color: '#2c7fb8', weight: 1.5,
                                                           fillColor: '#2c7fb8', fillOpacity: 0.15 }).bindPopup(html));
        }
      }
      site.bindPopup(html);
      site.bindTooltip(esc(s.id));
      groups.coverage.addLayer(site);
    });
  }
  drawCoverage();
  if (altSelect) { altSelect.addEventListener('change', drawCoverage); }

  D.batteries.forEach(function (b) {
    var html = '<b>' + esc(b.id) + '</b><br>' + esc(b.label) + '<br>range ' + fmt(b.min_range_m / 1e3, 0) + ' to ' +
               fmt(b.max_range_m / 1e3, 0) + ' km, altitude ' + fmt(b.min_altitude_m / 1e3, 1) + ' to ' +
               fmt(b.max_altitude_m / 1e3, 0) + ' km<br>' + esc(b.rounds) + ' rounds' +
               (b.defends.length ? '<br>defends ' + esc(b.defends.join(', ')) : '');
    groups.zones.addLayer(L.polygon(b.zone, { renderer: renderer, color: '#6a3d9a', weight: 1.5, fillColor: '#6a3d9a',
                                              fillOpacity: 0.06 }).bindPopup(html));
    if (b.inner.length) {
      groups.zones.addLayer(L.polygon(b.inner, { renderer: renderer, color: '#6a3d9a', weight: 1, dashArray: '3 3',
                                                 fill: false, interactive: false }));
    }
    groups.zones.addLayer(L.circleMarker([b.lat_deg, b.lon_deg], { renderer: renderer, radius: 5, color: '#fff', weight: 1.5,
                                                                    fillColor: '#6a3d9a', fillOpacity: 1 })
      .bindPopup(html).bindTooltip(esc(b.id)));
  });

  D.assets.forEach(function (a) {
    var html = '<b>' + esc(a.name) + '</b>' + (a.kind ? ' (' + esc(a.kind) + ')' : '') + '<br>value ' + esc(a.value) +
               ', radius ' + fmt(a.radius_m / 1e3, 1) + ' km';
    groups.assets.addLayer(L.polygon(a.ring, { renderer: renderer, color: '#145a32', weight: 2, fillColor: '#27ae60',
                                               fillOpacity: 0.25 }).bindPopup(html));
    groups.assets.addLayer(L.circleMarker([a.lat_deg, a.lon_deg], { renderer: renderer, radius: 3, color: '#145a32',
                                                                     fillOpacity: 1 })
      .bindTooltip(esc(a.name), { permanent: true, direction: 'right', className: 'asset-label' }).bindPopup(html));
  });

  D.places.forEach(function (p, i) {
    var r = p.population >= 1e6 ? 4 : (p.population >= 3e5 ? 3 : 2);
    var m = L.circleMarker([p.lat_deg, p.lon_deg], { renderer: renderer, radius: r, color: '#4b5563', weight: 1,
                                                     fillColor: '#9ca3af', fillOpacity: 1 });
    m.bindPopup('<b>' + esc(p.name) + '</b>, ' + esc(p.country) + '<br>population ' + esc(p.population.toLocaleString('en')));
    if (i < 15) { m.bindTooltip(esc(p.name), { permanent: true, direction: 'right', className: 'place-label' }); }
    else { m.bindTooltip(esc(p.name)); }
    groups.places.addLayer(m);
  });

  var overlays = {
    'Threat ground tracks': groups.tracks, 'Interceptor paths': groups.interceptors, 'Intercept points': groups.intercepts,
    'Leaker impacts': groups.leakers, 'Debris footprints': groups.debris, 'Debris fragments': groups.fragments,
    'Sensor coverage': groups.coverage, 'Engagement zones': groups.zones, 'Defended assets': groups.assets,
    'Populated places': groups.places
  };
  ['places', 'zones', 'coverage', 'assets', 'debris', 'fragments', 'tracks', 'interceptors', 'intercepts', 'leakers']
    .forEach(function (k) { groups[k].addTo(map); });
  L.control.layers({ 'Natural Earth (offline)': base }, overlays, { collapsed: false }).addTo(map);

  var b = D.bounds;
  map.fitBounds([[b[0][0], b[0][1]], [b[1][0], b[1][1]]], { padding: [24, 24] });

  /* replay */
  var frames = D.frames.length ? D.frames : [0];
  var slider = $('time-slider'), label = $('time-label'), cursors = document.querySelectorAll('#timeline .tl-row');
  slider.max = String(frames.length - 1);
  slider.value = String(frames.length - 1);

  function show(t) {
    movers.forEach(function (m) {
      var ts = m.o.t, k = bisect(ts, t);
      if (k < 0) { m.line.setLatLngs([]); if (m.shown) { m.group.removeLayer(m.dot); m.shown = false; } return; }
      var pts = m.ll.slice(0, k + 1);
      var here = m.ll[k];
      if (k < ts.length - 1 && ts[k + 1] > ts[k]) {
        var f = (t - ts[k]) / (ts[k + 1] - ts[k]);
        here = [m.ll[k][0] + f * (m.ll[k + 1][0] - m.ll[k][0]), m.ll[k][1] + f * (m.ll[k + 1][1] - m.ll[k][1])];
        pts.push(here);
      }
      m.line.setLatLngs(pts);
      var flying = t <= ts[ts.length - 1];
      if (flying) { m.dot.setLatLng(here); if (!m.shown) { m.group.addLayer(m.dot); m.shown = true; } }
      else if (m.shown) { m.group.removeLayer(m.dot); m.shown = false; }
    });
    timed.forEach(function (x) {
      var on = x.t === null || x.t === undefined || t >= x.t;
      var has = x.group.hasLayer(x.layer);
      if (on && !has) { x.group.addLayer(x.layer); } else if (!on && has) { x.group.removeLayer(x.layer); }
    });
    label.textContent = utc(t);
    for (var i = 0; i < cursors.length; i++) {
      var row = cursors[i], t0 = Number(row.getAttribute('data-t0')), t1 = Number(row.getAttribute('data-t1'));
      var line = row.querySelector('.tl-cursor');
      if (!line) { continue; }
      if (t >= t0 && t <= t1 && t1 > t0) {
        var x = Number(line.getAttribute('data-left')) + Number(line.getAttribute('data-width')) * (t - t0) / (t1 - t0);
        line.setAttribute('x1', x.toFixed(1)); line.setAttribute('x2', x.toFixed(1)); line.setAttribute('visibility', 'visible');
      } else { line.setAttribute('visibility', 'hidden'); }
    }
  }
  slider.addEventListener('input', function () { show(frames[Number(slider.value)]); });
  var timer = null, play = $('play');
  play.addEventListener('click', function () {
    if (timer) { clearInterval(timer); timer = null; play.innerHTML = '&#9654;'; return; }
    if (Number(slider.value) >= frames.length - 1) { slider.value = '0'; }
    play.innerHTML = '&#10073;&#10073;';
    var stride = Math.max(1, Math.round(frames.length / 600));
    timer = setInterval(function () {
      var k = Math.min(frames.length - 1, Number(slider.value) + stride);
      slider.value = String(k); show(frames[k]);
      if (k >= frames.length - 1) { clearInterval(timer); timer = null; play.innerHTML = '&#9654;'; }
    }, 40);
  });
  show(frames[frames.length - 1]);

  document.body.setAttribute('data-overlays', String(Object.keys(overlays).length));
  document.body.setAttribute('data-ready-ms', String(Math.round(performance.now())));  /* time to open */
  document.body.setAttribute('data-ready', '1');
}());
