// Conveniences only: every page works without this script.
(function () {
  "use strict";
  var locate = document.querySelector("[data-locate]");
  if (locate && "geolocation" in navigator) {
    var form = locate.form, status = document.querySelector("[data-locate-status]");
    locate.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = locate.dataset.waiting || "…";
      navigator.geolocation.getCurrentPosition(function (position) {
        // The browser's position is WGS-84 (GPS); a place chosen or typed would come first.
        ["district", "street", "address"].forEach(function (name) {
          if (form.elements[name]) { form.elements[name].value = ""; }
        });
        form.elements.lat.value = position.coords.latitude.toFixed(6);
        form.elements.lon.value = position.coords.longitude.toFixed(6);
        form.elements.coordsys.value = "wgs84";
        form.submit();
      }, function (error) {
        status.textContent = locate.dataset.failed || error.message;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  // 区县 → 街道 without a round trip: the streets come from GET /api/v1/districts, the list
  // the server renders after a submit (without this script, the second step).
  var district = document.querySelector("select[name=district][data-districts-url]");
  if (district && window.fetch) {
    var street = district.form.elements.street, listing = null;
    district.addEventListener("change", function () {
      if (district.form.elements.address) { district.form.elements.address.value = ""; }
      listing = listing || fetch(district.dataset.districtsUrl).then(function (response) {
        return response.ok ? response.json() : { items: [] };
      });
      listing.then(function (body) {
        var chosen = body.items.filter(function (d) { return d.code === district.value; })[0];
        var first = street.options[0];
        while (street.options.length > 1) { street.remove(1); }
        first.textContent = chosen ? (document.documentElement.lang === "en"
          ? "Whole district" : "整个区县") : first.textContent;
        (chosen ? chosen.streets : []).forEach(function (s) {
          street.add(new Option(s.name, s.name));
        });
        street.value = "";
      });
    });
  }
})();
