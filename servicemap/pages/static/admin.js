// The console (/admin): every action is a call to the public API with the key as a Bearer
// token. The key lives in this tab's sessionStorage only: never a URL, a cookie or localStorage.
(function () {
  "use strict";
  var KEY = "servicemap.key";
  var T = JSON.parse(document.getElementById("console-text").textContent);
  var $ = function (selector, root) { return (root || document).querySelector(selector); };
  var state = { me: null, page: 1, auditPage: 1 };

  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, name) { return String(values[name]); });
  }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attributes[name]; }
      else { node.setAttribute(name, attributes[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function api(method, path, options) {
    options = options || {};
    var headers = Object.assign({ Authorization: "Bearer " + sessionStorage.getItem(KEY),
                                  Accept: "application/json" }, options.headers || {});
    var init = { method: method, headers: headers, credentials: "omit", cache: "no-store" };
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    }
    return fetch(path, init).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      var body = type.indexOf("json") >= 0 ? response.json() : Promise.resolve(null);
      return body.then(function (data) { return { status: response.status, data: data,
                                                  etag: response.headers.get("ETag") }; });
    });
  }

  // problem+json: the detail, then each named field's messages.
  function problemText(data) {
    if (!data) { return ""; }
    var parts = [data.detail || data.title || ""];
    Object.keys(data.errors || {}).forEach(function (field) {
      parts.push(field + ": " + [].concat(data.errors[field]).join(" "));
    });
    return parts.join(" ");
  }

  // Sign in and out --------------------------------------------------------------------------
  function signedIn(me) {
    state.me = me;
    $("[data-signin]").hidden = true;
    $("[data-console]").hidden = false;
    var where = me.role === "admin" ? T.role_admin
      : T.role_editor + me.districts.map(function (d) { return d.name; }).join("、");
    $("[data-whoami]").textContent = T.signed_in + me.name + " · " + where;
    document.querySelectorAll("[data-admin-only]").forEach(function (node) {
      node.hidden = me.role !== "admin";
    });
    if (me.role !== "admin" && me.districts.length) {
      var select = $("[data-district-select]");
      Array.prototype.slice.call(select.options).forEach(function (option) {
        var allowed = me.districts.some(function (d) { return d.code === option.value; });
        if (!allowed) { option.remove(); }
      });
    }
    loadFacilities(1);
    loadPending();
    if (me.role === "admin") { loadAudit(1); }
  }

  function signIn(event) {
    event.preventDefault();
    var input = event.target.elements.key, error = $("[data-signin-error]");
    sessionStorage.setItem(KEY, input.value.trim());
    input.value = "";
    api("GET", "/api/v1/keys/me").then(function (answer) {
      if (answer.status !== 200) {
        sessionStorage.removeItem(KEY);
        error.hidden = false;
        error.textContent = T.signin_failed + problemText(answer.data);
        return;
      }
      error.hidden = true;
      signedIn(answer.data);
    });
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    window.location.reload();
  }

  // Facilities: vacancies and status, written with If-Match ---------------------------------
  function facilityQuery(page) {
    var form = $("[data-facility-search]"), query = new URLSearchParams();
    if (form.elements.q.value.trim()) { query.set("q", form.elements.q.value.trim()); }
    var district = form.elements.district.value;
    if (!district && state.me.role !== "admin" && state.me.districts.length) {
      district = state.me.districts[0].code;  // an editor sees one of its own districts
    }
    if (district) { query.set("district", district); }
    query.set("page", page);
    query.set("per_page", 20);
    return query;
  }

  function loadFacilities(page) {
    var status = $("[data-facility-status]"), list = $("[data-facility-list]");
    status.textContent = T.loading;
    api("GET", "/api/v1/facilities?" + facilityQuery(page)).then(function (answer) {
      if (answer.status !== 200) { status.textContent = problemText(answer.data); return; }
      state.page = page;
      list.replaceChildren();
      status.textContent = answer.data.items.length
        ? format(T.found, { n: answer.data.total, page: page }) : T.none;
      answer.data.items.forEach(function (item) { list.appendChild(facilityRow(item)); });
      $("[data-page=prev]").disabled = page <= 1;
      $("[data-page=next]").disabled = page * answer.data.per_page >= answer.data.total;
    });
  }

  function facilityRow(item) {
    var row = el("li", { "class": "card", "data-facility-row": item.id });
    fillRow(row, item, null);
    // The version read now is the one an edit must still match (If-Match).
    api("GET", "/api/v1/facilities/" + item.id).then(function (answer) {
      if (answer.status === 200) {
        row.dataset.etag = answer.etag;
        $("button[type=submit]", row).disabled = false;
      }
    });
    return row;
  }

  function fillRow(row, item, message) {
    var id = item.id.slice(0, 8);
    var statusSelect = el("select", { name: "status", id: "status-" + id });
    Object.keys(T.statuses).forEach(function (value) {
      var option = el("option", { value: value, text: T.statuses[value] });
      if (value === item.status) { option.selected = true; }
      statusSelect.appendChild(option);
    });
    var vacancies = el("input", { type: "number", name: "vacancies", min: "0", max: "100000",
                                  inputmode: "numeric", id: "vacancies-" + id });
    vacancies.value = item.vacancies === null || item.vacancies === undefined ? "" : item.vacancies;
    var form = el("form", { "class": "pair" }, [
      el("label", { "for": "status-" + id, text: T.status }), statusSelect,
      el("label", { "for": "vacancies-" + id, text: T.vacancies }), vacancies,
      el("button", { type: "submit", text: T.save })
    ]);
    // Saving waits for the version the edit must match (If-Match).
    $("button[type=submit]", form).disabled = !row.dataset.etag;
    var note = el("p", { role: "status", "data-row-message": "" });
    if (message) { note.appendChild(message); }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      saveRow(row, item, statusSelect.value, vacancies.value);
    });
    row.replaceChildren(
      el("h3", { text: item.name }),
      el("p", { "class": "meta", text: (item.district ? item.district.name + " · " : "") +
                                       (item.address || "") }),
      form, note);
  }

  function saveRow(row, item, status, vacancies) {
    var changes = {};
    if (status !== item.status) { changes.status = status; }
    var wanted = vacancies === "" ? null : Number(vacancies);
    if (wanted !== item.vacancies) { changes.vacancies = wanted; }
    var headers = { "If-Match": row.dataset.etag };
    api("PATCH", "/api/v1/facilities/" + item.id, { json: changes, headers: headers })
      .then(function (answer) {
        var message;
        if (answer.status === 200) {
          row.dataset.etag = answer.etag;
          message = el("span", { "class": "open", text: "✓ " + T.saved });
          fillRow(row, answer.data, message);
        } else if (answer.status === 412) {
          var reload = el("button", { type: "button", text: T.reload });
          reload.addEventListener("click", function () { reloadRow(row, item.id); });
          message = el("span", { "class": "closed", "data-stale": "", text: "⚠ " + T.stale + " " });
          message.appendChild(reload);
          $("[data-row-message]", row).replaceChildren(message);
        } else {
          $("[data-row-message]", row).textContent = "⚠ " + T.failed + problemText(answer.data);
        }
      });
  }

  function reloadRow(row, id) {
    api("GET", "/api/v1/facilities/" + id).then(function (answer) {
      if (answer.status !== 200) { return; }
      row.dataset.etag = answer.etag;
      fillRow(row, answer.data, null);
    });
  }

  // Imports: 预检 (dry run) first, 导入 only when no row is invalid ----------------------------
  function sendFile(dryRun) {
    var form = $("[data-import-form]"), file = form.elements.file.files[0];
    var report = $("[data-import-report]");
    if (!file) { report.textContent = T.choose_file; return; }
    var label = $("[data-import-progress-label]"), bar = $("[data-import-progress]");
    var data = new FormData();
    data.append("file", file);
    var query = new URLSearchParams({ dry_run: dryRun ? "true" : "false",
                                      coordsys: form.elements.coordsys.value });
    var request = new XMLHttpRequest();
    request.open("POST", "/api/v1/imports?" + query);
    request.setRequestHeader("Authorization", "Bearer " + sessionStorage.getItem(KEY));
    request.setRequestHeader("Accept", "application/json");
    label.hidden = false;
    bar.value = 0;
    request.upload.onprogress = function (event) {
      if (event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
    };
    request.upload.onload = function () {
      bar.removeAttribute("value");  // indeterminate while the server reads and writes
      report.textContent = T.processing;
    };
    request.onload = function () {
      label.hidden = true;
      var body = null;
      try { body = JSON.parse(request.responseText); } catch (error) { body = null; }
      showReport(request.status, body, dryRun);
    };
    request.onerror = function () { label.hidden = true; report.textContent = T.import_failed; };
    $("[data-import-run]").disabled = true;
    request.send(data);
  }

  function showReport(status, body, dryRun) {
    var report = $("[data-import-report]"), run = $("[data-import-run]");
    report.replaceChildren();
    var result = body && (body.report || (body.rows !== undefined ? body : null));
    if (!result) {
      report.appendChild(el("p", { "class": "errors", text: T.import_failed + problemText(body) }));
      return;
    }
    var bad = result.invalid.length || result.unknown_columns.length;
    if (status === 200 && !bad) {
      var text = dryRun ? T.dry_run_ok : T.imported;
      report.appendChild(el("p", { "class": "notice", text: format(text, result) }));
      run.disabled = !dryRun;
      if (!dryRun) { loadFacilities(1); loadPending(); }
      return;
    }
    report.appendChild(el("p", { "class": "errors",
      text: format(T.dry_run_bad, { n: result.invalid.length + result.unknown_columns.length,
                                    rows: result.rows }) }));
    if (result.unknown_columns.length) {
      report.appendChild(el("p", { text: T.unknown_columns + result.unknown_columns.join(", ") }));
    }
    var list = el("ul", { "class": "cards" });
    result.invalid.forEach(function (problem) {
      list.appendChild(el("li", { "class": "card", "data-line": problem.line,
        text: format(T.line, problem) + " · " + T.column + " " + problem.column + "：" +
              problem.reason }));
    });
    report.appendChild(list);
    run.disabled = true;
  }

  // Facilities waiting for a location ----------------------------------------------------------
  function loadPending() {
    var list = $("[data-pending-list]");
    api("GET", "/api/v1/facilities?location_pending=true&per_page=100").then(function (answer) {
      list.replaceChildren();
      if (answer.status !== 200) { list.textContent = problemText(answer.data); return; }
      if (!answer.data.items.length) { list.appendChild(el("li", { text: T.no_pending })); }
      answer.data.items.forEach(function (item) { list.appendChild(pendingRow(item)); });
    });
  }

  function pendingRow(item) {
    var id = item.id.slice(0, 8);
    var lat = el("input", { name: "lat", inputmode: "decimal", id: "lat-" + id, required: "" });
    var lon = el("input", { name: "lon", inputmode: "decimal", id: "lon-" + id, required: "" });
    var note = el("p", { role: "status" });
    var form = el("form", { "class": "pair" }, [
      el("label", { "for": "lat-" + id, text: T.lat }), lat,
      el("label", { "for": "lon-" + id, text: T.lon }), lon,
      el("button", { type: "submit", text: T.set_location })
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var location = { lat: Number(lat.value), lon: Number(lon.value),
                       coordsys: $("[data-import-form]").elements.coordsys.value };
      api("PATCH", "/api/v1/facilities/" + item.id, { json: { location: location } })
        .then(function (answer) {
          note.textContent = answer.status === 200 ? "✓ " + T.saved
            : "⚠ " + T.failed + problemText(answer.data);
          if (answer.status === 200) { loadPending(); }
        });
    });
    return el("li", { "class": "card", "data-pending-id": item.id }, [
      el("h3", { text: item.name }), el("p", { "class": "meta", text: item.address || "" }),
      form, note]);
  }

  // The audit log (admin keys) -------------------------------------------------------------------
  function loadAudit(page) {
    var form = $("[data-audit-form]"), query = new URLSearchParams({ page: page, per_page: 20 });
    if (form.elements.action.value) { query.set("action", form.elements.action.value); }
    if (form.elements.since.value) { query.set("since", form.elements.since.value + "T00:00:00"); }
    api("GET", "/api/v1/audit?" + query).then(function (answer) {
      var rows = $("[data-audit-rows]");
      rows.replaceChildren();
      if (answer.status !== 200) {
        rows.appendChild(el("tr", {}, [el("td", { colspan: "4", text: problemText(answer.data) })]));
        return;
      }
      state.auditPage = page;
      answer.data.items.forEach(function (entry) {
        rows.appendChild(el("tr", {}, [
          el("td", { text: entry.at.replace("T", " ").slice(0, 19) }),
          el("td", { text: T.actions[entry.action] || entry.action }),
          el("td", { text: entry.facility_id ? entry.facility_id.slice(0, 8) : "—" }),
          el("td", { text: entry.key_id === "cli" ? "cli" : entry.key_id.slice(0, 8) })]));
      });
      $("[data-audit-page=prev]").disabled = page <= 1;
      $("[data-audit-page=next]").disabled = page * answer.data.per_page >= answer.data.total;
    });
  }

  // Wiring --------------------------------------------------------------------------------------
  $("[data-signin-form]").addEventListener("submit", signIn);
  $("[data-signout]").addEventListener("click", signOut);
  $("[data-facility-search]").addEventListener("submit", function (event) {
    event.preventDefault();
    loadFacilities(1);
  });
  $("[data-page=prev]").addEventListener("click", function () { loadFacilities(state.page - 1); });
  $("[data-page=next]").addEventListener("click", function () { loadFacilities(state.page + 1); });
  $("[data-dry-run]").addEventListener("click", function () { sendFile(true); });
  $("[data-import-run]").addEventListener("click", function () { sendFile(false); });
  $("[data-import-form]").addEventListener("change", function () {
    $("[data-import-run]").disabled = true;  // a changed file or datum needs a new check
  });
  $("[data-audit-form]").addEventListener("submit", function (event) {
    event.preventDefault();
    loadAudit(1);
  });
  $("[data-audit-page=prev]").addEventListener("click", function () { loadAudit(state.auditPage - 1); });
  $("[data-audit-page=next]").addEventListener("click", function () { loadAudit(state.auditPage + 1); });

  if (sessionStorage.getItem(KEY)) {  // still signed in in this tab
    api("GET", "/api/v1/keys/me").then(function (answer) {
      if (answer.status === 200) { signedIn(answer.data); }
      else { sessionStorage.removeItem(KEY); }
    });
  }
})();
