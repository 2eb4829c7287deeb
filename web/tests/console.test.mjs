// Browser tests of the web console: the local server (its debug build, demo data in a fresh
// data directory) and Debian's Chromium driven by playwright-core. One journey per role.
// Screenshots and downloaded files are kept under web/tests/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const artifacts = path.join(here, 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const serverBin = process.env.LOCAL_SERVER_BIN
  || path.resolve(root, process.env.CARGO_TARGET_DIR || 'target', 'debug', 'local-server');

let server;
let serverLog = '';
let base;
let browser;
let dataDir;
let identities;

function fail(message) {
  throw new Error(message);
}

before(async () => {
  existsSync(CHROMIUM) || fail(`no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium)`);
  existsSync(serverBin) || fail(`no local server at ${serverBin}: cargo build -p local-server`);
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  dataDir = mkdtempSync(path.join(tmpdir(), 'console-test-'));
  server = spawn(serverBin, ['serve', '--port', '0', '--data-dir', path.join(dataDir, 'data')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stderr.on('data', (d) => { serverLog += d; });
  // infra/test.sh names a file for the server's whole output: its log scan (step 7) reads it.
  const logFile = process.env.LOCAL_SERVER_LOG;
  if (logFile) {
    server.stdout.on('data', (d) => appendFileSync(logFile, d));
    server.stderr.on('data', (d) => appendFileSync(logFile, d));
  }
  process.on('exit', () => server.kill());
  base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the local server did not start in 420 s:\n${out}\n${serverLog}`)), 420_000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/Telehealth reporting API \(local\) at (\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`the local server exited (${code}):\n${out}\n${serverLog}`)));
  });
  const res = await fetch(`${base}/console/identities`);
  assert.equal(res.status, 200);
  identities = (await res.json()).identities;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives every launch a new, empty profile directory of its own.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  assert.doesNotMatch(serverLog, /panicked/, 'the local server panicked');
});

// ---------------------------------------------------------------- helpers

function token(sub) {
  const i = identities.find((x) => x.sub === sub) || fail(`no identity ${sub}`);
  return i.token;
}

async function apiAs(sub, method, p, body) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { Authorization: `Bearer ${token(sub)}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, data: await res.json() };
}

async function signIn(sub) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.errors = errors;
  await page.goto(`${base}/`);
  assert.equal(new URL(page.url()).pathname, '/console/');
  await page.locator(`#identities button[data-sub="${sub}"]`).click();
  await page.locator('#whoami').waitFor();
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// The first screen only (the pictures of the README and docs/console.md: docs/screenshots/ are copies of these).
async function viewportShot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
}

async function rows(page) {
  await page.locator('#results table.rows, #results .problem, #results p.hint').first().waitFor();
  return page.locator('#results table.rows tbody tr');
}

async function download(page, click) {
  const [dl] = await Promise.all([page.waitForEvent('download'), click()]);
  const file = path.join(artifacts, dl.suggestedFilename());
  await dl.saveAs(file);
  return file;
}

function readXlsx(file) {
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(0, 4).toString('hex'), '504b0304', `${file} is not a zip archive`);
  return JSON.parse(execFileSync('python3', [path.join(here, 'xlsx_cells.py'), file], { encoding: 'utf8' }));
}

function previousMonth() {
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0));
  return [first.toISOString().slice(0, 10), last.toISOString().slice(0, 10)];
}

// ---------------------------------------------------------------- journeys

test('sign-in offers the demo identities, and a pasted token works too', async () => {
  const subs = identities.map((i) => `${i.role}:${i.sub}`);
  assert.deepEqual(subs, ['platform_admin:admin-1', 'practitioner:prac-1', 'practitioner:prac-2', 'patient:pat-1',
    'org_admin:acc-1', 'org_coordinator:acc-2', 'org_reporter:acc-3', 'clinic_admin:acc-4', 'org_admin:acc-61']);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/console/`);
  await page.locator('#identities button').first().waitFor();
  assert.equal(await page.locator('#identities button').count(), 9);
  await shot(page, 'sign-in');
  // A token that is no token is refused by the console; a forged one by the API (401).
  await page.fill('#api-token', 'not-a-token');
  await page.click('#token-form button[type=submit]');
  await page.locator('#signin-error .problem').waitFor();
  const forged = token('admin-1').slice(0, -4) + 'AAAA';
  await page.fill('#api-token', forged);
  await page.click('#token-form button[type=submit]');
  const problem = page.locator('#results .problem');
  await problem.waitFor();
  assert.equal(await problem.getAttribute('data-status'), '401');
  assert.match(await problem.locator('.problem-title').textContent(), /\(401\)$/);
  await problem.getByRole('button', { name: 'Sign in again' }).click();
  await page.fill('#api-base', base);
  await page.fill('#api-token', token('admin-1'));
  await page.click('#token-form button[type=submit]');
  assert.equal((await (await rows(page)).count()), 50);
  await context.close();
});

test('platform admin: the nine admin tabs, filters, pages, tag counts, CSV export, thread details, availability', async () => {
  const page = await signIn('admin-1');
  assert.deepEqual(await page.locator('#nav a:visible').allTextContents(), ['Admin']);
  // Feed: 50 rows, the next page, a tag filter.
  let feed = await rows(page);
  assert.equal(await feed.count(), 50);
  await shot(page, 'admin-feed');
  await viewportShot(page, 'readme-feed');
  const firstThread = await feed.first().locator('td').first().textContent();
  await page.click('#next-page');
  await page.waitForFunction(() => document.querySelector('#page-info')?.textContent.startsWith('Page 2'));
  feed = await rows(page);
  assert.equal(await feed.count(), 50);
  assert.notEqual(await feed.first().locator('td').first().textContent(), firstThread);
  await page.getByRole('button', { name: 'Previous page' }).click();
  await page.waitForFunction(() => document.querySelector('#page-info')?.textContent.startsWith('Page 1'));
  assert.equal(await (await rows(page)).first().locator('td').first().textContent(), firstThread);
  // Search by specialist name: every row has that practitioner.
  const specialistName = (await (await rows(page)).first().locator('td:nth-child(4)').textContent()).split(', ')[0];
  await page.fill('#filters input[name=q]', specialistName);
  await page.click('#filters button[type=submit]');
  await page.waitForFunction((name) => {
    const cells = [...document.querySelectorAll('#results table.rows tbody tr td:nth-child(4)')];
    return cells.length > 0 && cells.every((td) => td.textContent.includes(name));
  }, specialistName);
  await page.fill('#filters input[name=q]', '');
  await page.check('#filters input[name=tag][value=waiting_answer]');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#page-info')?.textContent.startsWith('Page 1'));
  feed = await rows(page);
  const n = await feed.count();
  assert.ok(n > 0);
  for (let i = 0; i < n; i += 1) {
    assert.ok((await feed.nth(i).locator('.tag').allTextContents()).includes('waiting_answer'));
  }
  // CSV export: the API answers a link; the file holds the filtered rows.
  await page.click('#export');
  const link = page.locator('#csv-link');
  await link.waitFor();
  const expected = (await apiAs('admin-1', 'GET', '/admin/feed/export?tag=waiting_answer')).data.rows;
  assert.match(await page.locator('#export-box').textContent(), new RegExp(`CSV ready: ${expected} rows`));
  const csv = readFileSync(await download(page, () => link.click()), 'utf8');
  assert.equal(csv.charCodeAt(0), 0xfeff, 'the CSV starts with a byte-order mark');
  const lines = csv.slice(1).trimEnd().split('\r\n');
  assert.match(lines[0], /^thread_id,/);
  assert.ok(expected > 0);
  assert.equal(lines.length, expected + 1);

  // Thread details: participants' message text is never shown.
  await page.goto(`${base}/console/#/admin/feed`);
  feed = await rows(page);
  const threadId = await feed.first().locator('td a').textContent();
  await feed.first().locator('td a').click();
  await page.locator('#messages tbody tr').first().waitFor();
  assert.equal(await page.locator('#thread dd').first().textContent(), threadId);
  const detail = (await apiAs('admin-1', 'GET', `/admin/threads/${threadId}?limit=50`)).data;
  assert.equal(await page.locator('#messages tbody tr').count(), detail.messages.length);
  const texts = await page.locator('#messages tbody tr td:last-child').allTextContents();
  detail.messages.forEach((m, i) => assert.equal(texts[i], m.text === null ? '(not shown)' : m.text));
  assert.ok(detail.messages.some((m) => m.sender_role !== 'system'), 'the thread has participant messages');
  await shot(page, 'admin-thread');

  // Consultations with the 14-day tag counts, as the API counts them.
  await page.click('nav.tabs a[data-tab=consultations]');
  await page.locator('#tag-counts .count').first().waitFor();
  const counts = (await apiAs('admin-1', 'GET', '/admin/consultations/counts')).data;
  for (const [tag, count] of Object.entries(counts.counts)) {
    assert.equal(await page.locator(`#tag-counts .count[data-tag=${tag}] b`).textContent(), String(count), tag);
  }
  assert.match(await page.locator('#tag-counts h3').textContent(), new RegExp(`: ${counts.total}$`));
  await page.click('#tag-counts .count[data-tag=prescription]');
  await page.waitForFunction(() => document.querySelector('#filters input[value=prescription]').checked
    && document.querySelector('#page-info'));
  const consultations = await rows(page);
  assert.ok(await consultations.count() > 0);
  for (const t of await consultations.locator('td:nth-child(6)').allTextContents()) assert.match(t, /prescription/);
  await shot(page, 'admin-consultations');

  // Every other tab answers rows.
  for (const tab of ['calls', 'practitioners', 'ratings', 'payments', 'payment-items', 'vouchers']) {
    await page.click(`nav.tabs a[data-tab=${tab}]`);
    await page.waitForFunction((t) => document.querySelector(`#results table.rows[data-tab="${t}"]`), tab);
    assert.ok(await (await rows(page)).count() > 0, tab);
    await shot(page, `admin-${tab}`);
  }
  // Payment items filtered by type: only refunds.
  await page.click('nav.tabs a[data-tab=payment-items]');
  await rows(page);
  await page.check('#filters input[name=type][value=refund]');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('#results table.rows tbody tr td:nth-child(2)')]
    .every((td) => td.textContent === 'refund') && document.querySelectorAll('#results table.rows tbody tr').length > 0);
  // A bad filter value: the API's problem, naming the field.
  await page.fill('#filters input[name=tz]', 'Mars/Olympus');
  await page.click('#filters button[type=submit]');
  const problem = page.locator('#results .problem');
  await problem.waitFor();
  assert.equal(await problem.getAttribute('data-status'), '400');
  assert.equal(await problem.locator('.problem-field code').textContent(), 'tz');

  // Availability override on the practitioners tab.
  await page.click('nav.tabs a[data-tab=practitioners]');
  const pracs = await rows(page);
  const name = await pracs.first().locator('td').first().textContent();
  const before = await pracs.first().locator('td:nth-child(4)').textContent();
  const target = before.startsWith('available') ? 'away' : 'available';
  await pracs.first().getByRole('button', { name: 'Override' }).click();
  await page.selectOption('#override-form select[name=availability]', target);
  await page.click('#override-form button[type=submit]');
  await page.locator('#override-box .notice').waitFor();
  assert.equal(await page.locator('#override-box .notice').textContent(), `Saved: ${name} is now ${target} (override).`);
  await page.waitForFunction((t) => document.querySelector('#results table.rows tbody tr td:nth-child(4)')?.textContent === `${t} (override)`, target);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('referrals: the practitioner sends, the patient accepts, the specialist accepts and sees the new thread', async () => {
  const specialist = (await apiAs('prac-1', 'GET', '/referrals/specialists?limit=100')).data.items.find((s) => s.practitioner_id === 'prac-2')
    || fail('prac-2 is not an approved specialist');
  const note = 'Please see this patient about a persistent rash.';
  const referrer = await signIn('prac-1');
  assert.deepEqual(await referrer.locator('#nav a:visible').allTextContents(), ['Referrals']);
  await referrer.fill('#specialist-search input[name=q]', specialist.name);
  await referrer.click('#specialist-search button[type=submit]');
  await referrer.locator('#specialists tr[data-specialist="prac-2"] button').click();
  assert.equal(await referrer.locator('#chosen-specialist').textContent(), `Chosen: ${specialist.name} (prac-2)`);
  assert.equal(await referrer.inputValue('#referral-form input[name=specialist_id]'), 'prac-2');
  // A patient who has no thread with the referrer: the API's 400 names the field.
  await referrer.fill('#referral-form input[name=patient_id]', 'pat-999999');
  await referrer.click('#referral-form button[type=submit]');
  await referrer.locator('#referral-result .problem').waitFor();
  assert.equal(await referrer.locator('#referral-result .problem-field code').textContent(), 'patient_id');
  await referrer.fill('#referral-form input[name=patient_id]', 'pat-1');
  await referrer.fill('#referral-form textarea[name=message]', note);
  await referrer.click('#referral-form button[type=submit]');
  await referrer.locator('#referral-result .notice').waitFor();
  const sent = await referrer.locator('#referral-result .notice').textContent();
  const referralId = sent.match(/Referral (\S+) sent: pending_patient\./)?.[1] || fail(`unexpected: ${sent}`);
  const row = referrer.locator(`#referrals-referrer tr[data-referral="${referralId}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-state'), 'pending_patient');
  await shot(referrer, 'referrals-practitioner');
  await referrer.context().close();

  const patient = await signIn('pat-1');
  const mine = patient.locator(`#referrals-patient tr[data-referral="${referralId}"]`);
  await mine.waitFor();
  assert.equal(await mine.getAttribute('data-state'), 'pending_patient');
  assert.doesNotMatch(await patient.locator('#view').textContent(), /persistent rash/, 'the patient never sees the note');
  await shot(patient, 'referrals-patient');
  await mine.getByRole('button', { name: 'Accept' }).click();
  await patient.waitForFunction((id) => document.querySelector(`#referrals-patient tr[data-referral="${id}"]`)?.dataset.state === 'pending_specialist', referralId);
  assert.equal(await patient.locator('#referral-result .notice').textContent(), `Referral ${referralId} is now pending_specialist.`);
  await patient.context().close();

  const spec = await signIn('prac-2');
  const incoming = spec.locator(`#referrals-specialist tr[data-referral="${referralId}"]`);
  await incoming.waitFor();
  assert.equal(await incoming.getAttribute('data-state'), 'pending_specialist');
  assert.match(await incoming.textContent(), /persistent rash/, 'the specialist sees the note');
  await incoming.getByRole('button', { name: 'Accept' }).click();
  await spec.waitForFunction((id) => document.querySelector(`#referrals-specialist tr[data-referral="${id}"]`)?.dataset.state === 'accepted', referralId);
  const accepted = (await apiAs('prac-2', 'GET', `/referrals/${referralId}`)).data;
  assert.equal(accepted.state, 'accepted');
  assert.ok(accepted.specialist_thread_id && accepted.pair_thread_id);
  const threads = await spec.locator(`#referrals-specialist tr[data-referral="${referralId}"] .thread-id`).allTextContents();
  assert.ok(threads.includes(`specialist–patient: ${accepted.specialist_thread_id}`), threads.join(' | '));
  assert.ok(threads.includes(`practitioners: ${accepted.pair_thread_id}`), threads.join(' | '));
  await shot(spec, 'referrals-specialist');
  // The new thread reaches the admin Feed through ingest.
  const admin = await signIn('admin-1');
  await admin.goto(`${base}/console/#/admin/thread/${encodeURIComponent(accepted.specialist_thread_id)}`);
  await admin.locator('#thread dd').first().waitFor();
  assert.equal(await admin.locator('#thread dd').first().textContent(), accepted.specialist_thread_id);
  await admin.context().close();
  await spec.context().close();

  // A second referral, declined by the patient: final, no buttons left.
  const again = await signIn('prac-1');
  await again.fill('#referral-form input[name=patient_id]', 'pat-1');
  await again.fill('#referral-form input[name=specialist_id]', 'prac-2');
  await again.click('#referral-form button[type=submit]');
  await again.locator('#referral-result .notice').waitFor();
  const second = (await again.locator('#referral-result .notice').textContent()).match(/Referral (\S+) sent/)?.[1] || fail('no second referral');
  await again.context().close();
  const declining = await signIn('pat-1');
  const pending = declining.locator(`#referrals-patient tr[data-referral="${second}"]`);
  await pending.waitFor();
  await pending.getByRole('button', { name: 'Decline' }).click();
  await declining.waitForFunction((id) => document.querySelector(`#referrals-patient tr[data-referral="${id}"]`)?.dataset.state === 'patient_rejected', second);
  assert.equal(await declining.locator(`#referrals-patient tr[data-referral="${second}"] button`).count(), 0);
  assert.equal((await apiAs('pat-1', 'GET', `/referrals/${second}`)).data.state, 'patient_rejected');
  await declining.context().close();
});

test('referrals: the specialist declines with a reason, the referrer sees it, the patient does not', async () => {
  const created = await apiAs('prac-1', 'POST', '/referrals', { patient_id: 'pat-1', specialist_id: 'prac-2' });
  assert.equal(created.status, 201, JSON.stringify(created.data));
  const id = created.data.referral_id;
  const asked = await apiAs('pat-1', 'POST', `/referrals/${id}/patient-decision`, { decision: 'accept' });
  assert.equal(asked.data.state, 'pending_specialist');
  const why = 'Best seen by a paediatric cardiologist.';

  const spec = await signIn('prac-2');
  const incoming = spec.locator(`#referrals-specialist tr[data-referral="${id}"]`);
  await incoming.waitFor();
  await incoming.getByRole('button', { name: 'Decline', exact: true }).click();
  const form = incoming.locator('form.decline-form');
  assert.deepEqual(await form.locator('select[name=code] option').evaluateAll((os) => os.map((o) => o.value)),
    ['', 'outside_specialty', 'no_capacity', 'needs_more_information', 'better_served_elsewhere', 'other']);
  // "Other" needs its text: the form does not send without it.
  await form.locator('select[name=code]').selectOption('other');
  await form.getByRole('button', { name: 'Decline referral' }).click();
  assert.equal(await form.locator('textarea[name=text]').evaluate((t) => t.validity.valueMissing), true);
  assert.equal(await incoming.getAttribute('data-state'), 'pending_specialist');
  await form.locator('textarea[name=text]').fill(why);
  await form.getByRole('button', { name: 'Decline referral' }).click();
  await spec.waitForFunction((rid) => document.querySelector(`#referrals-specialist tr[data-referral="${rid}"]`)?.dataset.state === 'rejected', id);
  assert.equal(await spec.locator('#referral-result .notice').textContent(), `Referral ${id} is now rejected.`);
  await shot(spec, 'referrals-specialist-declined');
  assert.deepEqual(spec.errors, []);
  await spec.context().close();

  const referrer = await signIn('prac-1');
  const sent = referrer.locator(`#referrals-referrer tr[data-referral="${id}"]`);
  await sent.waitFor();
  assert.equal(await sent.getAttribute('data-state'), 'rejected');
  assert.equal(await sent.locator('.decline-reason').textContent(), `Reason: ${why}`);
  assert.deepEqual((await apiAs('prac-1', 'GET', `/referrals/${id}`)).data.decline_reason, { code: 'other', text: why });
  await shot(referrer, 'referrals-referrer-declined');
  await referrer.context().close();

  const patient = await signIn('pat-1');
  const mine = patient.locator(`#referrals-patient tr[data-referral="${id}"]`);
  await mine.waitFor();
  assert.equal(await mine.getAttribute('data-state'), 'pending_specialist');
  assert.equal(await patient.locator('#view .decline-reason').count(), 0);
  const screen = await patient.locator('#view').textContent();
  assert.doesNotMatch(screen, /paediatric|Reason:/, 'the patient never sees the reason');
  const seen = (await apiAs('pat-1', 'GET', `/referrals/${id}`)).data;
  assert.equal(seen.state, 'pending_specialist');
  assert.doesNotMatch(JSON.stringify(seen), /reason|paediatric/);
  assert.doesNotMatch(JSON.stringify((await apiAs('pat-1', 'GET', '/referrals')).data), /reason|paediatric/);
  await patient.context().close();
});

test('org admin: tiles, a workbook download with its indicator, an emailed report followed to the end, history and re-download', async () => {
  const [from, to] = previousMonth();
  const page = await signIn('acc-1');
  assert.deepEqual(await page.locator('#nav a:visible').allTextContents(), ['Reports']);
  assert.equal(await page.locator('#scope-name').textContent(), 'Reports — Organisation org-1');
  assert.equal(await page.inputValue('#report-params input[name=from]'), from);
  await page.click('#generate');
  await page.locator('#tiles .tile').first().waitFor();
  assert.deepEqual(await page.locator('#tiles .group h3').allTextContents(), ['Entities', 'Roles', 'Activities']);
  assert.equal(await page.locator('#tiles .tile').count(), 6);
  const summary = (await apiAs('acc-1', 'GET', `/orgs/org-1/reports/summary?from=${from}&to=${to}&time_zone=UTC&min_duration_seconds=0`)).data;
  assert.equal(await page.locator('#tiles .tile[data-report=consultations] dd[data-figure=consultations]').textContent(),
    String(summary.activities.consultations.figures.consultations));
  assert.ok(summary.activities.consultations.figures.consultations > 0, 'demo data has consultations last month');
  assert.equal(await page.locator('#tiles .tile[data-report=organisation] dd[data-figure=user_accounts]').textContent(),
    String(summary.entities.organisations.figures.user_accounts));
  await shot(page, 'reports');
  await viewportShot(page, 'readme-reports');

  // Download, with the indicator on screen while the workbook is prepared (the answer is held
  // back half a second so the indicator is seen).
  await page.route('**/reports/clinics/download', async (route) => {
    await new Promise((r) => setTimeout(r, 500));
    await route.continue();
  });
  const tile = page.locator('#tiles .tile[data-report=clinics]');
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    (async () => {
      await tile.getByRole('button', { name: 'Download' }).click();
      await tile.locator('.busy', { hasText: 'Preparing the Clinics workbook' }).waitFor();
    })(),
  ]);
  const file = path.join(artifacts, dl.suggestedFilename());
  await dl.saveAs(file);
  assert.equal(dl.suggestedFilename(), `clinics_${from}_${to}.xlsx`);
  const book = readXlsx(file);
  assert.deepEqual(book.sheets, ['Data', 'Field descriptions', 'About this report']);
  assert.deepEqual(book.header.slice(0, 4), ['Organisation', 'Clinic', 'Subdomain', 'Waiting-area status']);
  assert.equal(book.data_rows, summary.entities.clinics.figures.clinics);
  await tile.locator('.downloaded').waitFor();

  // Email: a confirmation, then the job followed to its end.
  const consult = page.locator('#tiles .tile[data-report=consultations]');
  await consult.getByRole('button', { name: 'Email report' }).click();
  await page.locator('#confirm[open]').waitFor();
  assert.match(await page.locator('#confirm-text').textContent(), /^Email the Consultations report/);
  await page.click('#confirm-ok');
  await consult.locator('.job[data-state=done]').waitFor({ timeout: 60_000 });
  assert.match(await consult.locator('.job .notice').textContent(), /^Emailed: the report link was sent to the address of your account \(\d+ rows\)\.$/);
  assert.equal(await consult.locator('.job .steps li.done').count(), 4);
  await shot(page, 'reports-emailed');

  // History: both reports, and the emailed one downloaded again.
  await page.click('#history-button');
  await page.locator('#history-table tbody tr').first().waitFor();
  const emailed = page.locator('#history-table tr[data-type=consultations][data-delivery=email]');
  assert.equal(await emailed.count(), 1);
  assert.equal(await page.locator('#history-table tr[data-type=clinics][data-delivery=download]').count(), 1);
  const again = await download(page, () => emailed.getByRole('button', { name: 'Download again' }).click());
  const consultBook = readXlsx(again);
  assert.deepEqual(consultBook.sheets, ['Data', 'Field descriptions', 'About this report']);
  assert.equal(consultBook.header[0], 'Organisation');
  assert.ok(consultBook.data_rows > 0);
  await shot(page, 'reports-history');

  // Over 2 months: no tiles, email only.
  const now = new Date();
  const longAgo = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 5, 1)).toISOString().slice(0, 10);
  await page.fill('#report-params input[name=from]', longAgo);
  await page.fill('#report-params input[name=to]', to);
  await page.click('#generate');
  await page.locator('#tiles .problem').waitFor();
  assert.equal(await page.locator('#tiles .problem-field code').textContent(), 'to');
  assert.equal(await page.locator('#tiles .tile dl').count(), 0);
  assert.equal(await page.locator('#tiles .tile button', { hasText: 'Email report' }).count(), 6);
  assert.equal(await page.locator('#tiles .tile button', { hasText: 'Download' }).count(), 0);

  // One clinic of the organisation, through the clinic picker; a clinic of org-2 is refused.
  await page.fill('#clinic-picker input[name=clinic]', 'clinic-2');
  await page.click('#clinic-picker button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#scope-name')?.textContent === 'Reports — Clinic clinic-2');
  await page.click('#generate');
  await page.locator('#tiles .tile').first().waitFor();
  assert.equal(await page.locator('#tiles .tile[data-report=clinics] dd[data-figure=clinics]').textContent(), '1');
  await page.fill('#clinic-picker input[name=clinic]', 'clinic-4');
  await page.click('#clinic-picker button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#scope-name')?.textContent === 'Reports — Clinic clinic-4');
  await page.click('#generate');
  await page.locator('#tiles .problem').waitFor();
  assert.equal(await page.locator('#tiles .problem').getAttribute('data-status'), '404');
  await page.goto(`${base}/console/#/reports`);
  await page.locator('#report-params').waitFor();

  // The report configuration: saved by the admin, then the default of the parameters.
  await page.click('#config-button');
  await page.locator('#config-form').waitFor();
  assert.equal(await page.locator('#config-version').textContent(), '0');
  await page.fill('#config-form input[name=time_zone]', 'Europe/Paris');
  await page.fill('#config-form input[name=min_duration_seconds]', '60');
  await page.click('#config-form button[type=submit]');
  await page.locator('#config .notice').waitFor();
  assert.equal(await page.locator('#config .notice').textContent(), 'Configuration saved (version 1).');
  assert.equal(await page.inputValue('#report-params input[name=time_zone]'), 'Europe/Paris');
  assert.equal(await page.inputValue('#report-params input[name=min_duration_seconds]'), '60');
  const config = (await apiAs('acc-1', 'GET', '/orgs/org-1/reports/config')).data;
  assert.equal(config.time_zone, 'Europe/Paris');
  assert.equal(config.min_duration_seconds, 60);
  // A zone that does not exist: the API's 400 names the field.
  await page.fill('#config-form input[name=time_zone]', 'Mars/Olympus');
  await page.click('#config-form button[type=submit]');
  await page.locator('#config .problem').waitFor();
  assert.equal(await page.locator('#config .problem-field code').textContent(), 'time_zone');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('org admin: a downloaded workbook explains itself (frozen header, filter, widths, UTC offsets, About sheet)', async () => {
  const [from, to] = previousMonth();
  const page = await signIn('acc-1');
  // The configuration's defaults arrive after the form is drawn: let them land, then choose.
  await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/reports/config')));
  await page.waitForTimeout(300);
  await page.fill('#report-params input[name=time_zone]', 'America/New_York');
  await page.fill('#report-params input[name=min_duration_seconds]', '0');
  await page.click('#generate');
  await page.locator('#tiles .tile dl').first().waitFor();
  const consult = page.locator('#tiles .tile[data-report=consultations]');
  const book = readXlsx(await download(page, () => consult.getByRole('button', { name: 'Download' }).click()));
  assert.deepEqual(book.sheets, ['Data', 'Field descriptions', 'About this report']);
  assert.ok(book.data_rows > 0, 'demo data has consultations last month');
  // The header row stays in view and filters every column over every row.
  assert.equal(book.frozen, 'A2');
  const col = (i) => (i >= 26 ? String.fromCharCode(64 + Math.floor(i / 26)) : '') + String.fromCharCode(65 + (i % 26));
  assert.equal(book.autofilter, `A1:${col(book.header.length - 1)}${book.data_rows + 1}`);
  // A UTC-offset column beside each date-time column, wide enough never to show ####.
  const dateTimes = book.header.filter((h) => book.header.includes(`${h} UTC offset`));
  assert.ok(dateTimes.includes('Waiting-area entry'), JSON.stringify(book.header));
  for (const h of dateTimes) {
    const at = book.header.indexOf(h);
    assert.equal(book.header[at + 1], `${h} UTC offset`);
    assert.ok(book.widths[at] >= 20, `${h} is ${book.widths[at]} wide`);
    book.columns[h].forEach((v, i) => {
      const offset = book.columns[`${h} UTC offset`][i];
      // Empty together; otherwise New York's offset in hours: -4 (EDT) or -5 (EST).
      assert.equal(v === null, offset === null, `${h} row ${i + 1}`);
      if (offset !== null) assert.ok(offset === -4 || offset === -5, `${h} row ${i + 1}: ${offset}`);
    });
  }
  for (const [i, w] of book.widths.entries()) assert.ok(w >= Math.min(book.header[i].length + 3, 50), `${book.header[i]} is ${w} wide`);
  // The About sheet names the report, its scope, period, zone, minimum, time made, rows, requester.
  const about = book.about;
  assert.deepEqual(Object.keys(about), ['Report', 'Organisation', 'Period', 'Time zone', 'Minimum duration', 'Generated at', 'Requested by', 'Configuration version', 'Rows']);
  assert.equal(about.Report, 'Consultations');
  assert.equal(about.Organisation, book.columns.Organisation[0]);
  assert.equal(about.Period, `${from} to ${to} (whole local days)`);
  assert.equal(about['Time zone'], 'America/New_York');
  assert.equal(about['Minimum duration'], '0 seconds');
  assert.match(about['Generated at'], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d -0[45]:00$/);
  assert.match(about['Configuration version'], /^\d+$/);
  assert.equal(about.Rows, String(book.data_rows));
  // The requester by account name: one of the organisation's service providers, not an id.
  const providers = readXlsx(await download(page, () => page.locator('#tiles .tile[data-report=service-providers]').getByRole('button', { name: 'Download' }).click()));
  assert.equal(providers.about['Requested by'], about['Requested by']);
  assert.ok(providers.columns.Name.includes(about['Requested by']), about['Requested by']);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('org reporter: no admin tabs (the API answers 403 if opened), its own reports work', async () => {
  const page = await signIn('acc-3');
  assert.deepEqual(await page.locator('#nav a:visible').allTextContents(), ['Reports']);
  await page.goto(`${base}/console/#/admin/feed`);
  const problem = page.locator('#results .problem');
  await problem.waitFor();
  assert.equal(await problem.getAttribute('data-status'), '403');
  assert.equal(await problem.locator('.problem-detail').textContent(), 'the role org_reporter may not call this route');
  assert.equal(await page.locator('#results table').count(), 0);
  await shot(page, 'reporter-admin-forbidden');
  await page.goto(`${base}/console/#/reports`);
  await page.click('#generate');
  await page.locator('#tiles .tile').first().waitFor();
  assert.equal(await page.locator('#tiles .tile').count(), 6);
  // The configuration is shown but cannot be changed by a reporter.
  await page.click('#config-button');
  await page.locator('#config-form').waitFor();
  assert.equal(await page.locator('#config-form input[name=time_zone]').isDisabled(), true);
  assert.equal(await page.locator('#config-form button').count(), 0);
  await page.context().close();
});

test('clinic admin: only its clinic', async () => {
  const [from, to] = previousMonth();
  const page = await signIn('acc-4');
  assert.deepEqual(await page.locator('#nav a:visible').allTextContents(), ['Reports']);
  assert.equal(await page.locator('#scope-name').textContent(), 'Reports — Clinic clinic-1');
  assert.equal(await page.locator('#scope').count(), 0, 'one clinic, no scope choice');
  await page.click('#generate');
  await page.locator('#tiles .tile').first().waitFor();
  assert.equal(await page.locator('#tiles .tile[data-report=clinics] dd[data-figure=clinics]').textContent(), '1');
  const summary = (await apiAs('acc-4', 'GET', `/clinics/clinic-1/reports/summary?from=${from}&to=${to}&time_zone=UTC&min_duration_seconds=0`)).data;
  assert.equal(await page.locator('#tiles .tile[data-report=consultations] dd[data-figure=consultations]').textContent(),
    String(summary.activities.consultations.figures.consultations));
  await shot(page, 'reports-clinic');
  // Another clinic of the same organisation, or the organisation itself: refused.
  await page.goto(`${base}/console/#/reports/clinic/clinic-2`);
  await page.click('#generate');
  await page.locator('#tiles .problem').waitFor();
  assert.equal(await page.locator('#tiles .problem').getAttribute('data-status'), '404');
  await page.goto(`${base}/console/#/reports/org/org-1`);
  await page.click('#generate');
  await page.locator('#tiles .problem').waitFor();
  assert.equal(await page.locator('#tiles .problem').getAttribute('data-status'), '403');
  await page.context().close();
});

test("an organisation's admin cannot see another organisation's reports", async () => {
  const page = await signIn('acc-61');
  assert.equal(await page.locator('#scope-name').textContent(), 'Reports — Organisation org-2');
  await page.click('#history-button');
  await page.locator('#history p.hint, #history table').first().waitFor();
  // org-1's reports (downloaded and emailed above) are not in org-2's history.
  const org1 = (await apiAs('acc-1', 'GET', '/orgs/org-1/reports/history')).data.items.map((r) => r.report_id);
  assert.ok(org1.length >= 2);
  for (const id of org1) assert.equal(await page.locator(`#history tr[data-report="${id}"]`).count(), 0);
  await page.click('#generate');
  await page.locator('#tiles .tile').first().waitFor();
  // Through the console's address: org-1's summary and history answer 404.
  await page.goto(`${base}/console/#/reports/org/org-1`);
  await page.click('#generate');
  await page.locator('#tiles .problem').waitFor();
  assert.equal(await page.locator('#tiles .problem').getAttribute('data-status'), '404');
  await page.click('#history-button');
  await page.locator('#history .problem').waitFor();
  assert.equal(await page.locator('#history .problem').getAttribute('data-status'), '404');
  assert.equal(await page.locator('#history table').count(), 0);
  await shot(page, 'reports-other-org-refused');
  await page.context().close();
});
