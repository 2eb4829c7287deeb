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

test('referrals: the referrer withdraws pending referrals; the patient and the specialist see them withdrawn, with nothing to answer', async () => {
  const note = 'Withdrawal journey note for the specialist.';
  const asked = await apiAs('prac-1', 'POST', '/referrals', { patient_id: 'pat-1', specialist_id: 'prac-2', message: note });
  assert.equal(asked.status, 201, JSON.stringify(asked.data));
  assert.equal(asked.data.state, 'pending_patient');
  const withSpecialist = await apiAs('prac-1', 'POST', '/referrals', { patient_id: 'pat-1', specialist_id: 'prac-2' });
  const second = withSpecialist.data.referral_id;
  assert.equal((await apiAs('pat-1', 'POST', `/referrals/${second}/patient-decision`, { decision: 'accept' })).data.state, 'pending_specialist');

  const referrer = await signIn('prac-1');
  for (const [id, from] of [[asked.data.referral_id, 'pending_patient'], [second, 'pending_specialist']]) {
    const row = referrer.locator(`#referrals-referrer tr[data-referral="${id}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-state'), from);
    assert.match(await row.locator('.expires').textContent(), /^Expires /);
    await row.getByRole('button', { name: 'Withdraw', exact: true }).click();
    await referrer.locator('#confirm[open]').waitFor();
    assert.match(await referrer.locator('#confirm-text').textContent(), new RegExp(`^Withdraw referral ${id}\\?`));
    await referrer.click('#confirm-ok');
    await referrer.waitForFunction((rid) => document.querySelector(`#referrals-referrer tr[data-referral="${rid}"]`)?.dataset.state === 'withdrawn', id);
    assert.equal(await referrer.locator('#referral-result .notice').textContent(), `Referral ${id} is now withdrawn.`);
    const done = referrer.locator(`#referrals-referrer tr[data-referral="${id}"]`);
    assert.equal(await done.getByRole('button', { name: 'Withdraw', exact: true }).count(), 0);
    assert.equal(await done.locator('.expires').count(), 0);
  }
  await shot(referrer, 'referrals-referrer-withdrawn');
  assert.deepEqual(referrer.errors, []);
  await referrer.context().close();

  const patient = await signIn('pat-1');
  const mine = patient.locator(`#referrals-patient tr[data-referral="${asked.data.referral_id}"]`);
  await mine.waitFor();
  assert.equal(await mine.getAttribute('data-state'), 'withdrawn');
  assert.equal(await mine.getByRole('button', { name: 'Accept', exact: true }).count(), 0);
  assert.doesNotMatch(await patient.locator('#view').textContent(), /Withdrawal journey note/, 'the patient never sees the note');
  await patient.context().close();

  const spec = await signIn('prac-2');
  const incoming = spec.locator(`#referrals-specialist tr[data-referral="${second}"]`);
  await incoming.waitFor();
  assert.equal(await incoming.getAttribute('data-state'), 'withdrawn');
  assert.equal(await incoming.getByRole('button').count(), 0, 'nothing to decide on a withdrawn referral');
  assert.equal(await spec.locator(`#referrals-specialist tr[data-referral="${asked.data.referral_id}"]`).count(), 0,
    'withdrawn before the patient approved: it never reached the specialist');
  await shot(spec, 'referrals-specialist-withdrawn');
  await spec.context().close();
});

test('platform admin: referral ageing per state and per specialist, the oldest pending referral, CSV', async () => {
  const made = await apiAs('prac-1', 'POST', '/referrals', { patient_id: 'pat-1', specialist_id: 'prac-2' });
  assert.equal(made.status, 201, JSON.stringify(made.data));
  const api = (await apiAs('admin-1', 'GET', '/admin/referral-ageing')).data;
  assert.ok(api.states.find((s) => s.state === 'pending_patient').count >= 1);

  const page = await signIn('admin-1');
  await page.click('nav.tabs a[data-tab=ageing]');
  await page.locator('#ageing-table tbody tr').first().waitFor();
  const shown = await page.locator('#ageing-table tbody tr').evaluateAll((trs) => trs.map((tr) => [
    tr.dataset.group, tr.dataset.state, tr.querySelector('[data-figure=count]').textContent, tr.querySelector('[data-figure=stays]').textContent]));
  assert.deepEqual(shown, api.states.map((s) => ['all', s.state, String(s.count), String(s.stays)]));
  assert.match(await page.locator('#oldest-pending').textContent(), new RegExp(`^Oldest pending: ${api.oldest_pending.referral_id} \\(`));
  await shot(page, 'admin-referral-ageing');

  // By specialist: seven states for each specialist with referrals, the referral's among them.
  await page.selectOption('#ageing-form select[name=by]', 'specialist');
  await page.click('#ageing-form button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('#ageing-table tbody tr')].some((tr) => tr.dataset.group.endsWith('(prac-2)')));
  const bySpecialist = (await apiAs('admin-1', 'GET', '/admin/referral-ageing?by=specialist')).data;
  assert.equal(await page.locator('#ageing-table tbody tr').count(), bySpecialist.items.length * 7);
  const waiting = page.locator('#ageing-table tbody tr[data-state=pending_patient]').filter({ hasText: '(prac-2)' });
  const prac2 = bySpecialist.items.find((g) => g.key === 'prac-2');
  assert.equal(await waiting.locator('[data-figure=count]').textContent(),
    String(prac2.states.find((s) => s.state === 'pending_patient').count));
  assert.equal(await page.locator('#oldest-pending').count(), 0);

  // The CSV of the same rows.
  await page.click('#ageing-export');
  await page.locator('#ageing-csv-link').waitFor();
  const file = await download(page, () => page.click('#ageing-csv-link'));
  const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  assert.equal(lines[0], 'group,key,name,state,count,stays,median_seconds_at_most,p90_seconds_at_most');
  assert.equal(lines.length - 1, bySpecialist.items.length * 7);
  assert.ok(lines.some((l) => l.startsWith('specialist,prac-2,')), lines.join('\n'));
  assert.match(await page.locator('#ageing-export-box').textContent(), new RegExp(`^CSV ready: ${lines.length - 1} rows`));
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // Anyone else: the API refuses.
  assert.equal((await apiAs('prac-1', 'GET', '/admin/referral-ageing')).status, 403);
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

  // One clinic of the organisation, through the clinic picker; a clinic of org-2 (opened by
  // its address: the picker lists only org-1's) is refused.
  const clinic2 = (await apiAs('acc-1', 'GET', '/clinics/clinic-2')).data.name;
  await page.locator('#clinic-select option[value="clinic-2"]').waitFor({ state: 'attached' });
  await page.selectOption('#clinic-select', 'clinic-2');
  await page.click('#clinic-picker button[type=submit]');
  await page.waitForFunction((name) => document.querySelector('#scope-name')?.textContent === `Reports — Clinic ${name}`, clinic2);
  await page.click('#generate');
  await page.locator('#tiles .tile').first().waitFor();
  assert.equal(await page.locator('#tiles .tile[data-report=clinics] dd[data-figure=clinics]').textContent(), '1');
  await page.goto(`${base}/console/#/reports/clinic/clinic-4`);
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
  const clinic1 = (await apiAs('acc-4', 'GET', '/clinics/clinic-1')).data.name;
  await page.waitForFunction((name) => document.querySelector('#scope-name')?.textContent === `Reports — Clinic ${name}`, clinic1);
  assert.equal(await page.locator('#scope').count(), 0, 'one clinic, no scope choice');
  assert.equal(await page.locator('#clinic-picker').count(), 0, 'no other clinic to pick');
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

test('org admin: clinics and rooms by name in the clinic picker and the tags editor', async () => {
  const clinics = (await apiAs('acc-1', 'GET', '/orgs/org-1/clinics?limit=500')).data.items;
  const rooms = (await apiAs('acc-1', 'GET', '/orgs/org-1/rooms?limit=500')).data.items;
  assert.ok(clinics.length >= 2 && rooms.length >= 1);
  const named = (p) => (p.deleted ? `${p.name} (deleted)` : p.name);
  const page = await signIn('acc-1');
  await page.goto(`${base}/console/#/reports`);
  await page.locator(`#clinic-select option[value="${clinics[0].clinic_id}"]`).waitFor({ state: 'attached' });
  // The picker names the organisation's clinics, by name, and nothing of another organisation.
  const byName = [...clinics].sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual((await page.locator('#clinic-select option').allTextContents()).slice(1), byName.map(named));
  assert.equal(await page.locator('#clinic-select option[value="clinic-4"]').count(), 0);

  // A tag on a clinic and a room, each picked by name; the configuration stores their ids.
  const clinic = clinics.find((c) => !c.deleted);
  const room = rooms.find((r) => !r.deleted);
  await page.click('#config-button');
  await page.locator('#config-form').waitFor();
  await page.click('#add-tag');
  const tag = page.locator('#tags-editor fieldset.tag').last();
  await tag.locator('input[name=tag_name]').fill('Metro');
  await tag.locator('select[name=clinic_ids]').selectOption({ label: named(clinic) });
  const roomLabel = `${named(room)} — ${clinics.find((c) => c.clinic_id === room.clinic_id)?.name ?? room.clinic_id}`;
  await tag.locator('select[name=room_ids]').selectOption({ label: roomLabel });
  await page.click('#config-form button[type=submit]');
  await page.locator('#config .notice').waitFor();
  assert.match(await page.locator('#config .notice').textContent(), /^Configuration saved \(version \d+\)\.$/);
  const config = (await apiAs('acc-1', 'GET', '/orgs/org-1/reports/config')).data;
  const metro = config.tags.find((t) => t.name === 'Metro');
  assert.deepEqual(metro, { name: 'Metro', clinic_ids: [clinic.clinic_id], room_ids: [room.room_id] });
  assert.ok((await page.locator('#config-tags').textContent()).includes(`Metro: ${clinic.name}, ${room.name}`));
  await shot(page, 'reports-tags-by-name');

  // Removed again: the tag is gone from the stored configuration.
  await page.locator('#tags-editor fieldset.tag', { has: page.locator('input[name=tag_name][value="Metro"]') }).locator('button', { hasText: 'Remove' }).click();
  await page.click('#config-form button[type=submit]');
  await page.locator('#config .notice').waitFor();
  const after = (await apiAs('acc-1', 'GET', '/orgs/org-1/reports/config')).data;
  assert.equal(after.tags.find((t) => t.name === 'Metro'), undefined);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('platform admin: Feed thread kinds, and the 14-day counts of a time zone', async () => {
  // The referral journeys above created practitioner pair threads; they reach the Feed through ingest.
  let pairs = [];
  for (let i = 0; i < 60 && pairs.length === 0; i += 1) {
    pairs = (await apiAs('admin-1', 'GET', '/admin/feed?kind=practitioner_practitioner&limit=200')).data.items;
    if (pairs.length === 0) await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(pairs.length > 0, 'a practitioner pair thread is in the Feed');
  const page = await signIn('admin-1');
  let feed = await rows(page);
  // Every row says its kind, as the API does.
  const firstPage = (await apiAs('admin-1', 'GET', '/admin/feed?limit=50')).data.items;
  assert.equal(await feed.count(), firstPage.length);
  assert.deepEqual(await feed.locator('td .kind').evaluateAll((ks) => ks.map((k) => k.dataset.kind)), firstPage.map((r) => r.kind));
  await page.selectOption('#filters select[name=kind]', 'practitioner_practitioner');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction((n) => document.querySelectorAll('#results table.rows tbody tr').length === n
    && [...document.querySelectorAll('#results table.rows td .kind')].every((k) => k.dataset.kind === 'practitioner_practitioner'), pairs.length);
  feed = await rows(page);
  assert.deepEqual(await feed.locator('td a').allTextContents(), pairs.map((p) => p.thread_id));
  for (const t of await feed.locator('td:nth-child(3)').allTextContents()) assert.equal(t, '', 'no patient in a pair thread');
  await shot(page, 'admin-feed-pair-threads');
  await feed.first().locator('td a').click();
  await page.locator('#thread-kind').waitFor();
  assert.equal(await page.locator('#thread-kind').textContent(), 'practitioner–practitioner');

  // The 14-day counts in a zone: the console asks with the filters' time zone.
  await page.goto(`${base}/console/#/admin/consultations`);
  await page.locator('#tag-counts .count').first().waitFor();
  assert.match(await page.locator('#tag-counts h3').textContent(), /the past 14 × 24 hours/);
  await page.fill('#filters input[name=tz]', 'Asia/Kolkata');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#tag-counts h3')?.textContent.includes('in Asia/Kolkata'));
  const counts = (await apiAs('admin-1', 'GET', '/admin/consultations/counts?tz=Asia%2FKolkata')).data;
  assert.equal(counts.tz, 'Asia/Kolkata');
  for (const [tag, count] of Object.entries(counts.counts)) {
    assert.equal(await page.locator(`#tag-counts .count[data-tag=${tag}] b`).textContent(), String(count), tag);
  }
  assert.match(await page.locator('#tag-counts h3').textContent(), new RegExp(`\\(14 days\\): ${counts.total}$`));
  // A zone that does not exist: the API's problem names the field.
  await page.fill('#filters input[name=tz]', 'Mars/Olympus');
  await page.click('#filters button[type=submit]');
  await page.locator('#tag-counts .problem').waitFor();
  assert.equal(await page.locator('#tag-counts .problem-field code').textContent(), 'tz');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('org admin: a scheduled report created, paused, resumed and deleted; a reporter only sees it', async () => {
  const accounts = (await apiAs('acc-1', 'GET', '/orgs/org-1/accounts?limit=500')).data.items.filter((a) => !a.deactivated);
  assert.ok(accounts.length >= 1);
  const recipient = accounts[0];
  const page = await signIn('acc-1');
  await page.goto(`${base}/console/#/reports`);
  await page.click('#schedules-button');
  await page.locator('#schedule-form').waitFor();
  await page.selectOption('#schedule-form select[name=report_type]', 'clinics');
  await page.selectOption('#schedule-form select[name=frequency]', 'weekly');
  assert.equal(await page.locator('#schedule-form select[name=weekday]').isVisible(), true);
  assert.equal(await page.locator('#schedule-form input[name=day_of_month]').isVisible(), false);
  await page.selectOption('#schedule-form select[name=weekday]', 'monday');
  await page.selectOption('#schedule-form select[name=period]', 'last_week');
  await page.selectOption('#schedule-form select[name=recipients]', [recipient.account_id]);
  // A zone that does not exist: the API's 400 names the field, nothing is created.
  await page.fill('#schedule-form input[name=time_zone]', 'Mars/Olympus');
  await page.click('#schedule-form button[type=submit]');
  await page.locator('#schedules .problem').waitFor();
  assert.equal(await page.locator('#schedules .problem-field code').textContent(), 'time_zone');
  assert.deepEqual((await apiAs('acc-1', 'GET', '/orgs/org-1/reports/schedules')).data.items, []);

  await page.fill('#schedule-form input[name=time_zone]', 'Australia/Sydney');
  await page.click('#schedule-form button[type=submit]');
  await page.locator('#schedules .notice').waitFor();
  assert.equal(await page.locator('#schedules .notice').textContent(), 'Schedule created.');
  const [schedule] = (await apiAs('acc-1', 'GET', '/orgs/org-1/reports/schedules')).data.items;
  assert.equal(schedule.frequency, 'weekly');
  assert.equal(schedule.weekday, 'monday');
  assert.equal(schedule.period, 'last_week');
  assert.equal(schedule.time_zone, 'Australia/Sydney');
  assert.deepEqual(schedule.recipients, [recipient.account_id]);
  const row = page.locator(`#schedules-table tr[data-schedule="${schedule.schedule_id}"]`);
  assert.equal(await row.locator('td').nth(3).textContent(), recipient.name);
  assert.equal(await row.locator('td.state').textContent(), 'active');
  await shot(page, 'reports-schedules');

  await row.locator('button', { hasText: 'Pause' }).click();
  await page.locator('#schedules .notice', { hasText: 'Schedule paused.' }).waitFor();
  assert.equal(await page.locator(`#schedules-table tr[data-schedule="${schedule.schedule_id}"] td.state`).textContent(), 'paused');
  await page.locator(`#schedules-table tr[data-schedule="${schedule.schedule_id}"] button`, { hasText: 'Resume' }).click();
  await page.locator('#schedules .notice', { hasText: 'Schedule resumed.' }).waitFor();
  assert.equal((await apiAs('acc-1', 'GET', '/orgs/org-1/reports/schedules')).data.items[0].state, 'active');

  // A reporter of the organisation sees the schedule and cannot change it.
  const reporter = await signIn('acc-3');
  await reporter.goto(`${base}/console/#/reports`);
  await reporter.click('#schedules-button');
  await reporter.locator('#schedules-table').waitFor();
  assert.equal(await reporter.locator('#schedules-table tbody tr').count(), 1);
  assert.equal(await reporter.locator('#schedules-table button').count(), 0);
  assert.equal(await reporter.locator('#schedule-form').count(), 0);
  await reporter.context().close();

  await page.locator(`#schedules-table tr[data-schedule="${schedule.schedule_id}"] button`, { hasText: 'Delete' }).click();
  await page.locator('#confirm[open]').waitFor();
  assert.equal(await page.locator('#confirm-text').textContent(), 'Delete this schedule? Runs already queued go on.');
  await page.click('#confirm-ok');
  await page.locator('#schedules .notice', { hasText: 'Schedule deleted.' }).waitFor();
  assert.deepEqual((await apiAs('acc-1', 'GET', '/orgs/org-1/reports/schedules')).data.items, []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('platform admin: overdue answers, from the count beside the 14-day counts to the Feed, longest waiting first', async () => {
  const counts = (await apiAs('admin-1', 'GET', '/admin/consultations/counts')).data;
  assert.ok(counts.overdue.count > 0, 'the demo has threads waiting past the default commitment');
  const page = await signIn('admin-1');
  await page.click('nav.tabs a[data-tab=consultations]');
  await page.locator('#overdue-count a').waitFor();
  assert.equal(await page.locator('#overdue-count a').textContent(), `${counts.overdue.count}${counts.overdue.complete ? '' : '+'}`);
  // The count opens the Feed filtered to the overdue threads, longest waiting first.
  await page.click('#overdue-count a');
  await page.waitForFunction(() => document.querySelector('#filters input[name=overdue]')?.checked
    && document.querySelector('#page-info'));
  const overdue = (await apiAs('admin-1', 'GET', '/admin/feed?overdue=true&limit=50')).data.items;
  let feed = await rows(page);
  assert.equal(await feed.count(), overdue.length);
  assert.deepEqual(await feed.locator('td a').allTextContents(), overdue.map((r) => r.thread_id));
  assert.deepEqual(await feed.locator('td .clock').evaluateAll((cs) => cs.map((c) => c.dataset.overdue)), overdue.map(() => 'true'));
  const since = overdue.map((r) => r.waiting_since);
  assert.deepEqual(since, [...since].sort(), 'longest waiting first');
  for (const r of overdue) assert.ok(Date.parse(r.clock.due_at) <= Date.now(), `${r.thread_id} is due`);
  await shot(page, 'admin-feed-overdue');
  // Every waiting thread, longest waiting first: overdue ones and those still in time.
  await page.uncheck('#filters input[name=overdue]');
  await page.selectOption('#filters select[name=sort]', 'waiting');
  await page.click('#filters button[type=submit]');
  const waiting = (await apiAs('admin-1', 'GET', '/admin/feed?sort=waiting&limit=50')).data.items;
  await page.waitForFunction((first) => document.querySelector('#results table.rows tbody tr td a')?.textContent === first
    && !document.querySelector('#filters input[name=overdue]').checked, waiting[0].thread_id);
  feed = await rows(page);
  assert.deepEqual(await feed.locator('td a').allTextContents(), waiting.map((r) => r.thread_id));
  assert.equal(await feed.locator('td:nth-child(8)').first().textContent(), waiting[0].waiting_since.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC'));
  // A bad value: the API's problem names the field.
  const bad = await apiAs('admin-1', 'GET', '/admin/feed?overdue=yes');
  assert.equal(bad.status, 400);
  assert.equal(bad.data.field, 'overdue');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// Folds a text as the API's search does: accents and case ignored.
const fold = (text) => text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
const words = (text) => fold(text).split(/[^\p{L}\p{N}]+/u).filter(Boolean);

test('search finds people: a word of the name, by prefix, without accents; the specialty by its beginning', async () => {
  // A specialist whose surname carries an accent, searched by its unaccented beginning.
  const all = (await apiAs('prac-1', 'GET', '/referrals/specialists?limit=100')).data.items;
  const accented = all.find((s) => /[^\x00-\x7f]/.test(s.name.split(' ').slice(-1)[0])) || all[0];
  const prefix = words(accented.name).slice(-1)[0].slice(0, 4);
  const referrer = await signIn('prac-1');
  await referrer.fill('#specialist-search input[name=q]', prefix.toUpperCase());
  await referrer.click('#specialist-search button[type=submit]');
  await referrer.locator(`#specialists tr[data-specialist="${accented.practitioner_id}"]`).waitFor();
  for (const name of await referrer.locator('#specialists tbody tr td:first-child').allTextContents()) {
    assert.ok(words(name).some((w) => w.startsWith(prefix)), `${name} has no word beginning with ${prefix}`);
  }
  // By specialty: "derm" finds dermatologists only.
  await referrer.fill('#specialist-search input[name=q]', '');
  await referrer.fill('#specialist-search input[name=specialty]', 'derm');
  await referrer.click('#specialist-search button[type=submit]');
  await referrer.locator('#specialists tbody tr').first().waitFor();
  const specialties = await referrer.locator('#specialists tbody tr td:nth-child(2)').allTextContents();
  assert.ok(specialties.length > 0);
  for (const s of specialties) assert.match(s, /Dermatology/);
  await shot(referrer, 'search-specialists-derm');
  await referrer.context().close();

  // The admin's Practitioners tab: by specialty, and by a word of the name.
  const admin = await signIn('admin-1');
  await admin.goto(`${base}/console/#/admin/practitioners`);
  await rows(admin);
  await admin.fill('#filters input[name=specialty]', 'DERM');
  await admin.click('#filters button[type=submit]');
  await admin.waitForFunction(() => {
    const cells = [...document.querySelectorAll('#results table.rows tbody tr td:nth-child(2)')];
    return cells.length > 0 && cells.every((td) => td.textContent.includes('Dermatology'));
  });
  await shot(admin, 'search-admin-practitioners-derm');
  await admin.fill('#filters input[name=specialty]', '');
  await admin.fill('#filters input[name=q]', prefix);
  await admin.click('#filters button[type=submit]');
  await admin.waitForFunction((name) => [...document.querySelectorAll('#results table.rows tbody tr td:first-child')]
    .some((td) => td.textContent === name), accented.name);
  for (const name of await admin.locator('#results table.rows tbody tr td:first-child').allTextContents()) {
    assert.ok(words(name).some((w) => w.startsWith(prefix)), `${name} has no word beginning with ${prefix}`);
  }
  // Calls: the same word finds the practitioner's row when they have calls.
  await admin.goto(`${base}/console/#/admin/calls`);
  await rows(admin);
  await admin.fill('#filters input[name=q]', prefix);
  await admin.click('#filters button[type=submit]');
  await admin.waitForFunction(() => document.querySelector('#results table.rows, #results p.hint') !== null
    && !document.querySelector('#results .busy'));
  for (const name of await admin.locator('#results table.rows tbody tr td:first-child').allTextContents()) {
    assert.ok(words(name).some((w) => w.startsWith(prefix)), `${name} has no word beginning with ${prefix}`);
  }
  assert.deepEqual(admin.errors, []);
  await admin.context().close();
});

test('audit trail: the platform admin filters and exports it, an organisation admin sees only theirs, every read is recorded', async () => {
  const admin = await signIn('admin-1');
  await admin.click('nav.tabs a[data-tab=audit]');
  // Opening the trail is itself a record: it is on the first page.
  await admin.locator('#audit-rows tbody tr[data-action="audit.viewed"]').first().waitFor();
  assert.equal(await admin.locator('#audit-rows tbody tr').first().locator('td').nth(1).textContent(), 'admin-1');
  await admin.fill('#audit-filters input[name=action]', 'audit.viewed');
  await admin.click('#audit-filters button[type=submit]');
  await admin.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#audit-rows tbody tr')];
    return rows.length >= 2 && rows.every((r) => r.dataset.action === 'audit.viewed');
  });
  await shot(admin, 'audit-platform');
  await admin.click('#audit-export');
  const link = admin.locator('#audit-csv-link');
  await link.waitFor();
  const viewed = (await apiAs('admin-1', 'GET', '/admin/audit?action=audit.viewed&limit=200')).data.items.length;
  const csv = readFileSync(await download(admin, () => link.click()), 'utf8');
  const lines = csv.slice(1).trimEnd().split('\r\n');
  assert.match(lines[0], /^at,record_id,actor_sub,actor_role,action,/);
  // The export holds every record read so far but the API call just made.
  assert.equal(lines.length - 1, viewed - 1);
  assert.ok(lines.slice(1).every((l) => l.split(',')[4] === 'audit.viewed'));
  assert.deepEqual(admin.errors, []);
  await admin.context().close();

  // The organisation admin: their organisation's records only, and their read is one of them.
  const orgAdmin = await signIn('acc-1');
  await orgAdmin.click('#audit-button');
  await orgAdmin.locator('#audit-rows tbody tr').first().waitFor();
  const scopes = await orgAdmin.locator('#audit-rows tbody tr td:nth-child(5)').allTextContents();
  assert.ok(scopes.length > 0 && scopes.every((s) => s === 'ORG#org-1'), scopes.join(' '));
  assert.equal(await orgAdmin.locator('#audit-rows tbody tr[data-action="audit.viewed"] td:nth-child(2)').first().textContent(), 'acc-1');
  assert.equal(await orgAdmin.locator('#audit-export').count(), 0);
  await shot(orgAdmin, 'audit-org');
  await orgAdmin.context().close();
  // Another organisation's admin gets nothing of org-1's trail; a reporter has no trail.
  assert.equal((await apiAs('acc-61', 'GET', '/orgs/org-1/audit')).status, 404);
  const reporter = identities.find((i) => i.role === 'org_reporter');
  if (reporter) assert.equal((await apiAs(reporter.sub, 'GET', '/orgs/org-1/audit')).status, 403);
});
