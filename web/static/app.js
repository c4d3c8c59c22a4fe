// Digest Search: progressive enhancement over the server-rendered page.
// Results update while typing (debounced), the URL stays in sync so back/forward
// and shared links work, "/" focuses the search box and arrow keys move through results.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var DELAY = 250;
  var timer = null;
  var pending = null;
  var input = document.getElementById("q");
  var form = input && input.form;

  function region() { return document.getElementById("results-region"); }

  function urlFor(formEl) {
    var params = new URLSearchParams(new FormData(formEl));
    if (!params.get("q")) params.delete("q");
    var query = params.toString();
    return "/search" + (query ? "?" + query : "");
  }

  function swap(url, push) {
    if (pending) pending.abort();
    pending = new AbortController();
    return fetch(url, { signal: pending.signal, headers: { "Accept": "text/html" } })
      .then(function (res) { return res.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("results-region");
        var current = region();
        if (!fresh || !current) { window.location.href = url; return; }
        current.replaceWith(fresh);
        document.title = doc.title;
        var freshForm = doc.querySelector("form.searchform");
        if (form && freshForm) {
          form.querySelectorAll("input[type=hidden]").forEach(function (el) { el.remove(); });
          var button = form.querySelector("button");
          freshForm.querySelectorAll("input[type=hidden]").forEach(function (el) {
            form.insertBefore(document.importNode(el, true), button);
          });
        }
        if (push) history.pushState({ url: url }, "", url);
        else history.replaceState({ url: url }, "", url);
      })
      .catch(function (err) { if (err.name !== "AbortError") window.location.href = url; });
  }

  if (input && form && region()) {
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { swap(urlFor(form), false); }, DELAY);
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearTimeout(timer);
      swap(urlFor(form), true);
    });
    window.addEventListener("popstate", function () {
      var params = new URLSearchParams(window.location.search);
      input.value = params.get("q") || "";
      swap(window.location.pathname + window.location.search, false);
    });
  }

  document.addEventListener("change", function (ev) {
    var target = ev.target;
    if (target && target.id === "sort" && target.form) {
      if (region()) swap(urlFor(target.form), true); else target.form.submit();
    }
  });

  // Facet, pagination and chip links inside the results swap in place.
  document.addEventListener("click", function (ev) {
    var link = ev.target.closest && ev.target.closest("a[href^='/search']");
    if (!link || !region() || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return;
    ev.preventDefault();
    var url = link.getAttribute("href");
    swap(url, true).then(function () {
      var params = new URLSearchParams(url.split("?")[1] || "");
      if (input) input.value = params.get("q") || "";
    });
  });

  document.addEventListener("keydown", function (ev) {
    var active = document.activeElement;
    var typing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT");
    if (ev.key === "/" && !typing && input) {
      ev.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    if (typing && active !== input) return;
    var links = Array.prototype.slice.call(document.querySelectorAll(".hit-link"));
    if (!links.length) return;
    var index = links.indexOf(active);
    if (active === input && ev.key === "ArrowUp") return;
    ev.preventDefault();
    var next = ev.key === "ArrowDown" ? index + 1 : index - 1;
    if (next < 0) { input && input.focus(); return; }
    if (next >= links.length) next = links.length - 1;
    links[next].focus();
    document.querySelectorAll(".hit.selected").forEach(function (el) { el.classList.remove("selected"); });
    var hit = links[next].closest(".hit");
    if (hit) hit.classList.add("selected");
  });
})();
