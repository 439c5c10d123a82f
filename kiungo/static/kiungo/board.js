/* Kiungo incident board: keep the table current without reloading the page.
   Every 0.75 s while the tab is visible, ask for a tiny stamp; fetch the table only when it
   changed. Ages tick locally from the server's own figures (a phone's clock may be wrong). */
(function () {
  "use strict";
  var ages = document.getElementById("board-ages");
  var board = document.getElementById("board");
  if (!ages || !board || !window.fetch) return;
  var POLL = 750, TICK = 30000;
  var loadedAt = Date.now(), busy = false;

  function get(url) {
    return fetch(url, {credentials: "same-origin", cache: "no-store"}).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r;
    });
  }

  function swap() {
    return get(board.getAttribute("data-fragment-url")).then(function (r) {
      return r.text();
    }).then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var fresh = holder.querySelector("#board");
      if (!fresh) return;
      board.parentNode.replaceChild(fresh, board);
      board = fresh;
      loadedAt = Date.now();
    });
  }

  function poll() {
    if (busy || document.visibilityState !== "visible") return;
    busy = true;
    get(board.getAttribute("data-stamp-url")).then(function (r) {
      return r.json();
    }).then(function (data) {
      if (data.stamp && data.stamp !== board.getAttribute("data-stamp")) return swap();
    }).catch(function () { /* offline or signed out: try again next time */ })
      .then(function () { busy = false; });
  }

  function say(template, n) { return template.replace("%(n)d", n); }

  function tick() {
    var elapsed = (Date.now() - loadedAt) / 1000;
    var times = board.querySelectorAll("time[data-age]");
    for (var i = 0; i < times.length; i++) {
      var minutes = Math.floor((+times[i].getAttribute("data-age") + elapsed) / 60);
      var hours = Math.floor(minutes / 60);
      times[i].textContent = minutes < 60 ? say(ages.getAttribute("data-min"), minutes)
        : hours < 48 ? say(ages.getAttribute("data-hours"), hours)
        : say(ages.getAttribute("data-days"), Math.floor(hours / 24));
    }
  }

  setInterval(poll, POLL);
  setInterval(tick, TICK);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { poll(); tick(); }
  });
})();
