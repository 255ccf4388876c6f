// ExplainLab participant pages: response timing, explanation visibility, one submit per page.
// Plain JavaScript, no dependencies. Everything here is an enhancement: without JS the
// forms still post and the server still records one answer per step.
(function () {
  "use strict";
  var loadedAt = performance.now();

  // A double click or Enter pressed twice sends one request: disable after the first.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var rt = form.querySelector("input[name=rt_ms]");
      if (rt) { rt.value = String(Math.round(performance.now() - loadedAt)); }
      var vis = form.querySelector("input[name=explanation_visible_ms]");
      if (vis) { vis.value = visibleMs() === null ? "" : String(Math.round(visibleMs())); }
      var submitter = event.submitter;
      setTimeout(function () {
        form.querySelectorAll("button[data-once]").forEach(function (b) { b.disabled = true; });
        if (submitter && submitter.name) {
          // Keep the clicked button's value, which a disabled button would not send.
          var keep = document.createElement("input");
          keep.type = "hidden"; keep.name = submitter.name; keep.value = submitter.value;
          form.appendChild(keep);
        }
      }, 0);
    });
  });

  // Time the explanation is on screen while the tab is visible.
  var figure = document.querySelector("figure.explanation");
  var shownSince = null, shownTotal = 0, everShown = false;
  function visibleMs() {
    if (!figure) { return null; }
    return shownTotal + (shownSince === null ? 0 : performance.now() - shownSince);
  }
  function setShown(on) {
    if (on && shownSince === null) { shownSince = performance.now(); everShown = true; }
    if (!on && shownSince !== null) { shownTotal += performance.now() - shownSince; shownSince = null; }
  }
  var inView = false;
  if (figure && "IntersectionObserver" in window) {
    new IntersectionObserver(function (entries) {
      inView = entries[0].isIntersecting;
      setShown(inView && !document.hidden);
      if (inView && everShown) { logEvent("explanation_shown", {}); }
    }, { threshold: 0.25 }).observe(figure);
  } else if (figure) { inView = true; setShown(true); }
  // Tab-leaving, a measure researchers exclude on: only a real change of visibility while
  // the page stays open. Leaving the page (an answer sent, a link followed) also hides it,
  // but pagehide comes first, so those are not counted as leaving the tab.
  var leaving = false, hiddenSince = null;
  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });
  document.addEventListener("visibilitychange", function () {
    setShown(inView && !document.hidden);
    if (leaving) { return; }
    if (document.hidden) {
      hiddenSince = performance.now();
      logEvent("page_hidden", {});
    } else {
      var away = hiddenSince === null ? null : Math.round(performance.now() - hiddenSince);
      hiddenSince = null;
      logEvent("page_visible", away === null ? {} : { hidden_ms: away });
    }
  });

  // Choices made on a page survive a refresh and a page the server sent back (an answer
  // missing): kept in this tab's sessionStorage under the page's identity, restored when the
  // same page comes back. Never sent as an answer: only the form's own submit does that.
  var pageId = draftKey();
  function draftKey() {
    var where = document.querySelector("[data-page]");
    var trial = document.querySelector("[data-trial]");
    var attempt = document.querySelector("input[name=attempt]");
    return ["explainlab-draft", window.location.pathname, where ? where.dataset.page : "",
            trial ? trial.dataset.trial + "/" + trial.dataset.step : "",
            attempt ? attempt.value : ""].join("|");
  }
  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && field.name !== "csrfmiddlewaretoken" && !field.disabled &&
        (field.type === "radio" || field.type === "checkbox" || field.type === "number" ||
         field.type === "text" || field.tagName === "TEXTAREA");
    });
  }
  function draftSave() {
    var saved = {};
    document.querySelectorAll("form").forEach(function (form) {
      draftFields(form).forEach(function (field) {
        if (field.type === "radio" || field.type === "checkbox") {
          if (field.checked) { saved[field.name] = field.value; }
        } else if (field.value !== "") { saved[field.name] = field.value; }
      });
    });
    try { sessionStorage.setItem(pageId, JSON.stringify(saved)); } catch (e) { /* full/off */ }
  }
  function draftRestore() {
    var saved;
    try { saved = JSON.parse(sessionStorage.getItem(pageId) || "{}"); } catch (e) { return; }
    document.querySelectorAll("form").forEach(function (form) {
      draftFields(form).forEach(function (field) {
        if (!Object.prototype.hasOwnProperty.call(saved, field.name)) { return; }
        if (field.type === "radio" || field.type === "checkbox") {
          if (field.value === saved[field.name]) { field.checked = true; }
        } else if (field.value === "") { field.value = saved[field.name]; }
      });
    });
  }
  draftRestore();
  document.addEventListener("change", draftSave);
  document.addEventListener("input", draftSave);

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  var logged = {};
  function logEvent(kind, detail) {
    var trial = document.querySelector("[data-trial]");
    var key = kind + (trial ? trial.dataset.trial : "");
    if (kind === "explanation_shown" && logged[key]) { return; }
    logged[key] = true;
    var slug = window.location.pathname.split("/")[2];
    var where = document.querySelector("[data-page]");
    var body = JSON.stringify({
      study: slug, kind: kind, page: where ? where.dataset.page : "",
      trial_index: trial ? Number(trial.dataset.trial) : null,
      client_ms: Math.round(performance.now()), detail: detail
    });
    if (!window.fetch) { return; }
    fetch("/api/events/", { method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() }, body: body })
      .catch(function () { /* logging must never block the participant */ });
  }
})();
