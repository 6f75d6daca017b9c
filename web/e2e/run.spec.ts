// The run page and the approvals inbox end to end, against a real `hil serve` (authentication on,
// scripted model) in Debian's chromium: a plan edit shown as a diff, a dry run of the drafted SQL
// and of an edit, the edited SQL being what ran, the chart and its controls, numbers marked
// verified or not, expiry countdowns, "approve all read-only" (never a write), notifications, and
// the layout at 1280 and 390 px. Screenshots go to web/test-results/run-*.png.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, chromiumPath, PageProblems, python, type Server, shot, SHOTS, startServer } from './harness';

const QUESTION = 'How many vehicles does each depot have?';
const DRAFTED = 'SELECT depot, count(*) AS vehicles FROM vehicles GROUP BY depot ORDER BY depot';
const EDITED = "SELECT depot, count(*) AS vehicles, sum(km) AS km FROM vehicles WHERE depot <> 'East' GROUP BY depot ORDER BY depot";
const ALTERNATIVE = 'SELECT depot, sum(km) AS km FROM vehicles GROUP BY depot ORDER BY depot';
const WRITE = "UPDATE vehicles SET km = km + 1 WHERE depot = 'East'";

let server: Server;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pages = new PageProblems();
const { found: problems, expected } = pages;
const watch = (p: Page, name: string): void => pages.watch(p, name);
const api = (path: string, init: RequestInit = {}): Promise<Response> => callApi(server, path, init);

async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
  const r = await api(path, init);
  if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

function script(name: string, body: unknown): string {
  const path = join(server.home, `${name}.json`);
  writeFileSync(path, JSON.stringify(body));
  return `scripted:file:${path}`;
}

/** The sum of km of a depot, read with Python's sqlite3 (to prove a write did not run). */
function km(depot: string): number {
  return Number(execFileSync(python(), ['-c', 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select sum(km) from vehicles where depot=?", (sys.argv[2],)).fetchone()[0])', server.db, depot], { encoding: 'utf8' }).trim());
}

/** The SSE frames of a run up to the first event of `type` (read from the API, then the stream is dropped). */
async function eventsUntil(runId: string, type: string): Promise<string> {
  const ctrl = new AbortController();
  const res = await fetch(`${server.base}/api/v1/runs/${runId}/events`, { headers: { Authorization: `Bearer ${server.keys.admin}` }, signal: ctrl.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(`event: ${type}\n`) || !text.endsWith('\n\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  ctrl.abort();
  return text;
}

async function signIn(p: Page): Promise<void> {
  await p.goto(server.base + '/');
  await p.getByLabel('API key').fill(server.keys.admin);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('heading', { name: 'Ask a question' }).waitFor();
}

async function noSideScroll(p: Page, what: string): Promise<void> {
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  const viewport = p.viewportSize()!.width;
  expect(width, `${what} scrolls sideways at ${viewport} px`).toBeLessThanOrEqual(viewport);
}

async function pendingOf(runId: string): Promise<{ id: string; kind: string; content_hash: string }[]> {
  return json(`/approvals?run=${runId}`);
}

async function waitStatus(runId: string, status: string): Promise<void> {
  await expect.poll(async () => (await json<{ status: string }>(`/runs/${runId}`)).status, { timeout: 30_000 }).toBe(status);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  const read = script('read', {
    plan: { steps: [{ agent: 'sql', purpose: 'count vehicles per depot' }] },
    sql: { sql: DRAFTED },
    answer: 'North has 12 vehicles; 99 of them are due for service.',
  });
  const write = script('write', { plan: { steps: [{ agent: 'sql', purpose: 'add a km to East' }] }, sql: { sql: WRITE }, answer: 'Done.' });
  const connection = (readOnly: boolean) => [{ name: 'fleet', engine: 'sqlite', path: server.db, read_only: readOnly }];
  await json('/workflows', {
    method: 'POST',
    body: JSON.stringify({ name: 'fleet', steps: ['sql'], connections: connection(true), model: { model: read }, approval: { expire_after_seconds: 3600 } }),
  });
  // SQL drafts in turn: one naming a table that does not exist, the redraft, then the schema-only
  // candidate the approver gets as an alternative (offered because the model had to redraft)
  const alts = script('alts', {
    plan: { steps: [{ agent: 'sql', purpose: 'km per depot' }] },
    sql: [{ sql: 'SELECT depot FROM fleet_cars' }, { sql: DRAFTED }, { sql: ALTERNATIVE }],
    answer: 'Done.',
  });
  await json('/workflows', {
    method: 'POST',
    body: JSON.stringify({ name: 'alts', steps: ['sql'], connections: connection(true), model: { model: alts }, approval: { plan: false } }),
  });
  await json('/workflows', {
    method: 'POST',
    body: JSON.stringify({ name: 'ops', steps: ['sql'], connections: connection(false), model: { model: write }, approval: { plan: false, expire_after_seconds: 1800 } }),
  });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  watch(page, 'main');
  await signIn(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the run page', () => {
  let runId = '';

  it('edits the plan and shows the edit as a diff against the draft, with a countdown and a live timer', async () => {
    await page.getByLabel('Workflow').selectOption('fleet');
    await page.getByLabel('Question', { exact: true }).fill(QUESTION);
    await page.getByRole('button', { name: 'Ask', exact: true }).click();
    await page.waitForURL(/\/runs\/\?id=/);
    runId = new URL(page.url()).searchParams.get('id')!;
    const plan = page.locator('section.approval[data-kind="plan"][data-status="proposed"]');
    await plan.waitFor();
    // the approval expires in an hour: a countdown says so
    expect(await plan.locator('.countdown').textContent()).toMatch(/^Expires in (59m|1h)/);
    // the waiting step's timer runs
    const timer = page.locator('.step[data-step="planner"] .step-time');
    expect(await timer.textContent()).toMatch(/^waiting for approval · \d/);
    const first = Number(await timer.getAttribute('data-elapsed-ms'));
    await expect.poll(async () => Number(await timer.getAttribute('data-elapsed-ms')), { timeout: 5000 }).toBeGreaterThan(first + 900);
    // the trail: proposed, approved (waiting), ran (not yet)
    expect(await plan.locator('[data-trail]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-trail')}:${e.getAttribute('data-state')}`))).toEqual([
      'proposed:done',
      'approved:waiting',
      'ran:waiting',
    ]);

    await plan.focus();
    await page.keyboard.press('e');
    const purpose = page.getByLabel('Purpose of step 1');
    await purpose.fill('count vehicles per depot, largest first');
    const preview = plan.locator('.edit-preview li[data-diff="changed"]');
    await preview.waitFor();
    expect(await preview.locator('ins').allTextContents()).toEqual([', largest first']);
    await shot(page, 'run-01-plan-edit');
    await page.getByRole('button', { name: 'Approve with edits' }).click();

    const edited = page.locator('section.approval[data-kind="plan"]').filter({ has: page.locator('[data-trail="approved"][data-state="done"]') });
    await edited.waitFor();
    const approved = edited.locator('[data-trail="approved"]');
    expect(await approved.textContent()).toContain('Edited by ada');
    expect(await approved.locator('li[data-diff="changed"] ins').allTextContents()).toEqual([', largest first']);
    expect(await approved.locator('li[data-diff="changed"]').textContent()).toContain('count vehicles per depot');
    // the plan that ran is the edited one
    await edited.locator('[data-trail="ran"][data-state="done"]').waitFor();
    expect(await edited.locator('[data-trail="ran"]').textContent()).toContain('The approved plan');
  });

  it('dry-runs the drafted SQL and an edit, refuses a write in the edit, and runs exactly the edit', async () => {
    const card = page.locator('section.approval[data-kind="sql_read"][data-status="proposed"]');
    await card.waitFor();
    expect(await card.locator('[data-trail="proposed"] pre').textContent()).toBe(DRAFTED);
    expect(await card.locator('[data-trail="proposed"] .tok-keyword').count()).toBeGreaterThan(4); // highlighted
    await card.getByRole('button', { name: 'Dry run', exact: true }).click();
    const estimate = card.locator('.dry-estimate');
    await estimate.waitFor();
    expect(await estimate.textContent()).toBe('3 rows (counted read-only)');
    expect(await card.locator('pre.plan-text').textContent()).toMatch(/SCAN/);
    await shot(page, 'run-02-sql-dry-run');

    await card.focus();
    await page.keyboard.press('e');
    const editor = page.getByLabel('Edit the SQL');
    await editor.waitFor();
    expect(await editor.evaluate((el) => el === document.activeElement)).toBe(true);
    // a write in the edit: refused by the guard, with the reason
    expected.add(422);
    await editor.fill('DELETE FROM vehicles');
    await card.getByRole('button', { name: 'Dry run the edit' }).click();
    await card.getByText(/^Dry run refused: .*read-only/).waitFor();
    expected.delete(422);
    await editor.fill(EDITED);
    // the highlighted layer under the textarea follows the text
    expect(await card.locator('.sql-layer').textContent()).toBe(`${EDITED}\n`);
    expect(await card.locator('.sql-layer .tok-string').allTextContents()).toEqual(["'East'"]);
    await card.getByRole('button', { name: 'Dry run the edit' }).click();
    await expect.poll(() => card.locator('.dry-estimate').textContent()).toBe('2 rows (counted read-only)');
    expect(await card.locator('.dry-result').textContent()).toContain('your edit');
    await shot(page, 'run-03-sql-edit-dry-run');
    await page.getByRole('button', { name: 'Approve with edits' }).click();

    // what ran is exactly the edit, and the card says so
    const ran = page.locator('section.approval[data-kind="sql_read"][data-status="ran"]');
    await ran.waitFor();
    expect(await ran.locator('[data-trail="ran"] pre').textContent()).toBe(EDITED);
    expect(await ran.locator('[data-trail="ran"]').getAttribute('data-state')).toBe('done');
    expect(await ran.locator('[data-trail="ran"]').textContent()).toContain('The approved SQL, exactly');
    const added = (await ran.locator('[data-trail="approved"] ol.diff ins').allTextContents()).join('|');
    expect(added).toContain('sum(km) AS km');
    expect(added).toContain("WHERE depot <> 'East'");
    expect(await ran.locator('[data-trail="approved"] ol.diff del').count()).toBe(0);
    // the run's own record agrees
    const detail = await json<{ queries: { sql: string }[] }>(`/runs/${runId}`);
    expect(detail.queries.map((q) => q.sql)).toEqual([EDITED]);
  });

  it('draws a chart that fits the rows, and switches its type and axes without running the query again', async () => {
    const results = page.locator('section.results');
    await results.waitFor();
    await page.locator('section.answer[aria-busy="false"]').waitFor(); // final, whatever its revision
    await page.getByRole('status').filter({ hasText: 'complete' }).waitFor();
    await page.waitForLoadState('networkidle');
    const chart = results.locator('figure.chart');
    await chart.locator('svg').waitFor();
    expect(await chart.getAttribute('data-chart')).toBe('bar');
    expect(await results.locator('th').allTextContents()).toEqual(['depot', 'vehicles', 'km']);
    expect(await chart.locator('rect.bar').count()).toBe(2);
    expect(await chart.getByLabel('Y axis').inputValue()).toBe('2'); // km, the last measure
    const runs = await json<{ runs: unknown[] }>('/runs');
    let requests = 0;
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/')) requests++;
    });
    const heights = () => chart.locator('rect.bar').evaluateAll((els) => els.map((e) => Number(e.getAttribute('height'))));
    const byKm = await heights();
    await chart.getByLabel('Y axis').selectOption({ label: 'vehicles' });
    const byCount = await heights();
    expect(byCount).not.toEqual(byKm);
    expect(byCount[0]! / byCount[1]!).toBeCloseTo(12 / 8, 1); // North 12, South 8
    await chart.getByLabel('Chart type').selectOption('line');
    await chart.locator('polyline.line').waitFor();
    expect(await chart.getAttribute('data-chart')).toBe('line');
    expect(await chart.locator('circle.dot').count()).toBe(2);
    await shot(page, 'run-04-chart-line');
    await chart.getByLabel('Chart type').selectOption('none');
    await expect.poll(() => chart.locator('svg').count()).toBe(0);
    await chart.getByLabel('Chart type').selectOption('bar');
    await chart.locator('rect.bar').first().waitFor();
    expect(requests).toBe(0); // nothing was asked of the server
    expect((await json<{ runs: unknown[] }>('/runs')).runs.length).toBe(runs.runs.length);

    // the rows behind the aggregate's groups
    const evidence = page.locator('section.evidence');
    await evidence.locator('summary').click();
    expect(await evidence.locator('[data-group]').evaluateAll((els) => els.map((e) => e.getAttribute('data-group')))).toEqual(['depot = North', 'depot = South']);
    expect(await evidence.locator('[data-group="depot = North"] td').allTextContents()).toContain('VH-001');
  });

  it('draws a time series as a line by default', async () => {
    const run = await json<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ workflow: 'fleet', question: 'km of the North vehicles over time?' }) });
    const decide = async (kind: string, body: Record<string, unknown>) => {
      let pending: { id: string; kind: string; content_hash: string }[] = [];
      await expect.poll(async () => (pending = await pendingOf(run.id)).map((x) => x.kind), { timeout: 30_000 }).toEqual([kind]);
      await json(`/approvals/${pending[0]!.id}/decision`, { method: 'POST', body: JSON.stringify({ ...body, content_hash: pending[0]!.content_hash }) });
    };
    await decide('plan', { decision: 'approve' });
    const series = "SELECT date('2026-01-01', '+' || (km / 1000) || ' days') AS day, km FROM vehicles WHERE depot = 'North' ORDER BY km DESC";
    await decide('sql_read', { decision: 'edit', content: { sql: series, connection: 'fleet' } });
    await waitStatus(run.id, 'succeeded');
    await page.goto(`${server.base}/runs/?id=${run.id}`);
    const chart = page.locator('section.results figure.chart');
    await chart.locator('svg').waitFor();
    expect(await chart.getAttribute('data-chart')).toBe('line');
    expect(await chart.getByLabel('X axis').inputValue()).toBe('0');
    expect(await chart.locator('circle.dot').count()).toBe(12);
    // drawn in time order although the rows came newest first
    const xs = await chart.locator('circle.dot').evaluateAll((els) => els.map((e) => Number(e.getAttribute('cx'))));
    expect(xs).toEqual([...xs].sort((p, q) => p - q));
    await page.locator('section.results').scrollIntoViewIfNeeded();
    await shot(page, 'run-05b-time-series');
    await page.goto(`${server.base}/runs/?id=${runId}`);
    await page.locator('.answer').waitFor();
  });

  it('marks each number of the answer as found in the evidence or not', async () => {
    const answer = page.locator('.answer');
    expect(await answer.locator('[data-number="verified"]').allTextContents()).toEqual([expect.stringMatching(/^12/)]);
    expect(await answer.locator('[data-number="unverified"]').allTextContents()).toEqual([expect.stringMatching(/^99/)]);
    expect(await answer.locator('.num-legend').textContent()).toContain('found in the evidence (1)');
    await expect.poll(() => page.locator('.step.done').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    await page.locator('section.results').scrollIntoViewIfNeeded();
    await shot(page, 'run-05-done');
    await noSideScroll(page, 'the finished run');
  });
});

describe('approvals across runs', () => {
  let writeRun = '';
  const reads: string[] = [];

  it('a write shows its estimated impact and a dry run that only counts', async () => {
    writeRun = (await json<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ workflow: 'ops', question: 'Add a km to every East vehicle' }) })).id;
    await expect.poll(async () => (await pendingOf(writeRun)).map((a) => a.kind), { timeout: 30_000 }).toEqual(['sql_write']);
    const before = km('East');
    await page.goto(`${server.base}/runs/?id=${writeRun}`);
    const card = page.locator('section.approval[data-kind="sql_write"][data-status="proposed"]');
    await card.waitFor();
    expect(await card.locator('.impact').textContent()).toBe('Estimated impact: UPDATE would change 4 rows of vehicles');
    expect(await card.locator('.countdown').textContent()).toMatch(/^Expires in (29|30)m/);
    await card.getByRole('button', { name: 'Dry run', exact: true }).click();
    await expect.poll(() => card.locator('.dry-estimate').textContent()).toBe('would touch 4 rows (counted, nothing written)');
    expect(km('East')).toBe(before);
    await shot(page, 'run-06-write');
  });

  it('approves all read-only approvals at once, one by one on the server, and never the write', async () => {
    for (const q of ['Which depot is largest?', 'Which depot is smallest?']) {
      reads.push((await json<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ workflow: 'fleet', question: q }) })).id);
    }
    for (const r of reads) await expect.poll(async () => (await pendingOf(r)).map((a) => a.kind), { timeout: 30_000 }).toEqual(['plan']);
    const inbox = await context.newPage();
    watch(inbox, 'inbox');
    await signIn(inbox);
    await inbox.goto(`${server.base}/approvals/`);
    await expect.poll(() => inbox.locator('li[data-approval]').count()).toBe(3);
    expect(await inbox.locator('li[data-kind="sql_write"]').textContent()).toContain('UPDATE would change 4 rows of vehicles');
    expect(await inbox.locator('li[data-approval] .countdown').count()).toBe(3);
    const bulk = inbox.getByRole('button', { name: 'Approve all read-only (2)' });
    await bulk.waitFor();
    expect(await inbox.locator('.approve-all').textContent()).toContain('1 write or question left for one-by-one review');
    await shot(inbox, 'run-07-inbox-bulk');
    await bulk.click();
    await inbox.getByText('Approved 2 of 2.').waitFor();
    // the plans were approved; each run now waits on its SQL, which is read-only too
    for (const r of reads) await expect.poll(async () => (await pendingOf(r)).map((a) => a.kind), { timeout: 30_000 }).toEqual(['sql_read']);
    await expect.poll(() => inbox.locator('li[data-kind="sql_read"]').count(), { timeout: 15_000 }).toBe(2);
    expect(await inbox.locator('li[data-kind="plan"]').count()).toBe(0);
    await inbox.getByRole('button', { name: 'Approve all read-only (2)' }).click();
    for (const r of reads) await waitStatus(r, 'succeeded');
    await expect.poll(() => inbox.locator('li[data-approval]').count(), { timeout: 15_000 }).toBe(1);
    expect(await inbox.locator('li[data-approval]').getAttribute('data-kind')).toBe('sql_write');
    expect(await inbox.getByRole('button', { name: /Approve all read-only/ }).count()).toBe(0);
    expect((await pendingOf(writeRun)).map((a) => a.kind)).toEqual(['sql_write']);
    await shot(inbox, 'run-08-inbox-after-bulk');
    await inbox.close();
  });

  it('asks for notification permission on a click, then notifies of an approval waiting', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await ctx.addInitScript(() => {
      const Native = window.Notification;
      const seen: string[] = [];
      (window as unknown as { __notes: string[] }).__notes = seen;
      class Recorded extends Native {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          seen.push(title);
        }
      }
      window.Notification = Recorded as typeof Notification;
    });
    const p = await ctx.newPage();
    watch(p, 'notify');
    await signIn(p);
    await p.goto(`${server.base}/approvals/`);
    const ask = p.getByRole('button', { name: 'Notify me of approvals' });
    await ask.waitFor();
    await ctx.grantPermissions(['notifications'], { origin: server.base });
    await ask.click();
    await p.getByText('Notifications on').waitFor();
    const run = await json<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ workflow: 'fleet', question: 'Which depot has most km?' }) });
    await expect.poll(async () => (await pendingOf(run.id)).length, { timeout: 30_000 }).toBe(1);
    await expect.poll(() => p.evaluate(() => (window as unknown as { __notes: string[] }).__notes), { timeout: 15_000 }).toContain('Approval waiting: Plan');
    // announced once, also after a reload
    await p.reload();
    await p.locator('li[data-approval]').first().waitFor();
    await p.waitForTimeout(500);
    expect(await p.evaluate(() => (window as unknown as { __notes: string[] }).__notes)).toEqual([]);
    await ctx.close();
  });

  it('is usable at 390 px: the write card, the finished run with its chart, the inbox', async () => {
    const narrow = await context.newPage();
    watch(narrow, 'narrow');
    await narrow.setViewportSize({ width: 390, height: 844 });
    await signIn(narrow);
    await narrow.goto(`${server.base}/runs/?id=${writeRun}`);
    await narrow.locator('section.approval[data-kind="sql_write"] .impact').waitFor();
    await noSideScroll(narrow, 'the write card');
    await shot(narrow, 'run-09-write-390');
    await narrow.goto(`${server.base}/runs/?id=${reads[0]}`);
    await narrow.locator('section.results figure.chart svg').waitFor();
    await narrow.locator('.answer').waitFor();
    await noSideScroll(narrow, 'a finished run');
    await shot(narrow, 'run-10-done-390');
    await narrow.goto(`${server.base}/approvals/`);
    await narrow.locator('li[data-approval]').first().waitFor();
    await noSideScroll(narrow, 'the inbox');
    await shot(narrow, 'run-11-inbox-390');
    await narrow.close();
  });

  it('two tabs decide the same approval: one wins, the other says who decided', async () => {
    const run = await json<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ workflow: 'fleet', question: 'Which depot has the fewest vehicles?' }) });
    await expect.poll(async () => (await pendingOf(run.id)).map((a) => a.kind), { timeout: 30_000 }).toEqual(['plan']);
    // tab B hears the run up to its approval request, and then nothing: it still shows the card as pending
    const frames = await eventsUntil(run.id, 'approval.requested');
    const a = await context.newPage();
    const b = await context.newPage();
    watch(a, 'tab-a');
    watch(b, 'tab-b');
    await signIn(a);
    await signIn(b);
    await b.route('**/api/v1/runs/*/events*', (route) => route.fulfill({ status: 200, headers: { 'Content-Type': 'text/event-stream' }, body: frames }));
    for (const p of [a, b]) await p.goto(`${server.base}/runs/?id=${run.id}`);
    const cardA = a.locator('section.approval[data-kind="plan"][data-status="proposed"]');
    const cardB = b.locator('section.approval[data-kind="plan"][data-status="proposed"]');
    await cardA.waitFor();
    await cardB.waitFor();
    await cardA.focus();
    await a.keyboard.press('r'); // the keyboard: r opens the rejection
    const why = a.getByLabel('Why? The agent redrafts with this');
    await why.waitFor();
    expect(await why.evaluate((el) => el === document.activeElement)).toBe(true);
    await why.fill('count only active vehicles');
    await cardA.getByRole('button', { name: 'Reject', exact: true }).click();
    await a.locator('section.approval[data-kind="plan"][data-status="rejected"]').waitFor();
    expected.add(409);
    await cardB.getByRole('button', { name: /Approve/ }).click();
    await cardB.getByText('Already decided: rejected by ada (“count only active vehicles”)').waitFor();
    expected.delete(409);
    expect(await cardB.getByRole('button', { name: /Approve/ }).count()).toBe(0);
    const decided = await json<{ status: string; decision: string }[]>(`/approvals?status=&run=${run.id}`);
    expect(decided.filter((x) => x.status !== 'pending').map((x) => x.decision)).toEqual(['reject']);
    await shot(b, 'run-12-decided-elsewhere');
    await a.close();
    await b.close();
  });

  it('offers the other drafts of a query, and an edit can start from one', async () => {
    const run = await json<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ workflow: 'alts', question: 'How many km per depot?' }) });
    await page.goto(`${server.base}/runs/?id=${run.id}`);
    const card = page.locator('section.approval[data-kind="sql_read"][data-status="proposed"]');
    await card.waitFor();
    expect(await card.locator('[data-trail="proposed"] pre').textContent()).toBe(DRAFTED);
    const others = card.locator('details.alternatives');
    expect(await others.locator('summary').textContent()).toBe('1 other draft of this query');
    await others.locator('summary').click();
    expect(await others.locator('li').textContent()).toContain('schema only');
    await shot(page, 'run-11-alternatives');
    await others.getByRole('button', { name: 'Edit from this draft' }).click();
    expect(await page.getByLabel('Edit the SQL').inputValue()).toBe(ALTERNATIVE);
    await page.getByRole('button', { name: 'Approve with edits' }).click();
    const ran = page.locator('section.approval[data-kind="sql_read"][data-status="ran"]');
    await ran.waitFor();
    expect(await ran.locator('[data-trail="ran"] pre').textContent()).toBe(ALTERNATIVE);
  });

  it('asked again, offers the query approved the first time, drafted without the model', async () => {
    // the first run's approved query is remembered once that run has finished
    const finished = async () => (await json<{ runs: unknown[] }>('/runs?workflow=alts&status=succeeded')).runs.length;
    for (let i = 0; i < 100 && (await finished()) === 0; i++) await new Promise((ok) => setTimeout(ok, 200));
    const run = await json<{ id: string }>('/runs', { method: 'POST', body: JSON.stringify({ workflow: 'alts', question: 'how many km per depot' }) });
    await page.goto(`${server.base}/runs/?id=${run.id}`);
    const card = page.locator('section.approval[data-kind="sql_read"][data-status="proposed"]');
    await card.waitFor();
    expect(await card.locator('[data-trail="proposed"] pre').textContent()).toBe(ALTERNATIVE);
    await card.getByText('The query approved when this question was asked before, reused as it was.').waitFor();
    expect(await card.locator('details.alternatives').count()).toBe(0);
    await shot(page, 'run-13-reused');
  });

  it('has no console errors', () => {
    expect(problems).toEqual([]);
  });
});
