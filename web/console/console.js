// Telehealth web console: plain JavaScript, no build step. It calls the HTTP API with a Bearer
// token; every rule is enforced by the API, the console only hides what a role cannot use and
// shows the API's problem bodies (RFC 9457: title, status, detail, field) when it refuses.
'use strict';

const FEED_TAGS = ['conversation', 'not_seen', 'waiting_answer'];
const CONSULTATION_TAGS = ['cancelled', 'conversation', 'concluded', 'diagnosis', 'medical_advice',
  'prescription', 'in_person_visit', 'rejected', 'request', 'waiting_answer'];
const PAYMENT_TYPES = ['booked_appointment', 'thread_request', 'voucher', 'refund',
  'late_cancellation_fee', 'no_show_fee'];
const APPROVALS = ['approved', 'pending', 'rejected'];
const ORG_ROLES = ['org_admin', 'org_coordinator', 'org_reporter'];
const SECTION_ROLES = {
  admin: ['platform_admin'],
  referrals: ['practitioner', 'patient'],
  reports: [...ORG_ROLES, 'clinic_admin'],
};
const STORAGE_KEY = 'telehealth-console';

const state = { base: '', token: '', label: '', claims: null };

// ---------------------------------------------------------------- DOM helpers

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

const $ = (sel, root = document) => root.querySelector(sel);

function clear(el, ...kids) {
  el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
  return el;
}

function fmtTime(iso) {
  if (!iso) return '';
  return String(iso).replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC');
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const s = Math.round(Number(seconds));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}`;
}

function fmtMoney(minor, currency) {
  if (minor === null || minor === undefined) return '';
  return `${(Number(minor) / 100).toFixed(2)} ${currency || ''}`.trim();
}

function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const names = (people) => (people || []).map((p) => p.name || p.id).join(', ');
const person = (p) => (p ? p.name || p.id : '');
const tags = (list) => (list || []).map((t) => h('span', { class: 'tag', text: t }));
const label = (id) => id.replace(/[_-]/g, ' ').replace(/^./, (c) => c.toUpperCase());

// ---------------------------------------------------------------- API client

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, { query, body, headers } = {}) {
  const url = new URL(state.base.replace(/\/+$/, '') + path);
  for (const [k, v] of query || []) {
    if (v !== '' && v !== null && v !== undefined) url.searchParams.append(k, v);
  }
  const init = {
    method,
    headers: { Authorization: `Bearer ${state.token}`, Accept: 'application/json', ...(headers || {}) },
    cache: 'no-store',
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, { title: 'The API could not be reached', detail: `${url.origin}: ${e.message}` });
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const problem = data && typeof data === 'object'
      ? data
      : { title: res.statusText || 'Error', detail: text.slice(0, 300) };
    throw new ApiError(res.status, problem);
  }
  return { status: res.status, data, headers: res.headers };
}

// A refusal of the API, as the user reads it.
function problemBox(err) {
  if (!(err instanceof ApiError)) {
    return h('div', { class: 'problem', role: 'alert' }, h('strong', { text: 'Unexpected error' }), String(err && err.message));
  }
  const p = err.problem || {};
  const hint = {
    401: 'The token was refused or has expired: sign in again.',
    403: `Your role (${state.claims ? state.claims.role : 'none'}) may not do this.`,
    404: 'It does not exist, or it is outside what you may see.',
  }[err.status];
  return h('div', { class: 'problem', role: 'alert', dataset: { status: String(err.status) } },
    h('strong', { class: 'problem-title', text: `${p.title || 'Error'}${err.status ? ` (${err.status})` : ''}` }),
    p.detail ? h('div', { class: 'problem-detail', text: p.detail }) : null,
    p.field ? h('div', { class: 'problem-field' }, 'Field: ', h('code', { text: p.field })) : null,
    Array.isArray(p.errors) && p.errors.length > 1 ? h('ul', { class: 'problem-errors' }, p.errors.map((x) => h('li', {},
      x.field ? h('code', { text: x.field }) : null, x.field ? ': ' : null, x.detail || x.reason || x.message || ''))) : null,
    hint ? h('div', { class: 'hint', text: hint }) : null,
    err.status === 401 ? h('button', { type: 'button', class: 'secondary small', onclick: signOut, text: 'Sign in again' }) : null);
}

function busy(text) {
  return h('div', { class: 'busy', role: 'status', 'aria-busy': 'true', text });
}

function notice(text) {
  return h('div', { class: 'notice', role: 'status', text });
}

// Starts a browser download of a link the API answered (a blob link or a presigned URL).
function startDownload(url, fileName) {
  const a = h('a', { href: url, download: fileName || '' });
  document.body.append(a);
  a.click();
  a.remove();
}

function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------- sign-in

function decodeClaims(token) {
  const part = String(token).split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const c = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (ch) => ch.charCodeAt(0))));
    const list = (v) => (Array.isArray(v) ? v.map(String)
      : String(v || '').replace(/^\[|\]$/g, '').split(/[ ,]+/).filter(Boolean));
    return {
      sub: c.sub,
      role: c.role || c['custom:role'] || '',
      orgs: list(c.orgs || c['custom:orgs']),
      clinics: list(c.clinics || c['custom:clinics']),
      exp: c.exp,
    };
  } catch {
    return null;
  }
}

function signIn(base, token, labelText) {
  const claims = decodeClaims(token);
  if (!claims || !claims.role) {
    clear($('#signin-error'), problemBox(new ApiError(0, { title: 'Not a token', detail: 'The token could not be read (expected a JWT with a role claim).' })));
    return;
  }
  Object.assign(state, { base, token, claims, label: labelText || claims.sub });
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ base, token, label: state.label }));
  const target = defaultRoute();
  if (location.hash === target) render();
  else location.hash = target; // hashchange renders
}

function signOut() {
  sessionStorage.removeItem(STORAGE_KEY);
  Object.assign(state, { token: '', claims: null, label: '' });
  history.replaceState(null, '', location.pathname);
  render();
}

async function showSignIn() {
  $('#signin').hidden = false;
  $('#view').hidden = true;
  $('#nav').hidden = true;
  $('#whoami').hidden = true;
  const base = $('#api-base');
  if (!base.value) base.value = location.origin.startsWith('http') ? location.origin : '';
  // The local server only: short-lived tokens of the demo identities.
  let identities = null;
  try {
    const res = await fetch('identities', { cache: 'no-store' });
    if (res.ok && (res.headers.get('content-type') || '').includes('json')) identities = (await res.json()).identities;
  } catch {
    identities = null;
  }
  $('#identities-box').hidden = !identities;
  clear($('#identities'), (identities || []).map((i) => h('li', {},
    h('button', {
      type: 'button', class: 'secondary', dataset: { sub: i.sub, role: i.role },
      onclick: () => signIn(location.origin, i.token, i.label),
    }, i.label, h('small', { text: `${i.role} · ${i.sub}${i.orgs.length ? ` · ${i.orgs.join(', ')}` : ''}${i.clinics.length ? ` · ${i.clinics.join(', ')}` : ''}` })))));
}

// ---------------------------------------------------------------- routing

function allowed(section) {
  return !!state.claims && SECTION_ROLES[section].includes(state.claims.role);
}

function defaultRoute() {
  if (allowed('admin')) return '#/admin/feed';
  if (allowed('referrals')) return '#/referrals';
  if (allowed('reports')) return '#/reports';
  return '#/none';
}

function render() {
  if (!state.token) {
    showSignIn();
    return;
  }
  $('#signin').hidden = true;
  $('#whoami').hidden = false;
  $('#who-label').textContent = state.label;
  $('#who-role').textContent = state.claims.role;
  const nav = $('#nav');
  nav.hidden = false;
  for (const a of nav.querySelectorAll('a')) a.hidden = !allowed(a.dataset.section);
  if (!location.hash || location.hash === '#/') {
    location.replace(defaultRoute());
    return;
  }
  const parts = location.hash.slice(2).split('/').map(decodeURIComponent);
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.section === parts[0]);
  const view = clear($('#view'));
  view.hidden = false;
  view.dataset.screen = parts[0];
  if (parts[0] === 'admin') adminView(view, parts[1] || 'feed', parts[2]);
  else if (parts[0] === 'referrals') referralsView(view);
  else if (parts[0] === 'reports') reportsView(view, parts[1], parts[2]);
  else view.append(h('div', { class: 'panel' }, h('p', { text: `Nothing in this console for the role ${state.claims.role}.` })));
}

// ---------------------------------------------------------------- admin (SPEC A1-A9)

const who = (p) => person(p);
const ADMIN_TABS = [
  {
    id: 'feed', label: 'Feed', q: 'Specialist name', tags: FEED_TAGS, kinds: true, waiting: true,
    cols: [
      ['Thread', (r) => h('a', { href: `#/admin/thread/${encodeURIComponent(r.thread_id)}`, text: r.thread_id })],
      ['Last activity', (r) => fmtTime(r.last_activity_at)],
      ['Patients', (r) => names(r.patients)],
      ['Practitioners', (r) => names(r.practitioners)],
      ['Messages', (r) => r.message_count, 'num'],
      ['Tags', (r) => tags(r.tags)],
      ['Kind', (r) => h('span', { class: 'kind', dataset: { kind: r.kind }, text: THREAD_KINDS[r.kind] || r.kind })],
      ['Waiting since', (r) => fmtTime(r.waiting_since)],
      ['Answer due', (r) => waitClock(r.clock)],
    ],
  },
  {
    id: 'consultations', label: 'Consultations', q: 'Practitioner name', tags: CONSULTATION_TAGS, counts: true,
    cols: [
      ['Started', (r) => fmtTime(r.started_at)],
      ['Practitioner', (r) => who(r.practitioner)],
      ['Patient', (r) => who(r.patient)],
      ['Payment', (r) => r.payment_type],
      ['Cancelled', (r) => (r.cancelled_at ? `${fmtTime(r.cancelled_at)} by ${r.cancelled_by}` : '')],
      ['Tags', (r) => tags(r.tags)],
      ['Thread', (r) => (r.thread_id ? h('a', { href: `#/admin/thread/${encodeURIComponent(r.thread_id)}`, text: r.thread_id }) : '')],
    ],
  },
  {
    id: 'calls', label: 'Calls', q: 'Practitioner name',
    cols: [
      ['Practitioner', (r) => who(r.practitioner)],
      ['Calls', (r) => r.calls, 'num'],
      ['Audio', (r) => r.audio_calls, 'num'],
      ['Video', (r) => r.video_calls, 'num'],
      ['Audio time', (r) => fmtDuration(r.audio_seconds), 'num'],
      ['Video time', (r) => fmtDuration(r.video_seconds), 'num'],
      ['Call time', (r) => fmtDuration(r.total_seconds), 'num'],
    ],
  },
  {
    id: 'practitioners', label: 'Practitioners', q: 'Name', specialty: true, approval: true, override: true,
    cols: [
      ['Name', (r) => r.name],
      ['Specialties', (r) => (r.specialties || []).join(', ')],
      ['Approval', (r) => r.approval],
      ['Availability', (r) => `${r.availability} (${r.availability_source}${r.override_until ? ` until ${fmtTime(r.override_until)}` : ''})`],
      ['Rating', (r) => (r.rating_count ? `${r.rating_average} (${r.rating_count})` : '—'), 'num'],
      ['Price', (r) => (r.price ? fmtMoney(r.price.amount_minor, r.price.currency) : ''), 'num'],
    ],
  },
  {
    id: 'ratings', label: 'Ratings', q: 'Practitioner name',
    cols: [
      ['Submitted', (r) => fmtTime(r.submitted_at)],
      ['Patient', (r) => who(r.patient)],
      ['Practitioner', (r) => who(r.practitioner)],
      ['Stars', (r) => r.stars, 'num'],
      ['Comment', (r) => r.comment || ''],
      ['Practitioner average', (r) => `${r.practitioner_rating_average} (${r.practitioner_rating_count})`, 'num'],
    ],
  },
  {
    id: 'payments', label: 'Payments', q: 'Practitioner name',
    cols: [
      ['Practitioner', (r) => who(r.practitioner)],
      ['Consultations', (r) => (r.totals || []).map((t) => h('div', { text: `${t.consultations}` })), 'num'],
      ['Items', (r) => (r.totals || []).map((t) => h('div', { text: `${t.payments}` })), 'num'],
      ['Total', (r) => (r.totals || []).map((t) => h('div', { text: fmtMoney(t.total_minor, t.currency) })), 'num'],
      ['Specialist', (r) => (r.totals || []).map((t) => h('div', { text: fmtMoney(t.specialist_minor, t.currency) })), 'num'],
      ['Commission', (r) => (r.totals || []).map((t) => h('div', { text: fmtMoney(t.commission_minor, t.currency) })), 'num'],
    ],
  },
  {
    id: 'payment-items', label: 'Payment items', q: 'Patient or practitioner name', types: true,
    cols: [
      ['Paid', (r) => fmtTime(r.paid_at)],
      ['Type', (r) => r.payment_type],
      ['Patient', (r) => who(r.patient)],
      ['Practitioner', (r) => who(r.practitioner)],
      ['Total', (r) => fmtMoney(r.total_minor, r.currency), 'num'],
      ['Specialist', (r) => fmtMoney(r.specialist_minor, r.currency), 'num'],
      ['Commission', (r) => fmtMoney(r.commission_minor, r.currency), 'num'],
      ['Voucher', (r) => r.voucher_code || ''],
    ],
  },
  {
    id: 'vouchers', label: 'Vouchers', q: 'Code',
    cols: [
      ['Code', (r) => r.code],
      ['Times used', (r) => r.times_used, 'num'],
      ['Limit', (r) => (r.usage_limit === null ? 'none' : r.usage_limit), 'num'],
      ['Expires', (r) => fmtTime(r.expires_at)],
      ['Created', (r) => fmtTime(r.created_at)],
    ],
  },
];

function adminTabs(active) {
  return h('nav', { class: 'tabs', 'aria-label': 'Admin tabs' },
    ADMIN_TABS.map((t) => h('a', { href: `#/admin/${t.id}`, class: t.id === active ? 'active' : '', dataset: { tab: t.id }, text: t.label })),
    h('a', { href: '#/admin/thread', class: active === 'thread' ? 'active' : '', dataset: { tab: 'thread' }, text: 'Thread details' }),
    h('a', { href: '#/admin/ageing', class: active === 'ageing' ? 'active' : '', dataset: { tab: 'ageing' }, text: 'Referral ageing' }),
    h('a', { href: '#/admin/audit', class: active === 'audit' ? 'active' : '', dataset: { tab: 'audit' }, text: 'Audit trail' }));
}

// Thread kinds (the Feed's `kind`), as the console names them.
const THREAD_KINDS = {
  patient_practitioner: 'patient–practitioner',
  practitioner_practitioner: 'practitioner–practitioner',
};

// A waiting thread's clock: when the answer is due, against which commitment, and whether it is late.
function waitClock(clock) {
  if (!clock) return '';
  return h('span', {
    class: clock.overdue ? 'clock overdue' : 'clock',
    dataset: { overdue: String(clock.overdue) },
    title: `Response time committed: ${clock.response_time_hours} h`,
  }, `${fmtTime(clock.due_at)} (${clock.response_time_hours} h)`, clock.overdue ? h('b', { text: ' overdue' }) : null);
}

// The Feed's waiting filters: overdue only, and the order.
function waitingFilters(overdue) {
  return h('fieldset', { class: 'checks' }, h('legend', { text: 'Waiting answer' }),
    h('label', {}, h('input', { type: 'checkbox', name: 'overdue', value: 'true', checked: overdue }), ' overdue only'),
    h('label', {}, 'Order ', h('select', { name: 'sort' },
      h('option', { value: 'activity', text: 'newest activity first' }),
      h('option', { value: 'waiting', text: 'longest waiting first' }))));
}

function kindSelect() {
  return h('label', {}, 'Kind', h('select', { name: 'kind' },
    h('option', { value: '', text: 'any' }),
    Object.entries(THREAD_KINDS).map(([value, text]) => h('option', { value, text }))));
}

function checks(name, values, legend) {
  return h('fieldset', { class: 'checks' }, h('legend', { text: legend }),
    values.map((v) => h('label', {}, h('input', { type: 'checkbox', name, value: v }), ` ${v}`)));
}

function adminView(view, tabId, arg) {
  view.append(adminTabs(tabId));
  if (tabId === 'thread') {
    threadView(view, arg);
    return;
  }
  if (tabId === 'ageing') {
    ageingView(view);
    return;
  }
  if (tabId === 'audit') {
    view.append(auditPanel('/admin/audit', true));
    return;
  }
  const tab = ADMIN_TABS.find((t) => t.id === tabId);
  if (!tab) {
    view.append(h('p', { text: 'No such tab.' }));
    return;
  }
  const form = h('form', { class: 'form', id: 'filters' },
    h('label', {}, tab.q, h('input', { name: 'q', type: 'search', maxlength: '100' })),
    h('label', {}, 'From', h('input', { name: 'from', type: 'date' })),
    h('label', {}, 'To', h('input', { name: 'to', type: 'date' })),
    h('label', {}, 'Time zone', h('input', { name: 'tz', type: 'text', placeholder: 'UTC', size: '14' })),
    h('label', {}, 'Rows', h('select', { name: 'limit' }, ['25', '50', '100', '200'].map((n) => h('option', { value: n, selected: n === '50', text: n })))),
    tab.tags ? checks('tag', tab.tags, 'Tags (all of)') : null,
    tab.kinds ? kindSelect() : null,
    tab.waiting ? waitingFilters(arg === 'overdue') : null,
    tab.types ? checks('type', PAYMENT_TYPES, 'Types (any of)') : null,
    tab.approval ? checks('approval', APPROVALS, 'Approval (any of)') : null,
    tab.specialty ? h('label', {}, 'Specialty', h('input', { name: 'specialty', type: 'search', maxlength: '100', placeholder: 'derm…' })) : null,
    h('button', { type: 'submit', text: 'Search' }),
    h('button', { type: 'button', class: 'secondary', id: 'export', text: 'Export CSV' }));
  const counts = h('div', { id: 'tag-counts' });
  const exportBox = h('div', { id: 'export-box' });
  const overrideBox = h('div', { id: 'override-box' });
  const results = h('div', { id: 'results' });
  view.append(h('div', { class: 'panel' }, h('h2', { text: tab.label }), form, counts, exportBox, overrideBox, results));

  const filters = () => {
    const fd = new FormData(form);
    return [...fd.entries()].filter(([, v]) => v !== '');
  };
  let cursors = [];
  let current = null;
  const load = async (cursor) => {
    clear(results, busy('Loading…'));
    try {
      const query = filters();
      if (cursor) query.push(['cursor', cursor]);
      const { data } = await api('GET', `/admin/${tab.id}`, { query });
      current = cursor;
      const table = h('table', { class: 'rows', dataset: { tab: tab.id } },
        h('thead', {}, h('tr', {}, tab.cols.map(([name]) => h('th', { text: name })), tab.override ? h('th', { text: '' }) : null)),
        h('tbody', {}, data.items.map((row) => h('tr', {},
          tab.cols.map(([, fn, cls]) => h('td', { class: cls || null }, fn(row))),
          tab.override ? h('td', {}, h('button', {
            type: 'button', class: 'secondary small', text: 'Override',
            onclick: () => overrideForm(overrideBox, row, () => load(current)),
          })) : null))));
      clear(results,
        data.items.length ? table : h('p', { class: 'hint', text: 'No rows match.' }),
        h('div', { class: 'pager' },
          h('button', { type: 'button', class: 'secondary small', text: 'First page', disabled: !cursor, onclick: () => { cursors = []; load(null); } }),
          h('button', { type: 'button', class: 'secondary small', text: 'Previous page', disabled: !cursor, onclick: () => load(cursors.pop() || null) }),
          h('button', {
            type: 'button', class: 'secondary small', id: 'next-page', text: 'Next page', disabled: !data.next_cursor,
            onclick: () => { cursors.push(cursor); load(data.next_cursor); },
          }),
          h('span', { class: 'hint', id: 'page-info', text: `Page ${cursors.length + 1} · ${data.items.length} rows` })));
    } catch (e) {
      clear(results, problemBox(e));
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    cursors = [];
    load(null);
  });
  if (tab.counts) form.addEventListener('submit', () => loadCounts(counts, form));
  $('#export', form).addEventListener('click', async (ev) => {
    const button = ev.currentTarget;
    button.disabled = true;
    clear(exportBox, busy('Exporting every row that matches…'));
    try {
      const { data } = await api('GET', `/admin/${tab.id}/export`, { query: filters().filter(([k]) => k !== 'limit') });
      clear(exportBox, h('div', { class: 'notice', role: 'status' },
        `CSV ready: ${data.rows} rows, ${fmtBytes(data.bytes)}. `,
        h('a', { href: data.url, download: '', id: 'csv-link', text: 'Download CSV' }),
        ' (the link works for 15 minutes)'));
    } catch (e) {
      clear(exportBox, problemBox(e));
    } finally {
      button.disabled = false;
    }
  });
  if (tab.counts) loadCounts(counts, form);
  load(null);
}

async function loadCounts(box, form) {
  clear(box, busy('Counting…'));
  try {
    const tz = new FormData(form).get('tz');
    const { data } = await api('GET', '/admin/consultations/counts', { query: tz ? [['tz', tz]] : [] });
    clear(box, h('h3', { text: `Consultations per tag, ${countWindow(data)}: ${data.total}` }),
      h('div', { class: 'counts' }, Object.entries(data.counts).map(([tag, n]) => h('button', {
        type: 'button', class: 'count secondary', dataset: { tag },
        title: `Show the consultations tagged ${tag}`,
        onclick: () => {
          for (const c of form.querySelectorAll('input[name=tag]')) c.checked = c.value === tag;
          form.requestSubmit();
        },
      }, tag, h('b', { text: String(n) })))),
      h('p', { id: 'overdue-count' }, 'Threads overdue for an answer now: ',
        h('a', { href: '#/admin/feed/overdue', text: `${data.overdue.count}${data.overdue.complete ? '' : '+'}` })));
  } catch (e) {
    clear(box, problemBox(e));
  }
}

// The counts' window in words: the 14 local days of the zone asked, or the 14 × 24 hours up to now.
function countWindow(data) {
  if (!data.tz) return `the past 14 × 24 hours (since ${data.from})`;
  const day = (t) => new Intl.DateTimeFormat('en-CA', { timeZone: data.tz }).format(new Date(t));
  const last = day(new Date(new Date(data.to).getTime() - 1).toISOString());
  return `${day(data.from)} to ${last} in ${data.tz} (14 days)`;
}

function overrideForm(box, row, reload) {
  const form = h('form', { class: 'form', id: 'override-form' },
    h('strong', { text: `Availability of ${row.name} (${row.practitioner_id})` }),
    h('label', {}, 'Availability', h('select', { name: 'availability' },
      ['available', 'away'].map((v) => h('option', { value: v, selected: v !== row.availability, text: v })))),
    h('label', {}, 'Until (optional)', h('input', { name: 'until', type: 'datetime-local' })),
    h('button', { type: 'submit', text: 'Save override' }),
    h('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: () => clear(box) }));
  const out = h('div');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const until = fd.get('until') ? new Date(fd.get('until')).toISOString() : null;
    try {
      const { data } = await api('PUT', `/admin/practitioners/${encodeURIComponent(row.practitioner_id)}/availability`,
        { body: { availability: fd.get('availability'), until } });
      clear(box, notice(`Saved: ${data.name} is now ${data.availability} (${data.availability_source}${data.override_until ? ` until ${fmtTime(data.override_until)}` : ''}).`));
      reload();
    } catch (e) {
      clear(out, problemBox(e));
    }
  });
  clear(box, h('div', { class: 'panel' }, form, out));
}

function threadView(view, threadId) {
  const form = h('form', { class: 'form' },
    h('label', {}, 'Thread id', h('input', { name: 'thread', value: threadId || '', required: true })),
    h('button', { type: 'submit', text: 'Open' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/admin/thread/${encodeURIComponent(new FormData(form).get('thread'))}`;
  });
  const out = h('div', { id: 'thread' });
  view.append(h('div', { class: 'panel' }, h('h2', { text: 'Thread details' }),
    h('p', { class: 'hint', text: 'Participants, devices, tags and messages. The text of participants\' messages is never shown; only system messages carry text.' }),
    form, out));
  if (!threadId) return;
  const messages = h('tbody');
  const more = h('div', { class: 'pager' });
  const loadPage = async (cursor) => {
    try {
      const { data } = await api('GET', `/admin/threads/${encodeURIComponent(threadId)}`, { query: [['limit', '50'], ['cursor', cursor]] });
      if (!cursor) {
        const t = data.thread;
        clear(out,
          h('dl', { class: 'kv' },
            h('dt', { text: 'Thread' }), h('dd', { text: t.thread_id }),
            h('dt', { text: 'Last activity' }), h('dd', { text: fmtTime(t.last_activity_at) }),
            h('dt', { text: 'Patients' }), h('dd', { text: names(t.patients) }),
            h('dt', { text: 'Practitioners' }), h('dd', { text: names(t.practitioners) }),
            h('dt', { text: 'Messages' }), h('dd', { text: String(t.message_count) }),
            h('dt', { text: 'Tags' }), h('dd', {}, tags(t.tags)),
            h('dt', { text: 'Kind' }), h('dd', { id: 'thread-kind', text: THREAD_KINDS[t.kind] || t.kind })),
          h('h3', { text: 'Devices' }),
          h('table', { id: 'devices' }, h('thead', {}, h('tr', {}, h('th', { text: 'Participant' }), h('th', { text: 'Devices' }))),
            h('tbody', {}, Object.entries(data.devices || {}).map(([id, list]) => h('tr', {}, h('td', { text: id }), h('td', { text: list.join(', ') }))))),
          h('h3', { text: 'Messages' }),
          h('table', { id: 'messages' }, h('thead', {}, h('tr', {},
            ['Sent', 'Sender', 'Role', 'Kind', 'Device', 'Text'].map((c) => h('th', { text: c })))), messages),
          more);
      }
      for (const m of data.messages) {
        const d = m.device;
        messages.append(h('tr', {},
          h('td', { text: fmtTime(m.sent_at) }),
          h('td', { text: person(m.sender) }),
          h('td', { text: m.sender_role }),
          h('td', { text: m.kind }),
          h('td', { text: d ? [d.platform, d.model, d.app_version].filter(Boolean).join(' ') : '' }),
          h('td', { class: m.text === null ? 'hint' : null, text: m.text === null ? '(not shown)' : m.text })));
      }
      clear(more, data.next_cursor
        ? h('button', { type: 'button', class: 'secondary small', text: 'More messages', onclick: () => loadPage(data.next_cursor) })
        : h('span', { class: 'hint', text: 'All messages shown.' }));
    } catch (e) {
      clear(out, problemBox(e));
    }
  };
  clear(out, busy('Loading…'));
  loadPage(null);
}

// ---------------------------------------------------------------- referral ageing (SPEC B11)

const AGEING_STATES = ['pending_patient', 'pending_specialist', 'accepted', 'rejected', 'patient_rejected', 'withdrawn', 'expired'];

// A histogram bound in days when whole, else in hours; none without ended stays.
function fmtAtMost(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  return seconds % 86400 === 0 ? `≤ ${seconds / 86400} d` : `≤ ${seconds / 3600} h`;
}

function ageingView(view) {
  const form = h('form', { class: 'form', id: 'ageing-form' },
    h('label', {}, 'Group by', h('select', { name: 'by' },
      [['state', 'State'], ['specialty', 'Specialty'], ['specialist', 'Specialist']].map(([v, t]) => h('option', { value: v, text: t })))),
    h('button', { type: 'submit', text: 'Show' }),
    h('button', { type: 'button', class: 'secondary', id: 'ageing-export', text: 'Export CSV' }));
  const oldest = h('div', { id: 'ageing-oldest' });
  const exportBox = h('div', { id: 'ageing-export-box' });
  const results = h('div', { id: 'ageing-results' });
  view.append(h('div', { class: 'panel' }, h('h2', { text: 'Referral ageing' }),
    h('p', { class: 'hint', text: 'Referrals now in each state, and how long the ended stays in the pending states lasted (median and 90th percentile, as histogram bounds).' }),
    form, oldest, exportBox, results));
  const body = h('tbody');
  const table = h('table', { id: 'ageing-table' },
    h('thead', {}, h('tr', {}, ['Group', 'State', 'Now', 'Ended stays', 'Median', '90th percentile'].map((c) => h('th', { text: c })))),
    body);
  const rowsOf = (label, states) => states.map((s) => h('tr', { dataset: { group: label, state: s.state } },
    h('td', { text: label }),
    h('td', { text: s.state }),
    h('td', { class: 'num', dataset: { figure: 'count' }, text: String(s.count) }),
    h('td', { class: 'num', dataset: { figure: 'stays' }, text: String(s.stays) }),
    h('td', { class: 'num', dataset: { figure: 'median' }, text: fmtAtMost(s.median_seconds_at_most) }),
    h('td', { class: 'num', dataset: { figure: 'p90' }, text: fmtAtMost(s.p90_seconds_at_most) })));
  const load = async (cursor) => {
    const by = new FormData(form).get('by');
    if (!cursor) clear(results, busy('Loading…'));
    try {
      const query = [['by', by]];
      if (cursor) query.push(['cursor', cursor], ['limit', '20']);
      const { data } = await api('GET', '/admin/referral-ageing', { query });
      if (!cursor) {
        clear(body);
        clear(results, table);
        const o = data.oldest_pending;
        clear(oldest, by !== 'state' ? null : o
          ? h('p', { id: 'oldest-pending', text: `Oldest pending: ${o.referral_id} (${o.state}), made ${fmtTime(o.created_at)}, waiting ${Math.floor(o.age_seconds / 86400)} d ${Math.floor((o.age_seconds % 86400) / 3600)} h.` })
          : h('p', { class: 'hint', id: 'oldest-pending', text: 'No referral is pending.' }));
      }
      if (data.states) body.append(...rowsOf('all', data.states));
      for (const g of data.items || []) body.append(...rowsOf(g.name ? `${g.name} (${g.key})` : g.key, g.states));
      if (data.next_cursor) results.append(h('button', { type: 'button', class: 'secondary small', text: 'More', onclick: (ev) => { ev.currentTarget.remove(); load(data.next_cursor); } }));
    } catch (e) {
      clear(results, problemBox(e));
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(null); });
  $('#ageing-export', form).addEventListener('click', async () => {
    const by = new FormData(form).get('by');
    clear(exportBox, busy('Preparing CSV…'));
    try {
      const url = new URL(`${state.base.replace(/\/+$/, '')}/admin/referral-ageing`);
      url.searchParams.set('by', by);
      url.searchParams.set('format', 'csv');
      url.searchParams.set('limit', '100');
      const res = await fetch(url, { headers: { Authorization: `Bearer ${state.token}` }, cache: 'no-store' });
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({ title: res.statusText })));
      const text = await res.text();
      const link = h('a', { id: 'ageing-csv-link', download: `referral-ageing-${by}.csv`, text: 'Download CSV',
        href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })) });
      clear(exportBox, `CSV ready: ${text.trim().split('\n').length - 1} rows. `, link,
        res.headers.get('x-next-cursor') ? h('span', { class: 'hint', text: ' (the first 100 groups)' }) : null);
    } catch (e) {
      clear(exportBox, problemBox(e));
    }
  });
  load(null);
}

// ---------------------------------------------------------------- referrals (SPEC B1-B7)

function threadsOf(r) {
  return [
    r.patient_thread_id ? `referrer–patient: ${r.patient_thread_id}` : null,
    r.pair_thread_id ? `practitioners: ${r.pair_thread_id}` : null,
    r.specialist_thread_id ? `specialist–patient: ${r.specialist_thread_id}` : null,
  ].filter(Boolean).map((t) => h('div', { class: 'thread-id', text: t }));
}

// The specialist's reasons for declining (B8): the API's closed list, in the form's order.
const DECLINE_REASONS = [
  ['outside_specialty', 'Outside my specialty'],
  ['no_capacity', 'No capacity to take the patient'],
  ['needs_more_information', 'Needs more information'],
  ['better_served_elsewhere', 'Better served elsewhere'],
  ['other', 'Other'],
];
const DECLINE_TEXT_MAX = 500;

// "Other" says its reason in the text alone.
function declineReasonText(reason) {
  const label = (DECLINE_REASONS.find(([code]) => code === reason.code) || [reason.code, reason.code])[1];
  if (reason.code === 'other' && reason.text) return reason.text;
  return reason.text ? `${label}: ${reason.text}` : label;
}

function referralTable(id, decide) {
  const body = h('tbody');
  const table = h('table', { id, class: 'referrals' },
    h('thead', {}, h('tr', {}, ['Referral', 'Patient', 'Referrer', 'Specialist', 'State', 'Updated', 'Threads', ''].map((c) => h('th', { text: c })))),
    body);
  const row = (r) => h('tr', { dataset: { referral: r.referral_id, state: r.state } },
    h('td', { text: r.referral_id }),
    h('td', { text: r.patient_id || '' }),
    h('td', { text: r.referrer_id || '' }),
    h('td', { text: r.specialist_id || '' }),
    h('td', { class: 'state' }, r.state,
      r.decline_reason ? h('div', { class: 'decline-reason hint', dataset: { code: r.decline_reason.code }, text: `Reason: ${declineReasonText(r.decline_reason)}` }) : null,
      r.expires_at ? h('div', { class: 'expires hint', text: `Expires ${fmtTime(r.expires_at)}` }) : null),
    h('td', { text: fmtTime(r.updated_at) }),
    h('td', {}, threadsOf(r), r.message ? h('div', { class: 'hint', text: `Note: ${r.message}` }) : null),
    h('td', {}, decide ? decide(r) : null));
  return { table, body, row };
}

function referralsView(view) {
  const role = state.claims.role;
  const out = h('div', { id: 'referral-result' });
  view.append(h('div', { class: 'panel' }, h('h2', { text: 'Referrals' }), out));
  const panel = view.firstChild;
  const decideButtons = (kind) => (r) => {
    const waiting = kind === 'patient' ? r.state === 'pending_patient' : r.state === 'pending_specialist';
    if (!waiting) return null;
    const decide = (decision, button, reason) =>
      referralStep(out, r, `${kind}-decision`, reason ? { decision, reason } : { decision }, button, reloadLists);
    const accept = h('button', { type: 'button', class: 'small', text: 'Accept', onclick: (ev) => decide('accept', ev.currentTarget) });
    if (kind === 'patient') {
      return [accept, ' ', h('button', { type: 'button', class: 'secondary small', text: 'Decline', onclick: (ev) => decide('reject', ev.currentTarget) })];
    }
    // The specialist's decline names a reason (the text is required for "other").
    const text = h('textarea', { name: 'text', rows: '2', cols: '30', maxlength: String(DECLINE_TEXT_MAX), placeholder: 'A few words for the referrer' });
    const code = h('select', { name: 'code', required: true },
      h('option', { value: '', text: 'Choose a reason…' }),
      DECLINE_REASONS.map(([value, label]) => h('option', { value, text: value === 'other' ? 'Other (say why)' : label })));
    const form = h('form', { class: 'decline-form', hidden: true },
      h('label', {}, 'Reason', code), ' ',
      h('label', {}, 'Note for the referrer', text), ' ',
      h('button', { type: 'submit', class: 'secondary small', text: 'Decline referral' }));
    code.addEventListener('change', () => { text.required = code.value === 'other'; });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const note = text.value.trim();
      decide('reject', form.querySelector('button[type=submit]'), note ? { code: code.value, text: note } : { code: code.value });
    });
    const open = h('button', { type: 'button', class: 'secondary small', text: 'Decline',
      onclick: (ev) => { ev.currentTarget.hidden = true; form.hidden = false; code.focus(); } });
    return [accept, ' ', open, form];
  };
  const lists = [];
  const addList = (title, as, decide) => {
    const t = referralTable(`referrals-${as}`, decide);
    const box = h('div');
    panel.append(h('h3', { text: title }), box);
    const load = async (cursor) => {
      try {
        const { data } = await api('GET', '/referrals', { query: [['as', as], ['limit', '50'], ['cursor', cursor]] });
        if (!cursor) {
          clear(t.body);
          clear(box, t.table);
        }
        t.body.append(...data.items.map(t.row));
        if (!t.body.children.length) clear(box, h('p', { class: 'hint', text: 'None yet.' }));
        if (data.next_cursor) box.append(h('button', { type: 'button', class: 'secondary small', text: 'More', onclick: (ev) => { ev.currentTarget.remove(); load(data.next_cursor); } }));
      } catch (e) {
        clear(box, problemBox(e));
      }
    };
    lists.push(() => load(null));
  };
  const reloadLists = () => lists.forEach((f) => f());

  if (role === 'practitioner') {
    panel.append(sendReferralForm(out, reloadLists));
    addList('Referrals I sent', 'referrer', withdrawButton(out, () => reloadLists()));
    addList('Referrals to me as specialist', 'specialist', decideButtons('specialist'));
  } else if (role === 'patient') {
    addList('My referrals', 'patient', decideButtons('patient'));
  } else {
    // Not a role of this section: the API answers why.
    addList('Referrals', 'referrer', null);
  }
  reloadLists();
}

// One step on a referral (a decision, a withdrawal): the button held while it is sent, the
// answer's state (or the problem) shown, the lists reloaded.
async function referralStep(out, r, step, body, button, reload) {
  button.disabled = true;
  try {
    const { data } = await api('POST', `/referrals/${encodeURIComponent(r.referral_id)}/${step}`,
      { body, headers: { 'Idempotency-Key': idempotencyKey() } });
    clear(out, notice(`Referral ${data.referral_id} is now ${data.state}.`));
  } catch (e) {
    clear(out, problemBox(e));
    button.disabled = false;
    return;
  }
  reload();
}

// B9: the referrer withdraws a referral while it is pending, after a confirmation.
function withdrawButton(out, reload) {
  return (r) => {
    if (r.state !== 'pending_patient' && r.state !== 'pending_specialist') return null;
    return h('button', {
      type: 'button', class: 'secondary small', text: 'Withdraw',
      onclick: async (ev) => {
        const button = ev.currentTarget;
        if (!await confirmDialog(`Withdraw referral ${r.referral_id}? The patient and the specialist can no longer answer it.`)) return;
        referralStep(out, r, 'withdraw', undefined, button, reload);
      },
    });
  };
}

function sendReferralForm(out, reload) {
  const results = h('div', { id: 'specialists' });
  const chosen = h('span', { class: 'hint', id: 'chosen-specialist', text: 'No specialist chosen.' });
  const form = h('form', { class: 'form', id: 'referral-form' },
    h('label', {}, 'Patient id', h('input', { name: 'patient_id', required: true, placeholder: 'pat-…' })),
    h('label', {}, 'Specialist id', h('input', { name: 'specialist_id', required: true, placeholder: 'prac-…' })),
    h('label', {}, 'Note for the specialist (optional)', h('textarea', { name: 'message', rows: '2', cols: '40', maxlength: '2000' })),
    h('button', { type: 'submit', text: 'Send referral' }));
  const search = h('form', { class: 'form', id: 'specialist-search' },
    h('label', {}, 'Name (any word, its beginning)', h('input', { name: 'q', type: 'search' })),
    h('label', {}, 'Specialty', h('input', { name: 'specialty', type: 'search' })),
    h('button', { type: 'submit', class: 'secondary', text: 'Find specialists' }));
  search.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fd = new FormData(search);
    clear(results, busy('Searching…'));
    try {
      const { data } = await api('GET', '/referrals/specialists', { query: [['q', fd.get('q')], ['specialty', fd.get('specialty')], ['limit', '20']] });
      clear(results, data.items.length ? h('table', {},
        h('thead', {}, h('tr', {}, ['Name', 'Specialties', 'Scheduling', ''].map((c) => h('th', { text: c })))),
        h('tbody', {}, data.items.map((s) => h('tr', { dataset: { specialist: s.practitioner_id } },
          h('td', { text: s.name }),
          h('td', { text: s.specialties.join(', ') }),
          h('td', { text: s.has_scheduling_practice ? 'yes' : 'no' }),
          h('td', {}, h('button', {
            type: 'button', class: 'secondary small', text: 'Choose',
            onclick: () => {
              form.elements.specialist_id.value = s.practitioner_id;
              chosen.textContent = `Chosen: ${s.name} (${s.practitioner_id})`;
            },
          })))))) : h('p', { class: 'hint', text: 'No approved practitioner matches.' }));
    } catch (e) {
      clear(results, problemBox(e));
    }
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const body = { patient_id: fd.get('patient_id').trim(), specialist_id: fd.get('specialist_id').trim() };
    if (fd.get('message')) body.message = fd.get('message');
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const { data } = await api('POST', '/referrals', { body, headers: { 'Idempotency-Key': idempotencyKey() } });
      clear(out, notice(`Referral ${data.referral_id} sent: ${data.state}.`));
      form.reset();
      chosen.textContent = 'No specialist chosen.';
      reload();
    } catch (e) {
      clear(out, problemBox(e));
    } finally {
      button.disabled = false;
    }
  });
  return h('div', {}, h('h3', { text: 'Send a referral' }), search, results, chosen, form);
}

// ---------------------------------------------------------------- organisation reports (SPEC C, D)

const REPORTS = {
  organisation: ['Organisation', { organisations: 'Organisations', user_accounts: 'User accounts', waiting_areas: 'Waiting areas' }],
  clinics: ['Clinics', { clinics: 'Clinics', new_clinics: 'New clinics', deleted_clinics: 'Deleted clinics' }],
  'service-providers': ['Service providers', { providers: 'Service providers', providers_consulted: 'Consulted in the period' }],
  'service-provider-summary': ['Service provider summary', { providers: 'Service providers', new: 'New', deactivated: 'Deactivated', logged_in: 'Logged in', active: 'Active' }],
  'room-calls': ['Meeting and user room calls', { calls: 'Calls', call_seconds: 'Call time', participants: 'Participants' }],
  consultations: ['Consultations', { consultations: 'Consultations', consultation_seconds: 'Consultation time', abandoned_calls: 'Abandoned calls' }],
};
const GROUPS = [
  ['Entities', 'entities', ['organisations', 'clinics']],
  ['Roles', 'roles', ['service_providers', 'service_provider_summary']],
  ['Activities', 'activities', ['room_calls', 'consultations']],
];

function previousMonth() {
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0));
  return [first.toISOString().slice(0, 10), last.toISOString().slice(0, 10)];
}

function reportsView(view, kindArg, idArg) {
  const c = state.claims;
  const scopes = [
    ...(ORG_ROLES.includes(c.role) ? c.orgs.map((id) => ({ kind: 'org', id })) : []),
    ...(c.role === 'clinic_admin' ? c.clinics.map((id) => ({ kind: 'clinic', id })) : []),
  ];
  const scope = kindArg && idArg ? { kind: kindArg, id: idArg } : scopes[0];
  const panel = h('div', { class: 'panel', id: 'reports' });
  view.append(panel);
  if (!scope) {
    panel.append(h('h2', { text: 'Reports' }), h('p', { text: 'Your token names no organisation or clinic.' }));
    return;
  }
  const base = scope.kind === 'org' ? `/orgs/${encodeURIComponent(scope.id)}/reports` : `/clinics/${encodeURIComponent(scope.id)}/reports`;
  const scopeName = `${scope.kind === 'org' ? 'Organisation' : 'Clinic'} ${scope.id}`;
  const [from, to] = previousMonth();
  const form = h('form', { class: 'form', id: 'report-params' },
    h('label', {}, 'From', h('input', { name: 'from', type: 'date', value: from, required: true })),
    h('label', {}, 'To', h('input', { name: 'to', type: 'date', value: to, required: true })),
    h('label', {}, 'Time zone', h('input', { name: 'time_zone', type: 'text', value: 'UTC', size: '16', list: 'zones' })),
    h('datalist', { id: 'zones' }, ['UTC', 'Europe/London', 'Europe/Paris', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney'].map((z) => h('option', { value: z }))),
    h('label', {}, 'Minimum duration (s)', h('input', { name: 'min_duration_seconds', type: 'number', min: '0', max: '86400', value: '0' })),
    h('button', { type: 'submit', id: 'generate', text: 'Generate' }),
    h('button', { type: 'button', class: 'secondary', id: 'history-button', text: 'History' }),
    scope.kind === 'org' ? h('button', { type: 'button', class: 'secondary', id: 'config-button', text: 'Configuration' }) : null,
    scope.kind === 'org' ? h('button', { type: 'button', class: 'secondary', id: 'schedules-button', text: 'Schedules' }) : null,
    scope.kind === 'org' && c.role === 'org_admin' ? h('button', { type: 'button', class: 'secondary', id: 'audit-button', text: 'Audit trail' }) : null);
  const messages = h('div', { id: 'report-messages' });
  const tiles = h('div', { id: 'tiles' });
  const historyBox = h('div', { id: 'history', hidden: true });
  const configBox = h('div', { id: 'config', hidden: true });
  const schedulesBox = h('div', { id: 'schedules', hidden: true });
  panel.append(
    h('div', { class: 'section-head' }, h('h2', { id: 'scope-name', text: `Reports — ${scopeName}` }),
      scopes.length > 1 ? h('select', {
        id: 'scope', 'aria-label': 'Scope',
        onchange: (ev) => { location.hash = `#/reports/${ev.currentTarget.value}`; },
      }, scopes.map((s) => h('option', { value: `${s.kind}/${s.id}`, selected: s.kind === scope.kind && s.id === scope.id, text: `${s.kind === 'org' ? 'Organisation' : 'Clinic'} ${s.id}` }))) : null),
    ORG_ROLES.includes(c.role) && scope.kind === 'org' ? clinicPicker(scope.id) : null,
    form, messages, configBox, schedulesBox, historyBox, tiles);
  // A clinic is named by its name once read; a clinic admin's choice of clinics too.
  if (scope.kind === 'clinic') {
    clinicName(scope.id).then((name) => { $('#scope-name', panel).textContent = `Reports — Clinic ${name}`; });
  }
  for (const option of panel.querySelectorAll('#scope option')) {
    const [kind, id] = option.value.split('/');
    if (kind === 'clinic') clinicName(id).then((name) => { option.textContent = `Clinic ${name}`; });
  }

  if (scope.kind === 'org') {
    // The configuration's zone and minimum duration are the defaults.
    api('GET', `${base}/config`).then(({ data }) => {
      form.elements.time_zone.value = data.time_zone;
      form.elements.min_duration_seconds.value = String(data.min_duration_seconds);
    }).catch((e) => messages.append(problemBox(e)));
    $('#config-button', form).addEventListener('click', () => {
      configBox.hidden = !configBox.hidden;
      if (!configBox.hidden) configPanel(configBox, base, form);
    });
    $('#schedules-button', form).addEventListener('click', () => {
      schedulesBox.hidden = !schedulesBox.hidden;
      if (!schedulesBox.hidden) schedulesPanel(schedulesBox, scope.id);
    });
  }
  const params = () => {
    const fd = new FormData(form);
    const p = { from: fd.get('from'), to: fd.get('to') };
    if (fd.get('time_zone')) p.time_zone = fd.get('time_zone').trim();
    if (fd.get('min_duration_seconds') !== '') p.min_duration_seconds = Number(fd.get('min_duration_seconds'));
    return p;
  };

  const download = async (type, button, status) => {
    button.disabled = true;
    clear(status, busy(`Preparing the ${REPORTS[type][0]} workbook…`));
    try {
      const { data } = await api('POST', `${base}/${type}/download`, { body: params() });
      clear(status, busy(`Downloading ${data.report.file_name}…`));
      startDownload(data.url, data.report.file_name);
      clear(status, h('span', { class: 'downloaded', text: `Downloaded ${data.report.file_name} (${data.report.row_count} rows, ${fmtBytes(data.report.size_bytes)})` }));
      if (!historyBox.hidden) loadHistory();
    } catch (e) {
      clear(status, problemBox(e));
    } finally {
      button.disabled = false;
    }
  };

  const email = async (type, status) => {
    const p = params();
    const ok = await confirmDialog(`Email the ${REPORTS[type][0]} report (${p.from} to ${p.to}, ${p.time_zone || 'configured zone'}) as a link to the email address of your account?`);
    if (!ok) return;
    clear(status, busy('Requesting the email…'));
    try {
      const { data } = await api('POST', `${base}/${type}/email`, { body: p });
      const job = h('div', { class: 'job', dataset: { job: data.job.job_id } });
      clear(status, notice(`Requested: a link to the ${REPORTS[type][0]} report will be emailed to the address of your account.`), job);
      await followJob(data.status_url, data.job, job);
      if (!historyBox.hidden) loadHistory();
    } catch (e) {
      clear(status, problemBox(e));
    }
  };

  const tile = (key, t) => {
    const [title, fields] = REPORTS[t.report_type];
    const status = h('div', { class: 'tile-status' });
    return h('article', { class: 'tile', dataset: { report: t.report_type } },
      h('h4', { text: title }),
      h('dl', {}, Object.entries(t.figures).map(([k, v]) => [
        h('dt', { text: fields[k] || label(k) }),
        h('dd', { dataset: { figure: k }, text: /seconds$/.test(k) ? fmtDuration(v) : String(v) }),
      ])),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', text: 'Download', onclick: (ev) => download(t.report_type, ev.currentTarget, status) }),
        h('button', { type: 'button', class: 'secondary small', text: 'Email report', onclick: () => email(t.report_type, status) })),
      status);
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const p = params();
    clear(messages);
    clear(tiles, busy('Generating…'));
    try {
      const { data } = await api('GET', `${base}/summary`, { query: Object.entries(p) });
      clear(tiles, h('p', { class: 'hint', id: 'tiles-params', text: `${data.params.from} to ${data.params.to} · ${data.params.time_zone} · consultations of at least ${data.params.min_duration_seconds} s` }),
        h('div', { class: 'groups' }, GROUPS.map(([title, key, members]) => h('section', { class: 'group', dataset: { group: key } },
          h('h3', { text: title }), members.map((m) => tile(m, data[key][m]))))));
    } catch (e) {
      if (e instanceof ApiError && e.status === 422 && /range-email-only/.test(e.problem.type || '')) {
        // Over 2 months: no tiles, every report by email only.
        clear(tiles, problemBox(e), h('p', { text: 'Over 2 months no tiles are shown; each report can be emailed.' }),
          h('div', { class: 'groups' }, Object.entries(REPORTS).map(([type, [title]]) => {
            const status = h('div', { class: 'tile-status' });
            return h('article', { class: 'tile', dataset: { report: type } }, h('h4', { text: title }),
              h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary small', text: 'Email report', onclick: () => email(type, status) })), status);
          })));
      } else {
        clear(tiles, problemBox(e));
      }
    }
  });

  const loadHistory = async () => {
    clear(historyBox, h('h3', { text: 'History (past 24 hours)' }), busy('Loading…'));
    try {
      const { data } = await api('GET', `${base}/history`);
      const status = h('div');
      clear(historyBox, h('h3', { text: 'History (past 24 hours)' }), status,
        data.items.length ? h('table', { id: 'history-table' },
          h('thead', {}, h('tr', {}, ['Report', 'Delivery', 'Requested', 'By', 'Period', 'Rows', 'Size', 'State', ''].map((x) => h('th', { text: x })))),
          h('tbody', {}, data.items.map((r) => h('tr', { dataset: { report: r.report_id, type: r.report_type, delivery: r.delivery } },
            h('td', { text: `${REPORTS[r.report_type] ? REPORTS[r.report_type][0] : r.report_type}${r.clinic_id ? ` (${r.clinic_id})` : ''}` }),
            h('td', { text: r.delivery }),
            h('td', { text: fmtTime(r.requested_at) }),
            h('td', { text: `${r.requested_by} (${r.requested_role})` }),
            h('td', { text: `${r.params.from} to ${r.params.to}, ${r.params.time_zone}` }),
            h('td', { class: 'num', text: r.row_count ?? '' }),
            h('td', { class: 'num', text: fmtBytes(r.size_bytes) }),
            h('td', { text: r.state }),
            h('td', {}, r.state === 'ready' ? h('button', {
              type: 'button', class: 'secondary small', text: 'Download again',
              onclick: async (ev) => {
                const button = ev.currentTarget;
                button.disabled = true;
                clear(status, busy(`Preparing ${r.file_name}…`));
                try {
                  const { data: link } = await api('GET', `${base}/history/${encodeURIComponent(r.report_id)}/link`);
                  startDownload(link.url, r.file_name);
                  clear(status, notice(`Downloaded ${r.file_name} again.`));
                } catch (e) {
                  clear(status, problemBox(e));
                } finally {
                  button.disabled = false;
                }
              },
            }) : null))))) : h('p', { class: 'hint', text: 'No report in the past 24 hours.' }));
    } catch (e) {
      clear(historyBox, problemBox(e));
    }
  };
  $('#history-button', form).addEventListener('click', () => {
    historyBox.hidden = !historyBox.hidden;
    if (!historyBox.hidden) loadHistory();
  });
  const auditButton = $('#audit-button', form);
  if (auditButton) {
    auditButton.addEventListener('click', () => {
      const open = $('#audit', panel);
      if (open) open.remove();
      else panel.append(auditPanel(`/orgs/${encodeURIComponent(scope.id)}/audit`, false));
    });
  }
}

// Organisation roles may also run the reports of one clinic of their organisation, picked by
// name from the organisation's clinics (C13).
function clinicPicker(orgId) {
  const select = h('select', { name: 'clinic', id: 'clinic-select', required: true, 'aria-label': 'Clinic' },
    h('option', { value: '', text: 'Loading clinics…' }));
  const form = h('form', { class: 'form', id: 'clinic-picker' },
    h('label', {}, 'Reports of one clinic', select),
    h('button', { type: 'submit', class: 'secondary small', text: 'Open' }));
  orgPlaces(orgId).then(({ clinics }) => {
    clear(select, h('option', { value: '', text: clinics.length ? 'Choose a clinic' : 'No clinics' }),
      clinics.map((c) => h('option', { value: c.clinic_id, text: placeName(c) })));
  }).catch((e) => form.append(problemBox(e)));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const clinic = String(new FormData(form).get('clinic'));
    if (clinic) location.hash = `#/reports/clinic/${encodeURIComponent(clinic)}`;
  });
  return form;
}

// The organisation's clinics and rooms by name (every page of both lists), kept for the
// session: the clinic picker and the tags editor choose from them.
const placesCache = new Map();

async function allPages(path) {
  const items = [];
  let cursor = '';
  do {
    const { data } = await api('GET', path, { query: [['limit', '500'], ['cursor', cursor]] });
    items.push(...data.items);
    cursor = data.next_cursor || '';
  } while (cursor);
  return items;
}

function orgPlaces(orgId) {
  if (!placesCache.has(orgId)) {
    const base = `/orgs/${encodeURIComponent(orgId)}`;
    const byName = (a, b) => a.name.localeCompare(b.name);
    const loading = Promise.all([allPages(`${base}/clinics`), allPages(`${base}/rooms`)])
      .then(([clinics, rooms]) => ({ clinics: clinics.sort(byName), rooms: rooms.sort(byName) }));
    loading.catch(() => placesCache.delete(orgId));
    placesCache.set(orgId, loading);
  }
  return placesCache.get(orgId);
}

function placeName(p) {
  return p.deleted ? `${p.name} (deleted)` : p.name;
}

// A clinic's name for a clinic scope (a clinic admin's own clinics, or an opened clinic);
// its id when it cannot be read.
async function clinicName(clinicId) {
  try {
    const { data } = await api('GET', `/clinics/${encodeURIComponent(clinicId)}`);
    return placeName(data);
  } catch {
    return clinicId;
  }
}

// The tags editor of the configuration (C13): each tag names clinics and rooms, picked by name.
function tagsEditor(tags, places, editable) {
  const list = h('div', { id: 'tags-editor' });
  const clinicName = new Map(places.clinics.map((c) => [c.clinic_id, c.name]));
  const row = (tag) => {
    const pick = (name, options, chosen) => h('select', { name, multiple: true, size: '4', disabled: !editable, 'aria-label': name === 'clinic_ids' ? 'Clinics' : 'Rooms' },
      options.map(([id, text]) => h('option', { value: id, text, selected: chosen.includes(id) })));
    const clinics = pick('clinic_ids', places.clinics.map((c) => [c.clinic_id, placeName(c)]), tag.clinic_ids || []);
    const rooms = pick('room_ids', places.rooms.map((r) => [r.room_id, `${placeName(r)} — ${clinicName.get(r.clinic_id) || r.clinic_id}`]), tag.room_ids || []);
    const el = h('fieldset', { class: 'tag' },
      h('label', {}, 'Tag', h('input', { name: 'tag_name', value: tag.name || '', maxlength: '100', required: true, disabled: !editable })),
      h('label', {}, 'Clinics', clinics), h('label', {}, 'Rooms', rooms),
      editable ? h('button', { type: 'button', class: 'secondary small', text: 'Remove', onclick: () => el.remove() }) : null);
    return el;
  };
  list.append(...tags.map(row));
  const add = editable ? h('button', { type: 'button', class: 'secondary small', id: 'add-tag', text: 'Add tag', onclick: () => list.append(row({ name: '' })) }) : null;
  const read = () => [...list.querySelectorAll('fieldset.tag')].map((f) => ({
    name: f.querySelector('[name=tag_name]').value.trim(),
    clinic_ids: [...f.querySelector('[name=clinic_ids]').selectedOptions].map((o) => o.value),
    room_ids: [...f.querySelector('[name=room_ids]').selectedOptions].map((o) => o.value),
  }));
  return { el: h('div', {}, h('h4', { text: 'Tags' }), list, add), read };
}

// The organisation's report configuration (C1): read by every organisation role, changed by
// its admins only (the API refuses the others with 403).
async function configPanel(box, base, paramsForm) {
  clear(box, h('h3', { text: 'Report configuration' }), busy('Loading…'));
  try {
    const { data } = await api('GET', `${base}/config`);
    const places = await orgPlaces(data.org_id);
    const editable = state.claims.role === 'org_admin';
    const out = h('div');
    const tags = tagsEditor(data.tags, places, editable);
    const form = h('form', { class: 'form', id: 'config-form' },
      h('label', {}, 'Time zone', h('input', { name: 'time_zone', value: data.time_zone, size: '16', list: 'zones', disabled: !editable })),
      h('label', {}, 'Minimum duration (s)', h('input', { name: 'min_duration_seconds', type: 'number', min: '0', max: '86400', value: String(data.min_duration_seconds), disabled: !editable })),
      tags.el,
      editable ? h('button', { type: 'submit', text: 'Save configuration' }) : h('span', { class: 'hint', text: 'Only organisation admins change it.' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const fd = new FormData(form);
      try {
        const { data: saved } = await api('PUT', `${base}/config`, {
          body: {
            time_zone: String(fd.get('time_zone')).trim(),
            min_duration_seconds: Number(fd.get('min_duration_seconds')),
            tags: tags.read(),
            version: data.version,
          },
        });
        paramsForm.elements.time_zone.value = saved.time_zone;
        paramsForm.elements.min_duration_seconds.value = String(saved.min_duration_seconds);
        await configPanel(box, base, paramsForm);
        box.append(notice(`Configuration saved (version ${saved.version}).`));
      } catch (e) {
        clear(out, problemBox(e));
      }
    });
    clear(box, h('h3', { text: 'Report configuration' }),
      h('dl', { class: 'kv' },
        h('dt', { text: 'Version' }), h('dd', { id: 'config-version', text: String(data.version) }),
        h('dt', { text: 'Updated' }), h('dd', { text: data.updated_at ? `${fmtTime(data.updated_at)} by ${data.updated_by}` : 'never (defaults)' }),
        h('dt', { text: 'Tags' }), h('dd', { id: 'config-tags', text: data.tags.length ? data.tags.map((t) => tagSummary(t, places)).join('; ') : 'none' })),
      form, out);
  } catch (e) {
    clear(box, h('h3', { text: 'Report configuration' }), problemBox(e));
  }
}

// Scheduled reports (D7): listed for every organisation role; created, paused, resumed and
// deleted by organisation admins. Each run emails the report to each recipient.
const PERIODS = { yesterday: 'Yesterday', last_7_days: 'Last 7 days', last_30_days: 'Last 30 days', last_week: 'Last week', last_month: 'Last month' };
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

async function schedulesPanel(box, orgId) {
  const path = `/orgs/${encodeURIComponent(orgId)}/reports/schedules`;
  const editable = state.claims.role === 'org_admin';
  clear(box, h('h3', { text: 'Scheduled reports' }), busy('Loading…'));
  try {
    const [{ data }, places, accounts] = await Promise.all([
      api('GET', path), orgPlaces(orgId),
      editable ? allPages(`/orgs/${encodeURIComponent(orgId)}/accounts`) : Promise.resolve([]),
    ]);
    const names = new Map([...places.clinics.map((c) => [c.clinic_id, c.name]), ...accounts.map((a) => [a.account_id, a.name])]);
    const out = h('div');
    const reload = async (text) => { await schedulesPanel(box, orgId); if (text) box.append(notice(text)); };
    const act = async (method, url, body, text) => {
      try {
        await api(method, url, body ? { body } : {});
        await reload(text);
      } catch (e) {
        clear(out, problemBox(e));
      }
    };
    const when = (s) => (s.frequency === 'weekly' ? `weekly on ${s.weekday}` : s.frequency === 'monthly' ? `monthly on day ${s.day_of_month}` : 'daily');
    const table = data.items.length ? h('table', { class: 'data', id: 'schedules-table' },
      h('thead', {}, h('tr', {}, ['Report', 'Runs', 'Period', 'Recipients', 'State', 'Next run', ''].map((c) => h('th', { text: c })))),
      h('tbody', {}, data.items.map((s) => h('tr', { dataset: { schedule: s.schedule_id } },
        h('td', { text: `${REPORTS[s.report_type] ? REPORTS[s.report_type][0] : s.report_type}${s.clinic_id ? ` (${names.get(s.clinic_id) || s.clinic_id})` : ''}` }),
        h('td', { text: `${when(s)} at ${s.run_at} ${s.time_zone}` }),
        h('td', { text: PERIODS[s.period] || s.period }),
        h('td', { text: s.recipients.map((r) => names.get(r) || r).join(', ') }),
        h('td', { class: 'state', text: s.state }),
        h('td', { text: s.state === 'active' ? fmtTime(s.next_run_at) : '—' }),
        h('td', {}, editable ? [
          h('button', { type: 'button', class: 'secondary small', text: s.state === 'active' ? 'Pause' : 'Resume',
            onclick: () => act('PUT', `${path}/${encodeURIComponent(s.schedule_id)}/state`, { state: s.state === 'active' ? 'paused' : 'active' }, `Schedule ${s.state === 'active' ? 'paused' : 'resumed'}.`) }),
          h('button', { type: 'button', class: 'secondary small', text: 'Delete',
            onclick: async () => { if (await confirmDialog('Delete this schedule? Runs already queued go on.')) act('DELETE', `${path}/${encodeURIComponent(s.schedule_id)}`, null, 'Schedule deleted.'); } }),
        ] : null))))) : h('p', { class: 'hint', text: 'No scheduled reports.' });
    let form = null;
    if (editable) {
      const select = (name, label, options, attrs = {}) => h('label', {}, label, h('select', { name, ...attrs }, options.map(([v, t]) => h('option', { value: v, text: t }))));
      form = h('form', { class: 'form', id: 'schedule-form' },
        select('report_type', 'Report', Object.entries(REPORTS).map(([k, [t]]) => [k, t])),
        select('clinic_id', 'Scope', [['', 'Whole organisation'], ...places.clinics.filter((c) => !c.deleted).map((c) => [c.clinic_id, c.name])]),
        select('frequency', 'Frequency', [['daily', 'Daily'], ['weekly', 'Weekly'], ['monthly', 'Monthly']]),
        select('weekday', 'Weekday', WEEKDAYS.map((d) => [d, d[0].toUpperCase() + d.slice(1)])),
        h('label', {}, 'Day of month', h('input', { name: 'day_of_month', type: 'number', min: '1', max: '28', value: '1' })),
        h('label', {}, 'At', h('input', { name: 'run_at', type: 'time', value: '06:00', required: true })),
        select('period', 'Period', Object.entries(PERIODS)),
        h('label', {}, 'Time zone', h('input', { name: 'time_zone', type: 'text', size: '16', list: 'zones', placeholder: 'configured zone' })),
        h('label', {}, 'Minimum duration (s)', h('input', { name: 'min_duration_seconds', type: 'number', min: '0', max: '86400', placeholder: 'configured' })),
        select('recipients', 'Recipients', accounts.filter((a) => !a.deactivated).sort((a, b) => a.name.localeCompare(b.name)).map((a) => [a.account_id, a.name]), { multiple: true, size: '4', required: true }),
        h('button', { type: 'submit', text: 'Schedule' }));
      const frequency = form.elements.frequency;
      const showDays = () => {
        form.elements.weekday.closest('label').hidden = frequency.value !== 'weekly';
        form.elements.day_of_month.closest('label').hidden = frequency.value !== 'monthly';
      };
      frequency.addEventListener('change', showDays);
      showDays();
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const fd = new FormData(form);
        const body = {
          report_type: fd.get('report_type'), frequency: fd.get('frequency'), period: fd.get('period'),
          run_at: fd.get('run_at'), recipients: fd.getAll('recipients'),
        };
        if (fd.get('clinic_id')) body.clinic_id = fd.get('clinic_id');
        if (body.frequency === 'weekly') body.weekday = fd.get('weekday');
        if (body.frequency === 'monthly') body.day_of_month = Number(fd.get('day_of_month'));
        if (String(fd.get('time_zone')).trim()) body.time_zone = String(fd.get('time_zone')).trim();
        if (fd.get('min_duration_seconds') !== '') body.min_duration_seconds = Number(fd.get('min_duration_seconds'));
        act('POST', path, body, 'Schedule created.');
      });
    }
    clear(box, h('h3', { text: 'Scheduled reports' }), table,
      editable ? h('h4', { text: 'New schedule' }) : h('p', { class: 'hint', text: 'Only organisation admins change schedules.' }), form, out);
  } catch (e) {
    clear(box, h('h3', { text: 'Scheduled reports' }), problemBox(e));
  }
}

// A tag with the names of what it labels: "Metro: Clinic A, Room B".
function tagSummary(tag, places) {
  const names = new Map([...places.clinics.map((c) => [c.clinic_id, c.name]), ...places.rooms.map((r) => [r.room_id, r.name])]);
  const named = [...(tag.clinic_ids || []), ...(tag.room_ids || [])].map((id) => names.get(id) || id);
  return named.length ? `${tag.name}: ${named.join(', ')}` : tag.name;
}

const PHASES = ['queued', 'building', 'mailing', 'finished'];

async function followJob(statusUrl, job, box) {
  const deadline = Date.now() + 5 * 60 * 1000;
  let current = job;
  for (;;) {
    const at = PHASES.indexOf(current.phase);
    clear(box,
      h('ol', { class: 'steps', 'aria-label': 'Progress' }, PHASES.map((p, i) => h('li', {
        class: i < at || current.state === 'done' ? 'done' : i === at ? 'current' : '', text: p,
      }))),
      current.state === 'done' ? notice(`Emailed: the report link was sent to the address of your account (${current.row_count} rows).`)
        : current.state === 'failed' ? problemBox(new ApiError(0, { title: 'The emailed report failed', detail: current.reason || '' }))
          : busy(`Job ${current.state}: ${current.phase}…`));
    box.dataset.state = current.state;
    if (current.state === 'done' || current.state === 'failed') return current;
    if (Date.now() > deadline) {
      box.append(h('p', { class: 'hint', text: 'Still running; see the History later.' }));
      return current;
    }
    await new Promise((r) => setTimeout(r, 700));
    current = (await api('GET', statusUrl)).data.job || current;
  }
}

function confirmDialog(text) {
  const dialog = $('#confirm');
  $('#confirm-text').textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}

// ---------------------------------------------------------------- start

// ---------------------------------------------------------------- audit trail (SPEC A10)

// The audit trail: platform admins see every record (and export them), an organisation admin
// their organisation's. The API records each read; the console only shows and filters.
function auditPanel(path, platform) {
  const filter = (name, text, placeholder) => h('label', {}, text,
    h('input', { name, type: 'text', maxlength: '128', size: '16', placeholder, pattern: '[A-Za-z0-9_.:@\\-]+' }));
  const form = h('form', { class: 'form', id: 'audit-filters' },
    filter('actor', 'Actor', 'acc-1'),
    filter('action', 'Action', 'report.downloaded'),
    filter('object', 'Object', 'rep-…'),
    platform ? filter('org', 'Organisation', 'org-1') : null,
    h('label', {}, 'From', h('input', { name: 'from', type: 'date' })),
    h('label', {}, 'To', h('input', { name: 'to', type: 'date' })),
    h('label', {}, 'Time zone', h('input', { name: 'tz', type: 'text', placeholder: 'UTC', size: '14' })),
    h('button', { type: 'submit', text: 'Show' }),
    platform ? h('button', { type: 'button', class: 'secondary', id: 'audit-export', text: 'Export CSV' }) : null);
  const exportBox = h('div', { id: 'audit-export-box' });
  const results = h('div', { id: 'audit-results' });
  const filters = () => [...new FormData(form).entries()].filter(([, v]) => String(v).trim() !== '').map(([k, v]) => [k, String(v).trim()]);
  const load = async (cursor, before) => {
    clear(results, busy('Loading…'));
    try {
      const query = [...filters(), ['limit', '50']];
      if (cursor) query.push(['cursor', cursor]);
      const { data } = await api('GET', path, { query });
      clear(results,
        data.items.length ? h('table', { class: 'rows', id: 'audit-rows' },
          h('thead', {}, h('tr', {}, ['At', 'Actor', 'Role', 'Action', 'Scope', 'Object', 'Rows', 'Details'].map((c) => h('th', { text: c })))),
          h('tbody', {}, data.items.map((r) => h('tr', { dataset: { record: r.record_id, action: r.action } },
            h('td', { text: fmtTime(r.at) }),
            h('td', { text: r.actor_sub }),
            h('td', { text: r.actor_role }),
            h('td', { text: r.action }),
            h('td', { text: r.scope }),
            h('td', { text: r.object_id }),
            h('td', { class: 'num', text: r.row_count ?? '' }),
            h('td', {}, r.params === null || r.params === undefined ? '' : h('code', { text: JSON.stringify(r.params) })))))) : h('p', { class: 'hint', text: 'No record matches.' }),
        h('div', { class: 'pager' },
          h('button', { type: 'button', class: 'secondary small', text: 'First page', disabled: !cursor, onclick: () => load(null, []) }),
          h('button', {
            type: 'button', class: 'secondary small', id: 'audit-next', text: 'Next page', disabled: !data.next_cursor,
            onclick: () => load(data.next_cursor, [...before, cursor]),
          }),
          h('span', { class: 'hint', id: 'audit-page-info', text: `Page ${before.length + 1} · ${data.items.length} records` })));
    } catch (e) {
      clear(results, problemBox(e));
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load(null, []);
  });
  const exportButton = $('#audit-export', form);
  if (exportButton) {
    exportButton.addEventListener('click', async () => {
      exportButton.disabled = true;
      clear(exportBox, busy('Exporting every record that matches…'));
      try {
        const { data } = await api('GET', `${path}/export`, { query: filters() });
        clear(exportBox, h('div', { class: 'notice', role: 'status' },
          `CSV ready: ${data.rows} records, ${fmtBytes(data.bytes)}. `,
          h('a', { href: data.url, download: '', id: 'audit-csv-link', text: 'Download CSV' }),
          ' (the link works for 15 minutes)'));
      } catch (e) {
        clear(exportBox, problemBox(e));
      } finally {
        exportButton.disabled = false;
      }
    });
  }
  load(null, []);
  return h('div', { class: 'panel', id: 'audit' }, h('h2', { text: 'Audit trail' }),
    h('p', { class: 'hint', text: 'Every read of the trail is itself recorded.' }), form, exportBox, results);
}

window.addEventListener('hashchange', render);
document.addEventListener('DOMContentLoaded', () => {
  $('#sign-out').addEventListener('click', signOut);
  $('#token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const fd = new FormData(ev.currentTarget);
    signIn(String(fd.get('base')).trim(), String(fd.get('token')).trim(), null);
  });
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    if (saved && saved.token) {
      Object.assign(state, saved, { claims: decodeClaims(saved.token) });
      if (!state.claims) state.token = '';
    }
  } catch {
    sessionStorage.removeItem(STORAGE_KEY);
  }
  render();
});
