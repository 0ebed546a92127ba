// The Ledgerwhisk dashboard: one namespace, read with its own key through the
// API (activations, the live event stream, the invokers), drawn with uPlot.
'use strict';

(() => {
  const NS = '/api/v1/namespaces/_';
  const WINDOW_S = 60; // the rates chart's span
  const TAIL_ROWS = 200;
  const KEY = 'ledgerwhisk-key';
  const $ = (id) => document.getElementById(id);

  let auth = null;
  let streamAbort = null;
  const actions = new Map(); // action -> {count, errors, durations: [], cold}
  const perSecond = new Map(); // epoch second -> {all, errors}
  const counted = new Set(); // activation ids already in the statistics
  const names = new Map(); // activation id -> action, from its accepted event (for started)
  let chart = null;
  let timers = [];

  async function call(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { Authorization: auth, Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let json = null;
    try {
      json = await response.json();
    } catch (err) {
      json = null;
    }
    return { status: response.status, body: json };
  }

  // -- logging in ------------------------------------------------------------
  async function logIn(key) {
    auth = 'Basic ' + btoa(key);
    const answer = await call('GET', '/api/v1/namespaces');
    if (answer.status !== 200) {
      auth = null;
      $('login-error').textContent = (answer.body && answer.body.error) || 'HTTP ' + answer.status;
      return;
    }
    sessionStorage.setItem(KEY, key);
    $('who').textContent = 'namespace ' + answer.body[0];
    $('login').hidden = true;
    $('board').hidden = false;
    $('logout').hidden = false;
    start();
  }

  function logOut() {
    sessionStorage.removeItem(KEY);
    if (streamAbort) streamAbort.abort();
    timers.forEach(clearInterval);
    location.reload();
  }

  // -- statistics ------------------------------------------------------------
  function annotation(annotations, key) {
    const found = (annotations || []).find((a) => a.key === key);
    return found ? found.value : undefined;
  }

  function count(id, action, ok, durationMs, initMs, endMs) {
    if (counted.has(id)) return;
    counted.add(id);
    const stats = actions.get(action) || { count: 0, errors: 0, durations: [], cold: 0 };
    stats.count += 1;
    if (!ok) stats.errors += 1;
    if (initMs) stats.cold += 1;
    stats.durations.push(durationMs);
    actions.set(action, stats);
    const second = Math.floor(endMs / 1000);
    const bucket = perSecond.get(second) || { all: 0, errors: 0 };
    bucket.all += 1;
    if (!ok) bucket.errors += 1;
    perSecond.set(second, bucket);
  }

  function quantile(values, q) {
    if (!values.length) return '';
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  }

  function drawActions() {
    const body = $('actions').tBodies[0];
    body.replaceChildren(
      ...[...actions.entries()].sort().map(([name, s]) => {
        const row = document.createElement('tr');
        row.dataset.action = name;
        for (const value of [name, s.count, s.errors, quantile(s.durations, 0.5), quantile(s.durations, 0.99), s.cold]) {
          const cell = document.createElement('td');
          cell.textContent = value;
          row.appendChild(cell);
        }
        return row;
      }),
    );
  }

  function drawRates() {
    const now = Math.floor(Date.now() / 1000);
    const xs = [];
    const all = [];
    const errors = [];
    for (let s = now - WINDOW_S; s <= now; s++) {
      const bucket = perSecond.get(s) || { all: 0, errors: 0 };
      xs.push(s);
      all.push(bucket.all);
      errors.push(bucket.errors);
    }
    for (const s of perSecond.keys()) if (s < now - WINDOW_S) perSecond.delete(s);
    const data = [xs, all, errors];
    if (chart === null) {
      chart = new uPlot(
        {
          width: $('rates-panel').clientWidth - 30,
          height: 180,
          series: [{}, { label: 'completed', stroke: '#2e86c1' }, { label: 'errors', stroke: '#c0392b' }],
          scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
        },
        data,
        $('rates'),
      );
    } else {
      chart.setData(data);
    }
  }

  async function drawInvokers() {
    const answer = await call('GET', '/dashboard/invokers');
    if (answer.status !== 200) return;
    $('invokers').tBodies[0].replaceChildren(
      ...answer.body.map((inv) => {
        const row = document.createElement('tr');
        // Containers by state, zeros left out: "busy 1 · warm 2 · stem cell 1".
        const containers = Object.entries(inv.containers || {})
          .filter(([, n]) => n > 0)
          .map(([state, n]) => `${state.replace('_', ' ')} ${n}`)
          .join(' · ') || 'none';
        const cells = [inv.id, inv.state, `${inv.usedMB} / ${inv.memoryMB}`, inv.inFlight, inv.queued, containers];
        for (const value of cells) {
          const cell = document.createElement('td');
          cell.textContent = value;
          row.appendChild(cell);
        }
        return row;
      }),
    );
  }

  async function loadHistory() {
    const answer = await call('GET', NS + '/activations?docs=true&limit=100');
    if (answer.status !== 200) return;
    for (const record of answer.body) {
      const path = annotation(record.annotations, 'path') || record.name;
      if (annotation(record.annotations, 'kind') === 'sequence') continue;
      const ok = record.response && record.response.status === 'success';
      count(record.activationId, path.split('/').slice(1).join('/') || path, ok, record.duration || 0,
        annotation(record.annotations, 'initTime'), record.end || record.start);
    }
  }

  // -- the live tail -----------------------------------------------------------
  function onEvent(view) {
    const f = view.fields;
    const type = view.type.replace('activation.', '');
    const head = type === 'completed' ? f.head : f;
    const action = head && head.action ? head.action.split('/').slice(1).join('/') : names.get(view.activationId) || '';
    if (type === 'accepted') names.set(view.activationId, action);
    if (type === 'completed') names.delete(view.activationId);
    let status = '';
    let ms = '';
    if (type === 'completed') {
      const ok = f.response.status_code === 0;
      status = ok ? 'success' : ['success', 'application error', 'developer error', 'whisk error'][f.response.status_code] || 'error';
      ms = f.duration_ms;
      if (head && head.kind !== 'sequence' && head.kind !== 'trigger') {
        count(view.activationId, action, ok, f.duration_ms, annotation(f.annotations, 'initTime'), f.end_ms);
      }
    }
    const row = document.createElement('tr');
    row.dataset.activation = view.activationId;
    row.dataset.type = type;
    for (const value of [view.time.slice(11, 23), view.activationId, action, type, status, ms]) {
      const cell = document.createElement('td');
      cell.textContent = value;
      row.appendChild(cell);
    }
    if (status) row.cells[4].className = status === 'success' ? 'status-success' : 'status-error';
    row.addEventListener('click', () => openTimeline(view.activationId));
    const body = $('tail').tBodies[0];
    body.insertBefore(row, body.firstChild);
    while (body.rows.length > TAIL_ROWS) body.deleteRow(body.rows.length - 1);
  }

  function handleBlock(block) {
    let data = '';
    let event = 'message';
    for (const line of block.split('\n')) {
      if (line.startsWith('data:')) data += line.slice(5).trimStart();
      else if (line.startsWith('event:')) event = line.slice(6).trim();
    }
    if (!data || event === 'error') return;
    onEvent(JSON.parse(data));
  }

  // EventSource sends no Authorization header: the stream is read with fetch.
  async function follow() {
    for (;;) {
      streamAbort = new AbortController();
      try {
        const response = await fetch(NS + '/events', {
          headers: { Authorization: auth, Accept: 'text/event-stream' },
          signal: streamAbort.signal,
        });
        $('tail-state').textContent = response.status === 200 ? '(live)' : '(HTTP ' + response.status + ')';
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            handleBlock(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch (err) {
        if (streamAbort.signal.aborted) return;
      }
      $('tail-state').textContent = '(reconnecting)';
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  // -- one activation's timeline --------------------------------------------------
  async function openTimeline(id) {
    const answer = await call('GET', `${NS}/activations/${id}/events`);
    $('timeline-panel').hidden = false;
    $('timeline-id').textContent = id;
    $('rerun-result').textContent = '';
    const trail = $('trail');
    const bar = $('timeline');
    trail.replaceChildren();
    bar.replaceChildren();
    if (answer.status !== 200) {
      trail.textContent = (answer.body && answer.body.error) || 'HTTP ' + answer.status;
      return;
    }
    const events = answer.body;
    const t0 = events.length ? events[0].at_ms : 0;
    for (const view of events) {
      const item = document.createElement('li');
      item.dataset.type = view.type;
      item.textContent = `+${view.at_ms - t0} ms  ${view.type.replace('activation.', '')}  (${view.fields.source})`;
      trail.appendChild(item);
    }
    const done = events.find((e) => e.type === 'activation.completed');
    const started = events.find((e) => e.type === 'activation.started');
    if (!done) return;
    const f = done.fields;
    const wait = annotation(f.annotations, 'waitTime') ?? (started ? started.at_ms - t0 : 0);
    const init = annotation(f.annotations, 'initTime') || 0;
    const run = Math.max(0, f.duration_ms - init);
    for (const [name, ms] of [['wait', wait], ['init', init], ['run', run]]) {
      if (!ms && name !== 'run') continue;
      const segment = document.createElement('div');
      segment.className = 'seg-' + name;
      segment.style.flexGrow = String(Math.max(ms, 1));
      segment.title = `${name} ${ms} ms`;
      segment.textContent = `${name} ${ms} ms`;
      bar.appendChild(segment);
    }
  }

  async function rerun() {
    const id = $('timeline-id').textContent;
    const answer = await call('POST', `${NS}/activations/${id}/rerun`);
    $('rerun-result').textContent =
      answer.status === 202 ? 're-run as ' + answer.body.activationId : (answer.body && answer.body.error) || 'HTTP ' + answer.status;
  }

  function start() {
    loadHistory().then(drawActions);
    follow();
    drawRates();
    drawInvokers();
    timers = [
      setInterval(() => {
        drawRates();
        drawActions();
      }, 1000),
      setInterval(drawInvokers, 2000),
    ];
  }

  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    logIn($('key').value.trim());
  });
  $('logout').addEventListener('click', logOut);
  $('rerun').addEventListener('click', rerun);
  const saved = sessionStorage.getItem(KEY);
  if (saved) logIn(saved);
})();
