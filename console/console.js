/* global document, window, fetch, sessionStorage, FileReader, uPlot, URL */
// The operator console: plain browser JavaScript over the management API (no build step, no CDN).
// Every number on the page comes from an API response; views poll while they are shown.
'use strict';

const POLL_MS = 3000;
const API = new URL('..', window.location.href).pathname.replace(/\/$/, ''); // /api
const $ = (selector) => document.querySelector(selector);
let timer;
let charts = [];
const engagementIds = [];

function keyFor(admin) {
  const id = admin ? 'admin-key' : 'function-key';
  return $(`#${id}`).value || sessionStorage.getItem(id) || '';
}
for (const id of ['function-key', 'admin-key']) {
  $(`#${id}`).value = sessionStorage.getItem(id) || '';
  $(`#${id}`).addEventListener('change', (e) => sessionStorage.setItem(id, e.target.value));
}

async function api(path, { method = 'GET', body, contentType = 'application/json', admin = false } = {}) {
  const headers = { accept: 'application/json' };
  const key = keyFor(admin);
  if (key) headers['x-functions-key'] = key;
  if (body !== undefined) headers['content-type'] = contentType;
  const response = await fetch(`${API}/${path}`, { method, headers, body });
  const text = await response.text();
  const json = text ? JSON.parse(text) : {};
  if (!response.ok) {
    const issues = (json.issues || []).map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new Error(`${response.status} ${json.message || response.statusText}${issues ? ` (${issues})` : ''}`);
  }
  return json;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-') || k === 'href' || k === 'scope' || k === 'role') node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) node.append(child instanceof window.Node ? child : String(child ?? ''));
  return node;
}

function say(text, isError = false) {
  const m = $('#message');
  m.textContent = text;
  m.className = isError ? 'error' : '';
}

const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const num = (x, digits = 1) => (x === null || x === undefined ? '–' : Number(x).toFixed(digits));

function stamp() {
  $('#updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

// ---- Overview --------------------------------------------------------------------------------
async function showOverview() {
  const data = await api('engagements');
  engagementIds.splice(0, engagementIds.length, ...data.engagements.map((e) => e.engagementId));
  fillEngagementSelects();
  const body = $('#engagements tbody');
  body.replaceChildren(
    ...data.engagements.map((e) => {
      const ended = Object.values(e.counts.resultsLast24h).reduce((a, b) => a + b, 0);
      const results = Object.entries(e.counts.resultsLast24h)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return el(
        'tr',
        { 'data-engagement': e.engagementId },
        el(
          'th',
          { scope: 'row' },
          el('a', { href: `#engagement/${encodeURIComponent(e.engagementId)}` }, e.name),
          el('br'),
          el('small', {}, `${e.dialMode}, ${e.priority}, queue ${e.queue}`),
        ),
        el('td', { class: `state-${e.state.status}`, 'data-field': 'state' }, e.state.status, e.state.reason ? el('small', {}, el('br'), e.state.reason) : ''),
        el('td', { class: 'num', 'data-field': 'queued' }, `${e.counts.queued}${e.counts.queuedAtLeast ? '+' : ''}`),
        el('td', { class: 'num', 'data-field': 'callableNow' }, e.counts.callableNow),
        el('td', { class: 'num', 'data-field': 'inFlight' }, e.counts.inFlight.dialing + e.counts.inFlight.submitted),
        el('td', { class: 'num', 'data-field': 'ended' }, ended),
        el('td', { 'data-field': 'results' }, results || 'none yet'),
      );
    }),
  );
  $('#queues tbody').replaceChildren(
    ...data.queues.map((q) =>
      el(
        'tr',
        { 'data-queue': q.queue },
        el('th', { scope: 'row' }, q.queue),
        el('td', {}, q.engagements.map((e) => `${e.engagementId} (${e.priority}, ${e.status})`).join('; ')),
        el('td', { 'data-field': 'winner' }, q.winner ?? 'none'),
        el('td', {}, q.why),
      ),
    ),
  );
}

function fillEngagementSelects() {
  for (const id of ['#preview-engagement', '#what-if-engagement']) {
    const select = $(id);
    if (select.options.length === engagementIds.length) continue;
    select.replaceChildren(...engagementIds.map((e) => el('option', { value: e }, e)));
  }
}

// ---- One engagement --------------------------------------------------------------------------
const SERIES = [
  { key: 'dials', label: 'Dials per minute' },
  { key: 'pacingRate', label: 'Pacing rate (lines per representative)' },
  { key: 'occupancy', label: 'Occupancy', scale: 100, unit: '%' },
  { key: 'abandonmentPercent', label: 'Abandonment % (15 min)', unit: '%' },
  { key: 'averageWaitSeconds', label: 'Average wait, s (15 min)' },
  { key: 'failurePercent', label: 'Agent failure % (15 min)', unit: '%' },
];

function drawCharts(metrics) {
  const container = $('#charts');
  const xs = metrics.points.map((p) => Date.parse(p.minute) / 1000);
  const width = Math.max(360, Math.min(620, container.clientWidth / 2 - 20));
  if (charts.length === 0) {
    container.replaceChildren();
    charts = SERIES.map((s) => {
      const threshold = metrics.thresholds[s.key];
      const figure = el('figure', { class: 'chart', 'data-chart': s.key, role: 'img' }, el('h4', {}, s.label));
      figure.setAttribute('aria-label', `${s.label} over the last hour${threshold === undefined ? '' : `, rule threshold ${threshold}`}`);
      container.append(figure);
      const series = [{}, { label: s.label, stroke: '#0b5394', width: 2, spanGaps: true }];
      if (threshold !== undefined) series.push({ label: `threshold ${threshold}`, stroke: '#a11', dash: [6, 4], width: 1 });
      return {
        s,
        threshold,
        plot: new uPlot(
          { width, height: 180, series, axes: [{}, { size: 50 }] },
          series.map(() => []),
          figure,
        ),
      };
    });
  }
  for (const c of charts) {
    const ys = metrics.points.map((p) => (p[c.s.key] === null ? null : p[c.s.key] * (c.s.scale ?? 1)));
    const data = [xs, ys];
    if (c.threshold !== undefined) data.push(xs.map(() => c.threshold));
    c.plot.setData(data);
    c.plot.root.parentElement.dataset.points = String(ys.filter((y) => y !== null).length);
  }
}

async function showEngagement(id) {
  const [status, metrics, settings] = await Promise.all([
    api(`engagements/${encodeURIComponent(id)}/status`),
    api(`engagements/${encodeURIComponent(id)}/metrics?minutes=60`),
    $('#settings').dataset.id === id ? Promise.resolve(undefined) : api(`engagements/${encodeURIComponent(id)}/settings`),
  ]);
  $('#h-engagement').textContent = status.name;
  const facts = [
    ['State', `${status.state.status}${status.state.reason ? ` — ${status.state.reason}` : ''}`, 'state'],
    ['Since', status.state.since ?? '–', 'since'],
    ['Queued', status.counts.queued, 'queued'],
    ['Callable now', status.counts.callableNow, 'callableNow'],
    ['In flight', `${status.counts.inFlight.dialing} dialing, ${status.counts.inFlight.submitted} with the dialer`, 'inFlight'],
    [
      'Last hour',
      `${status.rates.lastHour.dialed} dialed, abandonment ${pct(status.rates.lastHour.abandonmentRate)}, wait ${num(status.rates.lastHour.averageWaitSeconds)} s`,
      'lastHour',
    ],
    ['Occupancy', pct(status.occupancy), 'occupancy'],
  ];
  $('#engagement-state').replaceChildren(...facts.flatMap(([k, v, f]) => [el('dt', {}, k), el('dd', { 'data-field': f }, v)]));
  drawCharts(metrics);
  $('#decisions tbody').replaceChildren(
    ...status.recentDecisions.map((d) =>
      el(
        'tr',
        {},
        el('td', {}, new Date(d.at).toLocaleTimeString()),
        el('td', {}, d.status),
        el('td', { class: 'num' }, d.dialNow),
        el('td', {}, d.boundBy),
        el('td', {}, d.explanation ?? d.reason ?? ''),
      ),
    ),
  );
  if (settings !== undefined) {
    $('#settings').textContent = JSON.stringify(settings, null, 2);
    $('#settings').dataset.id = id;
  }
}

async function act(action) {
  const id = window.location.hash.split('/')[1];
  const reason = $('#action-reason').value;
  const body = action === 'cancel-queued' ? JSON.stringify({ all: true }) : JSON.stringify({ reason });
  if (action === 'cancel-queued' && !window.confirm('Cancel every queued delivery of this engagement?')) return;
  try {
    const result = await api(`engagements/${id}/${action}`, { method: 'POST', body, admin: true });
    say(`${action}: ${JSON.stringify(result)}`);
    await refresh();
  } catch (error) {
    say(`${action} failed: ${error.message}`, true);
  }
}
document.querySelectorAll('[data-action]').forEach((b) => b.addEventListener('click', () => void act(b.dataset.action)));

// ---- Compliance preview ----------------------------------------------------------------------
function csvToContacts(text) {
  const rows = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const split = (line) =>
    line
      .match(/("([^"]|"")*"|[^,]*)(,|$)/g)
      .slice(0, -1)
      .map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"').trim());
  const header = split(rows[0] || '').map((h) => h.toLowerCase());
  return rows.slice(1).map((line) => {
    const cells = split(line);
    const get = (name) => {
      const i = header.indexOf(name.toLowerCase());
      return i < 0 || cells[i] === '' ? undefined : cells[i];
    };
    const phones = {};
    for (const type of ['mobile', 'home', 'business']) if (get(type)) phones[type] = get(type);
    const contact = { contactId: get('contactId'), firstName: get('firstName'), lastName: get('lastName'), phones, timeZone: get('timeZone') };
    if (get('windowStart') && get('windowEnd')) contact.windows = [{ start: get('windowStart'), end: get('windowEnd') }];
    return contact;
  });
}

$('#preview-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const file = $('#preview-file').files[0];
  const id = $('#preview-engagement').value;
  const reader = new FileReader();
  reader.onload = async () => {
    const text = String(reader.result);
    const isCsv = /\.csv$/i.test(file.name) || file.type === 'text/csv';
    const body = isCsv
      ? csvToContacts(text)
          .map((c) => JSON.stringify(c))
          .join('\n')
      : text;
    try {
      const result = await api(`engagements/${encodeURIComponent(id)}/preview`, { method: 'POST', body, contentType: 'application/x-ndjson' });
      renderPreview(result);
    } catch (error) {
      $('#preview-result').replaceChildren(el('p', { class: 'error', role: 'alert' }, error.message));
    }
  };
  reader.readAsText(file);
});

function renderPreview(r) {
  const skipped = Object.entries(r.skipped).filter(([, n]) => n > 0);
  const byHour = r.scheduleByTimeZone ?? r.schedule.map((s) => ({ ...s, timeZone: 'all' }));
  $('#preview-result').replaceChildren(
    el('p', { 'data-field': 'summary' }, `${r.received} contacts: ${r.wouldCall} would be called, ${r.received - r.wouldCall} skipped.`),
    el(
      'table',
      { id: 'preview-skips' },
      el('caption', {}, 'Skipped, by rule'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Reason'), el('th', { scope: 'col' }, 'Contacts'), el('th', { scope: 'col' }, 'Examples'))),
      el(
        'tbody',
        {},
        ...(skipped.length === 0
          ? [el('tr', {}, el('td', {}, 'none'), el('td', {}, '0'), el('td', {}, ''))]
          : skipped.map(([reason, n]) =>
              el(
                'tr',
                { 'data-reason': reason },
                el('th', { scope: 'row' }, reason),
                el('td', { class: 'num' }, n),
                el('td', {}, (r.skippedExamples[reason] || []).join(', ')),
              ),
            )),
      ),
    ),
    el(
      'table',
      { id: 'preview-schedule' },
      el('caption', {}, 'Calls by the hour their first window opens (UTC), per time zone'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Hour (UTC)'), el('th', { scope: 'col' }, 'Time zone'), el('th', { scope: 'col' }, 'Contacts'))),
      el('tbody', {}, ...byHour.map((s) => el('tr', {}, el('td', {}, s.hour), el('td', {}, s.timeZone), el('td', { class: 'num' }, s.contacts)))),
    ),
  );
}

// ---- What-if ---------------------------------------------------------------------------------
$('#what-if-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const id = $('#what-if-engagement').value;
  const scenarios = [];
  for (const fs of document.querySelectorAll('#what-if-form fieldset')) {
    const field = (n) => fs.querySelector(`[name="${n}"]`);
    if (field('enabled') && !field('enabled').checked) continue;
    const scenario = {
      label: fs.querySelector('legend').textContent.replace(/ \(optional\)/, ''),
      profile: {
        representatives: Number(field('representatives').value),
        liveAnswerRate: Number(field('liveAnswerRate').value),
        handleSeconds: Number(field('handleSeconds').value),
        listSize: Number(field('listSize').value),
      },
    };
    const mode = field('dialMode').value.trim();
    try {
      if (mode !== '') scenario.dialMode = JSON.parse(mode);
    } catch {
      $('#what-if-result').replaceChildren(el('p', { class: 'error', role: 'alert' }, `${scenario.label}: the dial mode is not JSON`));
      return;
    }
    scenarios.push(scenario);
  }
  $('#what-if-result').replaceChildren(el('p', { role: 'status' }, 'Running…'));
  try {
    const result = await api(`engagements/${encodeURIComponent(id)}/what-if`, { method: 'POST', body: JSON.stringify({ scenarios }) });
    const rows = [
      ['Dial mode', (f) => f.dialMode],
      ['Occupancy', (f) => pct(f.occupancy)],
      ['Abandonment', (f) => (f.abandonmentPercent === null ? '–' : `${f.abandonmentPercent.toFixed(2)}%`)],
      ['Average wait', (f) => `${num(f.averageWaitSeconds, 2)} s`],
      ['Dials', (f) => f.dials],
      ['Connected to a representative', (f) => f.connected],
      ['Finished in', (f) => (f.finishedSeconds === null ? `not within 12 h (${f.contactsLeft} left)` : `${f.finishedSeconds} s`)],
      ['Final state', (f) => f.finalStatus],
      ['Mostly bound by', (f) => f.mostlyBoundBy],
    ];
    $('#what-if-result').replaceChildren(
      el(
        'table',
        { id: 'what-if-table' },
        el('caption', {}, 'Projected figures'),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, ''), ...result.scenarios.map((f) => el('th', { scope: 'col' }, f.label)))),
        el(
          'tbody',
          {},
          ...rows.map(([name, get]) =>
            el('tr', {}, el('th', { scope: 'row' }, name), ...result.scenarios.map((f) => el('td', { 'data-field': name }, get(f)))),
          ),
        ),
      ),
    );
  } catch (error) {
    $('#what-if-result').replaceChildren(el('p', { class: 'error', role: 'alert' }, error.message));
  }
});

// ---- Do not contact --------------------------------------------------------------------------
$('#dnc-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const op = event.submitter?.value ?? 'add';
  const value = $('#dnc-value').value.trim();
  const entry = $('#dnc-is-contact').checked ? { contactId: value } : { phone: value };
  try {
    const result = await api(op === 'add' ? 'do-not-contact' : 'do-not-contact/remove', {
      method: 'POST',
      body: JSON.stringify({ entries: [entry] }),
      admin: true,
    });
    $('#dnc-result').textContent = JSON.stringify(result);
  } catch (error) {
    $('#dnc-result').textContent = error.message;
  }
});

$('#dnc-import-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const reader = new FileReader();
  reader.onload = async () => {
    try {
      const result = await api('do-not-contact/import', { method: 'POST', body: String(reader.result), contentType: 'text/csv', admin: true });
      $('#dnc-result').textContent = JSON.stringify(result);
    } catch (error) {
      $('#dnc-result').textContent = error.message;
    }
  };
  reader.readAsText($('#dnc-file').files[0]);
});

// ---- Routing and polling ---------------------------------------------------------------------
function route() {
  const [view, id] = (window.location.hash.slice(1) || 'overview').split('/');
  const shown = view === 'engagement' ? 'engagement' : view;
  for (const section of document.querySelectorAll('main > section')) section.hidden = section.id !== `view-${shown}`;
  for (const link of document.querySelectorAll('nav a')) link.toggleAttribute('aria-current', link.dataset.view === view);
  for (const link of document.querySelectorAll('nav a[aria-current]')) link.setAttribute('aria-current', 'page');
  if (view !== 'engagement') charts = [];
  return { view, id: id === undefined ? undefined : decodeURIComponent(id) };
}

async function refresh() {
  const { view, id } = route();
  try {
    if (view === 'engagement' && id !== undefined) await showEngagement(id);
    else if (view === 'overview') await showOverview();
    else if (engagementIds.length === 0) await showOverview();
    stamp();
    if ($('#message').className === 'error' && $('#message').textContent.startsWith('Refresh')) say('');
  } catch (error) {
    say(`Refresh failed: ${error.message}`, true);
  }
}

function schedule() {
  window.clearTimeout(timer);
  timer = window.setTimeout(async () => {
    if (!document.hidden) await refresh();
    schedule();
  }, POLL_MS);
}

window.addEventListener('hashchange', () => {
  charts = [];
  $('#settings').dataset.id = '';
  void refresh();
});
void refresh().then(schedule);
