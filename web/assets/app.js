// Interlock's dashboard script. Every page works without it; it only adds:
//  - live updates: a deployment's page follows /api/deployments/{id}/events and re-reads the page's
//    live regions ([data-live]) from the server when the view changes; the list re-reads its own
//    every few seconds while visible. What a person typed, opened or focused survives the swap.
//  - local times for <time> elements, no double submits.
'use strict';

(() => {
  const body = document.body;
  const data = body.dataset;
  const FINISHED = ['Succeeded', 'Failed', 'Aborted', 'Cancelled'];

  function localizeTimes(root) {
    for (const time of root.querySelectorAll('time[datetime]')) {
      const date = new Date(time.getAttribute('datetime'));
      if (Number.isNaN(date.getTime())) continue;
      time.title = time.textContent;
      time.textContent = date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
    }
  }

  // The HTML each live region had when the server last sent it: what the next version is compared with.
  const served = new Map();
  for (const region of document.querySelectorAll('[data-live][id]')) served.set(region.id, region.outerHTML);

  function announce(text) {
    const status = document.getElementById('live-status');
    if (status && text) status.textContent = text;
  }

  function fieldKey(element) {
    return element.id || `${element.tagName}:${element.name || ''}:${element.textContent.trim()}`;
  }

  /** Replaces a region with its new HTML, keeping open <details>, typed values and focus. */
  function swap(current, html) {
    const template = document.createElement('template');
    template.innerHTML = html.trim();
    const next = template.content.firstElementChild;
    if (!next) return;
    const open = new Set([...current.querySelectorAll('details[open][id]')].map((details) => details.id));
    const typed = new Map();
    for (const field of current.querySelectorAll('textarea, input:not([type=hidden])')) {
      if (field.value !== field.defaultValue) typed.set(fieldKey(field), field.value);
    }
    const active = current.contains(document.activeElement) ? document.activeElement : null;
    const activeKey = active ? fieldKey(active) : null;
    const selection = active && 'selectionStart' in active ? [active.selectionStart, active.selectionEnd] : null;

    for (const details of next.querySelectorAll('details[id]')) if (open.has(details.id)) details.open = true;
    for (const field of next.querySelectorAll('textarea, input:not([type=hidden])')) {
      const value = typed.get(fieldKey(field));
      if (value !== undefined) field.value = value;
    }
    localizeTimes(next);
    current.replaceWith(next);
    enhance(next);

    if (activeKey) {
      const again = [...next.querySelectorAll('a, button, input, select, textarea, summary, [tabindex]')].find(
        (candidate) => fieldKey(candidate) === activeKey,
      );
      if (again) {
        again.focus({ preventScroll: true });
        if (selection && 'setSelectionRange' in again) again.setSelectionRange(selection[0], selection[1]);
      } else {
        // What had focus is gone (someone else acted): keep the reader in the same place.
        next.setAttribute('tabindex', '-1');
        next.focus({ preventScroll: true });
      }
    }
  }

  let fetching = false;
  let again = false;

  /** Re-reads the page and swaps every live region whose server HTML changed. */
  async function refresh() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      const response = await fetch(data.refresh, { headers: { Accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' });
      if (response.redirected && new URL(response.url).pathname === '/sign-in') return stop();
      // 410: a one-click link whose decision has been made; its page fills the same regions without the controls.
      if (!response.ok && response.status !== 400 && response.status !== 410) return;
      const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
      let changed = false;
      for (const region of doc.querySelectorAll('[data-live][id]')) {
        const html = region.outerHTML;
        if (served.get(region.id) === html) continue;
        const current = document.getElementById(region.id);
        served.set(region.id, html);
        if (!current) continue;
        swap(current, html);
        changed = true;
      }
      document.title = doc.title;
      const nextData = doc.body.dataset;
      if (nextData.version) data.version = nextData.version;
      if (nextData.finished) data.finished = nextData.finished;
      if (changed) {
        const outcome = document.getElementById('outcome');
        const assignee = document.getElementById('assignee');
        announce([outcome && outcome.textContent, assignee && assignee.textContent].filter(Boolean).join(' '));
      }
    } catch {
      // A dropped connection: the next event or tick tries again.
    } finally {
      fetching = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  }

  let source = null;
  let timer = null;

  function stop() {
    if (source) source.close();
    source = null;
    if (timer) clearInterval(timer);
    timer = null;
  }

  function poll(seconds) {
    if (timer) return;
    timer = setInterval(() => {
      if (!document.hidden) void refresh();
    }, seconds * 1000);
  }

  function follow() {
    if (!data.events || data.finished === 'true' || !('EventSource' in window)) return;
    source = new EventSource(data.events);
    // A deployment's page follows `deployment` events, a release's page `release` events.
    source.addEventListener(data.eventName || 'deployment', (event) => {
      let status = null;
      try {
        status = JSON.parse(event.data).status;
      } catch {
        // Not a view: refresh anyway.
      }
      const finished = FINISHED.includes(status);
      // The stream ends after a terminal status; closing here keeps EventSource from reconnecting.
      if (finished) stop();
      if (event.lastEventId && event.lastEventId === data.version) return;
      data.version = event.lastEventId;
      void refresh();
    });
    source.addEventListener('error', () => {
      // Closed for good (no such stream, signed out): fall back to re-reading now and then.
      if (source && source.readyState === EventSource.CLOSED) {
        source = null;
        if (data.finished !== 'true') poll(5);
      }
    });
  }

  function enhance(root) {
    for (const form of root.querySelectorAll('form[method=post]')) {
      form.addEventListener('submit', (event) => {
        if (form.dataset.submitting) return event.preventDefault();
        form.dataset.submitting = 'true';
        form.setAttribute('aria-busy', 'true');
      });
    }
  }

  window.addEventListener('pageshow', () => {
    for (const form of document.querySelectorAll('form[data-submitting]')) {
      delete form.dataset.submitting;
      form.removeAttribute('aria-busy');
    }
  });

  // A page rendered as the answer to a form (a refusal) reloads as the page itself, not as a re-post.
  if (data.refresh && location.pathname + location.search !== data.refresh) {
    history.replaceState(null, '', data.refresh + location.hash);
  }

  // Arriving from another site, SameSite=Strict keeps the cookie from that first request; a
  // same-site request sends it, so someone already signed in goes straight on.
  if (data.signIn) {
    fetch('/api/me', { credentials: 'same-origin' })
      .then((response) => {
        if (response.ok) location.replace(data.signIn);
      })
      .catch(() => undefined);
  }

  localizeTimes(document);
  enhance(document);
  follow();
  if (data.poll) poll(Number(data.poll) || 10);
})();
