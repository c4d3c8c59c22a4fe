// Digest Search: progressive enhancement over the server-rendered page.
// Results update while typing (debounced), the URL stays in sync so back/forward
// and shared links work, "/" focuses the search box and arrow keys move through results.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var DELAY = 250;
  var timer = null;
  var pending = null;
  var typedEntry = false; // the current history entry was made by typing
  var shown = window.location.pathname + window.location.search; // the search on screen
  var input = document.getElementById("q");
  var form = input && input.form;
  var narrow = window.matchMedia("(max-width: 760px)");

  function region() { return document.getElementById("results-region"); }

  function urlFor(formEl) {
    var params = new URLSearchParams(new FormData(formEl));
    if (!params.get("q")) params.delete("q");
    var query = params.toString();
    return "/search" + (query ? "?" + query : "");
  }

  // On a phone the filters start folded above the results; elsewhere they are always open.
  function fold(root, open) {
    var panel = root && root.querySelector(".facet-panel");
    if (panel) panel.open = !narrow.matches || !!open;
  }

  function focusKey() {
    var el = document.activeElement;
    var r = region();
    if (!el || !r || !r.contains(el)) return null;
    return el.getAttribute("data-k") ? "[data-k=\"" + CSS.escape(el.getAttribute("data-k")) + "\"]"
      : el.id ? "#" + CSS.escape(el.id) : "#summary";
  }

  // Fetch the page for url and put its results in place; how: "push", "replace" or "type".
  function swap(url, how) {
    if (pending) pending.abort();
    var controller = pending = new AbortController();
    var current = region();
    var key = focusKey();
    var panel = current && current.querySelector(".facet-panel");
    var wasOpen = panel && panel.open;
    if (current) current.setAttribute("aria-busy", "true");
    return fetch(url, { signal: controller.signal, headers: { "Accept": "text/html" } })
      .then(function (res) {
        if (res.status >= 500) throw new Error(res.status);
        return res.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("results-region");
        current = region();
        if (!fresh || !current) { window.location.href = url; return; }
        // A result chosen with the arrow keys while these results were on their way
        // stays chosen: the same place in the fresh list gets the focus.
        var chosen = Array.prototype.indexOf.call(current.querySelectorAll(".hit-link"), document.activeElement);
        fold(fresh, wasOpen);
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
        var lang = document.querySelector("a.langswitch");
        var freshLang = doc.querySelector("a.langswitch");
        if (lang && freshLang) lang.setAttribute("href", freshLang.getAttribute("href"));
        // The feed a reader's browser or extension offers follows the search shown.
        var feedLink = 'link[rel="alternate"][type="application/atom+xml"]';
        document.head.querySelectorAll(feedLink).forEach(function (el) { el.remove(); });
        doc.head.querySelectorAll(feedLink).forEach(function (el) {
          document.head.appendChild(document.importNode(el, true));
        });
        var summary = fresh.querySelector("#summary");
        var live = document.getElementById("live");
        if (live && summary) live.textContent = summary.textContent.replace(/\s+/g, " ").trim();
        var same = new URL(url, window.location.href).href === window.location.href;
        if (how === "push" && !same || how === "type" && !typedEntry) {
          history.pushState({ url: url }, "", url);
        } else {
          history.replaceState({ url: url }, "", url);
        }
        typedEntry = how === "type";
        shown = window.location.pathname + window.location.search;
        var freshLinks = fresh.querySelectorAll(".hit-link");
        if (chosen >= 0 && freshLinks.length) {
          var link = freshLinks[Math.min(chosen, freshLinks.length - 1)];
          link.focus();
          link.closest(".hit").classList.add("selected");
        } else if (key) (fresh.querySelector(key) || summary || fresh).focus();
      })
      .catch(function (err) { if (err.name !== "AbortError") window.location.href = url; });
  }

  if (input && form && region()) {
    fold(region(), false);
    narrow.addEventListener("change", function () { fold(region(), false); });
    var schedule = function (ev) {
      if (ev.isComposing) return; // wait for the IME to finish the characters
      clearTimeout(timer);
      timer = setTimeout(function () { swap(urlFor(form), "type"); }, DELAY);
    };
    input.addEventListener("input", schedule);
    input.addEventListener("compositionend", schedule);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearTimeout(timer);
      swap(urlFor(form), "push");
    });
    window.addEventListener("popstate", function () {
      var url = window.location.pathname + window.location.search;
      if (url === shown) return; // only the #fragment changed (the skip link)
      var params = new URLSearchParams(window.location.search);
      input.value = params.get("q") || "";
      typedEntry = false;
      swap(url, "replace");
    });

    // Forms and links inside the results (filters, sort, chips, pages) swap in place.
    document.addEventListener("submit", function (ev) {
      var r = region();
      if (!r || !r.contains(ev.target)) return;
      ev.preventDefault();
      swap(urlFor(ev.target), "push");
    });
    document.addEventListener("change", function (ev) {
      if (ev.target && ev.target.id === "sort") swap(urlFor(ev.target.form), "push");
    });
    document.addEventListener("click", function (ev) {
      var link = ev.target.closest && ev.target.closest("a[href^='/search']");
      var r = region();
      if (!link || !r || !r.contains(link) || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey || ev.button !== 0) return;
      ev.preventDefault();
      link.focus(); // so the same control (or the result count) has focus afterwards
      var url = link.getAttribute("href");
      input.value = new URLSearchParams(url.split("?")[1] || "").get("q") || "";
      swap(url, "push");
    });
  }

  // Coming back from a document returns to the exact search (filters, page) it was opened from.
  var back = document.querySelector(".document .back a");
  if (back && document.referrer) {
    var from = new URL(document.referrer);
    if (from.origin === window.location.origin && /^\/(search)?$/.test(from.pathname) && history.length > 1) {
      back.addEventListener("click", function (ev) { ev.preventDefault(); history.back(); });
    }
  }

  document.addEventListener("keydown", function (ev) {
    var active = document.activeElement;
    var typing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT");
    if (ev.key === "/" && !typing && input && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
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
    if (index < 0 && active !== input) return; // arrows scroll the page as usual elsewhere
    ev.preventDefault();
    var next = ev.key === "ArrowDown" ? index + 1 : index - 1;
    document.querySelectorAll(".hit.selected").forEach(function (el) { el.classList.remove("selected"); });
    if (next < 0) { input.focus(); return; }
    if (next >= links.length) next = links.length - 1;
    links[next].focus();
    links[next].closest(".hit").classList.add("selected");
  });
  document.addEventListener("focusout", function (ev) {
    var hit = ev.target.closest && ev.target.closest(".hit.selected");
    if (hit && !hit.contains(ev.relatedTarget)) hit.classList.remove("selected");
  });
})();
