// runbook-router — the only script: live countdowns and timers. Every page works without it; this only keeps the
// relative times ticking ("escalates in 3m 12s", "running 2m of 5m") between page loads. No inline script (CSP).
(function () {
  'use strict';

  var root = document.documentElement;
  root.classList.add('js');
  var serverNow = Date.parse(root.getAttribute('data-now') || '');
  // Correct for a browser clock that is off: timers count from the server's idea of now.
  var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
  var now = function () { return Date.now() + skew; };
  var loadedAt = now();

  function pad(n) { return n < 10 ? '0' + n : String(n); }
  // Same shapes as the server's span(): 45s, 4m 05s, 12m, 1h 05m, 3d 4h.
  function span(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm' + (s % 60 && m < 10 ? ' ' + pad(s % 60) + 's' : '');
    var h = Math.floor(m / 60);
    if (h < 24) return h + 'h ' + pad(m % 60) + 'm';
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }

  var reloadScheduled = false;
  function reloadSoon() {
    // When an escalation deadline passes, show the new level — unless the responder is typing a note.
    if (reloadScheduled) return;
    reloadScheduled = true;
    setTimeout(function () {
      var note = document.getElementById('note-text');
      if (note && (note.value || document.activeElement === note)) { reloadScheduled = false; return; }
      window.location.reload();
    }, 4000);
  }

  function tick() {
    var t = now();
    var i, el, at;
    var countdowns = document.querySelectorAll('time[data-countdown]');
    for (i = 0; i < countdowns.length; i++) {
      el = countdowns[i];
      at = Date.parse(el.getAttribute('datetime'));
      if (isNaN(at)) continue;
      if (at > t) el.textContent = 'in ' + span(at - t);
      else {
        el.textContent = 'due now';
        // Only a deadline that passes while the page is open triggers a reload (never a loop when the tick lags).
        if (at > loadedAt && document.querySelector('.incident')) reloadSoon();
      }
    }
    var since = document.querySelectorAll('time[data-since]');
    for (i = 0; i < since.length; i++) {
      el = since[i];
      at = Date.parse(el.getAttribute('datetime'));
      if (!isNaN(at)) el.textContent = span(t - at);
    }
    var timers = document.querySelectorAll('[data-timer]');
    for (i = 0; i < timers.length; i++) {
      el = timers[i];
      at = Date.parse(el.getAttribute('data-started'));
      if (isNaN(at)) continue;
      var elapsed = t - at;
      var expected = parseInt(el.getAttribute('data-expected-ms'), 10);
      var max = parseInt(el.getAttribute('data-max-ms'), 10);
      var limit = isNaN(max) ? expected : max;
      var state = 'running';
      if (!isNaN(expected) && elapsed > limit) state = 'overrun';
      else if (!isNaN(expected) && elapsed > expected) state = 'over';
      el.className = 'timing t-' + state;
      var actual = el.querySelector('.timing-actual');
      if (actual) actual.textContent = 'running ' + span(elapsed);
      var note = el.querySelector('.timing-note');
      if (state !== 'running') {
        var text = state === 'overrun'
          ? 'over ' + (isNaN(max) ? 'the estimate' : 'the max') + ' by ' + span(elapsed - limit) + ' — consider escalating'
          : span(elapsed - expected) + ' over the estimate';
        if (!note) {
          note = document.createElement('span');
          note.className = 'timing-note';
          el.appendChild(note);
        }
        note.textContent = text;
      }
    }
  }

  // Drafts: every checkbox on a page submits a form, so ticking one (or acknowledging, or the reload after an escalation
  // deadline) navigates away and would throw away a half-typed note or a drill's gaps. Each text field's draft is kept
  // in this tab's sessionStorage (per page and field) and put back on the next load. Submitting its own form marks it
  // sent; it is dropped only when the service says the form was accepted (the rr_form_accepted cookie of its redirect).
  // A refused form (too long, the database down), a proxy's 502 or no answer at all keeps it for the next try.
  var DRAFT_FIELDS = 'form[method="post"] textarea[name], form[method="post"] input[type="text"][name]';
  function draftKey(field) {
    return 'rr-draft:' + window.location.pathname + ':' + (field.form.getAttribute('action') || '') + ':' + field.name;
  }
  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }
  function keepDrafts() {
    var store = storage();
    if (!store) return;
    var fields = document.querySelectorAll(DRAFT_FIELDS);
    for (var i = 0; i < fields.length; i++) {
      (function (field) {
        var key = draftKey(field);
        var saved = null;
        try { saved = store.getItem(key); } catch (e) { /* storage refused: drafts just are not kept */ }
        if (saved && !field.value) field.value = saved;
        field.addEventListener('input', function () {
          try {
            if (field.value) store.setItem(key, field.value);
            else store.removeItem(key);
          } catch (e) { /* full or refused */ }
        });
        field.form.addEventListener('submit', function () {
          try { if (store.getItem(key)) store.setItem(SENT + key, '1'); } catch (e) { /* refused */ }
        });
      })(fields[i]);
    }
  }

  var SENT = 'rr-draft-sent:';
  function settleSentDrafts() {
    var store = storage();
    if (!store) return;
    var accepted = /(?:^|;\s*)rr_form_accepted=1(?:;|$)/.test(document.cookie);
    if (accepted) document.cookie = 'rr_form_accepted=; Path=/; Max-Age=0; SameSite=Lax' + (window.location.protocol === 'https:' ? '; Secure' : '');
    try {
      var sent = [];
      for (var i = 0; i < store.length; i++) {
        var k = store.key(i);
        if (k && k.indexOf(SENT) === 0) sent.push(k);
      }
      for (var j = 0; j < sent.length; j++) {
        store.removeItem(sent[j]);
        if (accepted) store.removeItem(sent[j].slice(SENT.length));
      }
    } catch (e) { /* refused */ }
  }

  function start() {
    settleSentDrafts();
    keepDrafts();
    tick();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
  setInterval(tick, 1000);
})();
