/* The privacy pipeline's script for the Great Expectations Data Docs, packaged and served
   from the same folder as the pages (GE loads jQuery, Bootstrap and Bootstrap-Table from
   CDNs; those references are removed). It gives GE's inline scripts the few jQuery calls
   they make (the "Failed only" filter, collapsible sections) and ignores the rest. */
(function () {
  "use strict";
  function wrap(elements) {
    var list = Array.prototype.slice.call(elements).filter(Boolean);
    var api = {
      length: list.length,
      each: function (fn) { list.forEach(function (el, i) { fn(i, el); }); return api; },
      parent: function () { return wrap(list.map(function (el) { return el.parentElement; })); },
      fadeIn: function () { list.forEach(function (el) { el.style.display = ""; }); return api; },
      fadeOut: function () { list.forEach(function (el) { el.style.display = "none"; }); return api; },
      removeClass: function (name) { list.forEach(function (el) { el.classList.remove(name); }); return api; },
      on: function () { return api; },
      modal: function () { return api; },
      bootstrapTable: function () { return api; },
      ready: function (fn) {
        if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
        return api;
      }
    };
    return api;
  }
  window.$ = window.jQuery = function (selector) {
    if (typeof selector === "function") { return wrap([document]).ready(selector); }
    if (typeof selector !== "string") { return wrap([selector]); }
    try { return wrap(document.querySelectorAll(selector)); } catch (e) { return wrap([]); }
  };
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest('[data-toggle="collapse"]');
    if (toggle) {
      var target = document.querySelector(toggle.getAttribute("href") || toggle.getAttribute("data-target"));
      if (target) { target.classList.toggle("show"); event.preventDefault(); }
    }
    var label = event.target.closest && event.target.closest(".btn-group-toggle .btn");
    if (label) {
      label.parentElement.querySelectorAll(".btn").forEach(function (b) { b.classList.remove("active"); });
      label.classList.add("active");
    }
  });
})();
