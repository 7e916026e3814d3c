// The optional map (only on pages served with a tile source configured): the markers come
// from the page's JSON island, already in the tiles' datum (pages/maps.py), so they are drawn
// as given. The list on the page says the same; the map only adds a picture.
(function () {
  "use strict";
  var canvas = document.getElementById("map");
  var island = document.getElementById("map-markers");
  if (!canvas || !island || !window.L) { return; }
  var markers = JSON.parse(island.textContent);
  var map = L.map(canvas, { scrollWheelZoom: false });
  // Leaflet's credit as a plain link (its default prefix adds a flag image).
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  L.tileLayer(canvas.dataset.tiles, {
    attribution: canvas.dataset.attribution, maxZoom: 18
  }).addTo(map);
  var points = markers.map(function (marker) {
    var point = L.latLng(marker.lat, marker.lon);
    // Coverage's communities are dots, green when covered and red when not (their names say
    // which in words); facilities are pins.
    var pin = "covered" in marker
      ? L.circleMarker(point, { radius: 7, weight: 2, fillOpacity: 0.7,
                                color: marker.covered ? "#0a6b2d" : "#a1161b" }).addTo(map)
      : L.marker(point, { title: marker.name, alt: marker.name }).addTo(map);
    var label = document.createElement(marker.href ? "a" : "span");
    label.textContent = marker.name;
    if (marker.href) { label.href = marker.href; }
    pin.bindPopup(label);
    return point;
  });
  if (points.length === 1) {
    map.setView(points[0], 16);
  } else {
    map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 16 });
  }
})();
