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
        // The browser's position is WGS-84 (GPS).
        form.elements.lat.value = position.coords.latitude.toFixed(6);
        form.elements.lon.value = position.coords.longitude.toFixed(6);
        form.elements.coordsys.value = "wgs84";
        form.submit();
      }, function (error) {
        status.textContent = locate.dataset.failed || error.message;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }
})();
