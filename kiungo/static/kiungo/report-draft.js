/* Kiungo report form: save the draft to the server as it is typed, and keep it on this device
   until the server has it.
   - Every change is copied at once to localStorage, with the server stamp it started from.
   - A few seconds after the last keystroke, the form is posted to the autosave URL (CSRF
     token included); the server answers its new stamp and the local copy is dropped.
   - On load, a local copy made from the stamp the server still has (so typed after the last
     save that reached it: a lost connection, a closed tab) is put back and saved again. A copy
     from an older stamp is stale (the server has newer text) and is dropped.
   Without this script the page is a plain form with Save draft and Submit buttons. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form || !window.fetch || !window.FormData) return;
  var url = form.getAttribute("data-autosave-url");
  var key = form.getAttribute("data-storage-key");
  var stamp = form.getAttribute("data-stamp");
  var state = document.getElementById("save-state");
  var DELAY = 3000, RETRY = 15000;
  var timer = null, busy = false, again = false;
  var store = null;
  try { store = window.localStorage; } catch (e) { store = null; }

  function say(text) { if (state) state.textContent = text; }

  function fields() {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.type === "submit") return;
      if (el.type === "checkbox") {
        values[el.name] = values[el.name] || [];
        if (el.checked) values[el.name].push(el.value);
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }

  function keep() {
    if (!store) return;
    try { store.setItem(key, JSON.stringify({stamp: stamp, fields: fields()})); } catch (e) { /* full */ }
  }

  function restore() {
    if (!store) return false;
    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
    if (!saved || saved.stamp !== stamp) { store.removeItem(key); return false; }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in saved.fields)) return;
      var value = saved.fields[el.name];
      if (el.type === "checkbox") el.checked = value.indexOf(el.value) !== -1;
      else if (el.type !== "submit" && el.type !== "hidden") el.value = value;
    });
    return true;
  }

  function save() {
    timer = null;
    if (busy) { again = true; return; }
    busy = true;
    say(form.getAttribute("data-saving"));
    fetch(url, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"X-Requested-With": "XMLHttpRequest"}
    }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (data) {
      stamp = data.stamp;
      form.setAttribute("data-stamp", stamp);
      if (store) store.removeItem(key);
      say(data.saved_label + (data.warning ? " " + data.warning : ""));
    }).catch(function () {
      say(form.getAttribute("data-offline"));
      if (!timer) timer = setTimeout(save, RETRY);
    }).then(function () {
      busy = false;
      if (again) { again = false; save(); }
    });
  }

  function changed() {
    keep();
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, DELAY);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  window.addEventListener("online", function () { if (store && store.getItem(key)) save(); });
  if (restore()) { say(form.getAttribute("data-restored")); save(); }
})();
