/* Runs kiungo/static/kiungo/report-draft.js against a tiny fake page (no browser, no network)
   and prints what happened as JSON. Scenario from argv[3]: "save", "offline", "restore",
   "stale". Used by test_draft_script.py. */
"use strict";
var fs = require("fs");
var vm = require("vm");

var scenario = process.argv[3];
var storage = {};
var posts = [];
var timers = [];
var listeners = {};

function field(name, value, type) {
  return {name: name, value: value, type: type || "textarea", checked: false};
}
var elements = [field("csrfmiddlewaretoken", "tok", "hidden"), field("section_security", "")];
var state = {textContent: ""};
var attrs = {
  "data-autosave-url": "/reports/7/autosave/",
  "data-storage-key": "kiungo-report-7",
  "data-stamp": "S1",
  "data-saving": "saving",
  "data-offline": "offline",
  "data-restored": "restored"
};
var form = {
  elements: elements,
  getAttribute: function (k) { return attrs[k]; },
  setAttribute: function (k, v) { attrs[k] = v; },
  addEventListener: function (ev, fn) { listeners[ev] = fn; }
};
if (scenario === "restore" || scenario === "stale") {
  storage["kiungo-report-7"] = JSON.stringify({
    stamp: scenario === "restore" ? "S1" : "S0",
    fields: {section_security: "typed offline"}
  });
}
var online = scenario !== "offline";
var sandbox = {
  document: {getElementById: function (id) { return id === "report-form" ? form : id === "save-state" ? state : null; }},
  window: {
    fetch: true, FormData: true,
    localStorage: {
      getItem: function (k) { return k in storage ? storage[k] : null; },
      setItem: function (k, v) { storage[k] = v; },
      removeItem: function (k) { delete storage[k]; }
    },
    addEventListener: function () {}
  },
  FormData: function (f) { this.values = {}; var self = this; f.elements.forEach(function (e) { self.values[e.name] = e.value; }); },
  fetch: function (url, options) {
    posts.push({url: url, body: options.body.values});
    if (!online) return Promise.reject(new Error("offline"));
    return Promise.resolve({ok: true, json: function () { return Promise.resolve({stamp: "S2", saved_label: "saved 12:00", warning: ""}); }});
  },
  setTimeout: function (fn, ms) { timers.push({fn: fn, ms: ms}); return timers.length; },
  clearTimeout: function (n) { if (timers[n - 1]) timers[n - 1].fn = null; },
  JSON: JSON, Array: Array
};
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(process.argv[2], "utf8"), sandbox);

function runTimers() {
  var pending = timers.slice(); timers.length = 0;
  pending.forEach(function (t) { if (t.fn) t.fn(); });
}

if (scenario === "save" || scenario === "offline") {
  elements[1].value = "Calme";
  listeners.input();
  var keptBeforeSave = storage["kiungo-report-7"] || null;
  runTimers();
  setImmediate(function () {
    setImmediate(function () {
      console.log(JSON.stringify({posts: posts, storage: storage, state: state.textContent,
        kept: keptBeforeSave, stamp: attrs["data-stamp"], retries: timers.length}));
    });
  });
} else {
  setImmediate(function () {
    setImmediate(function () {
      console.log(JSON.stringify({posts: posts, storage: storage, state: state.textContent,
        value: elements[1].value}));
    });
  });
}
