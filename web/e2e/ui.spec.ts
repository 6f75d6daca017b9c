// The web UI end to end, against a real `hil serve` (authentication on, scripted model) in Debian's
// chromium. Screenshots of every screen go to web/test-results/. Any console error fails the test,
// except the failed requests the test provokes on purpose (listed in `expected`).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, chromiumPath, PageProblems, type Server, shot, SHOTS, startServer } from './harness';

const QUESTION = 'How many vehicles does each depot have?';

let server: Server;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pages = new PageProblems();
const { found: problems, expected } = pages;
const watch = (p: Page, name: string): void => pages.watch(p, name);
const api = (path: string, init: RequestInit = {}): Promise<Response> => callApi(server, path, init);

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

function nav(p: Page, name: string) {
  return p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
}

async function timelineSeqs(p: Page): Promise<number[]> {
  return p.locator('.timeline li[data-seq]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
}

const started = Date.now();

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  watch(page, 'main');
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  writeFileSync(join(SHOTS, 'e2e-time.txt'), `${((Date.now() - started) / 1000).toFixed(1)}s\n`);
});

describe('the web UI', () => {
  it('asks for an API key and refuses a wrong one', async () => {
    await page.goto(server.base + '/');
    await page.getByRole('heading', { name: 'Sign in to hil' }).waitFor();
    await shot(page, '01-login');
    expected.add(401);
    await page.getByLabel('API key').fill('hil_not_a_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This key is unknown or revoked.').waitFor();
    expected.delete(401);
    await page.getByLabel('API key').fill(server.keys.admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Ask a question' }).waitFor();
    await page.getByText('No workflows yet.').waitFor();
    // the key is in session storage, never in the URL
    expect(page.url()).not.toContain(server.keys.admin);
  });

  it('creates a collection, uploads a document that gets indexed, and searches it', async () => {
    await nav(page, 'Knowledge').click();
    await page.getByRole('heading', { name: 'Knowledge' }).waitFor();
    await page.getByText('No collections yet.').waitFor();
    await page.getByLabel('New collection').fill('fleet-docs');
    await page.getByLabel('Embedder').selectOption('none');
    await page.getByRole('button', { name: 'Create collection' }).click();
    await page.getByRole('heading', { name: 'fleet-docs', exact: true }).waitFor();
    await page.locator('#upload-files').setInputFiles([
      {
        name: 'cooling.md',
        mimeType: 'text/markdown',
        buffer: Buffer.from('# Cooling Manual\n\n## Overheating\n\nWhen a vehicle overheats, check the coolant level first, with the engine cold.\n'),
      },
    ]);
    await page.locator('tr[data-source="cooling.md"] [data-status="indexed"]').waitFor();
    // a second document by drag and drop
    const drop = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['# Safety Policy\n\nA vehicle with a critical code is taken out of service.\n'], 'policy.md', { type: 'text/markdown' }));
      return dt;
    });
    await page.locator('.dropzone').dispatchEvent('drop', { dataTransfer: drop });
    await page.locator('tr[data-source="policy.md"] [data-status="indexed"]').waitFor();
    await page.getByLabel('Search for').fill('coolant overheats');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const hit = page.getByRole('list', { name: 'Search results' }).locator('li').first();
    await hit.waitFor();
    expect(await hit.textContent()).toContain('Cooling Manual');
    expect(await hit.textContent()).toContain('cooling.md');
    await shot(page, '02-knowledge');
  });

  it('creates a workflow: a path outside the data directory gets its own field error', async () => {
    await nav(page, 'Workflows').click();
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
    await page.getByRole('button', { name: 'New workflow' }).click();
    await page.getByLabel('Name', { exact: true }).fill('fleet');
    await page.getByLabel('Description').fill('Vehicles and depots');
    await page.getByLabel('Knowledge collections').fill('fleet-docs');
    await page.getByLabel('Engine', { exact: true }).selectOption('sqlite');
    await page.getByLabel('Connection name', { exact: true }).fill('fleet');
    await page.getByLabel('Database file', { exact: true }).fill('/etc/fleet.db');
    await page.getByLabel('Model').fill(`scripted:file:${server.scriptPath}`);
    expected.add(422);
    await page.getByRole('button', { name: 'Create workflow' }).click();
    const err = page.locator('#wf-conn-path-error');
    await err.waitFor();
    expect(await err.textContent()).toContain('/etc/fleet.db is outside your data directories');
    expect(await page.locator('#wf-conn-path').getAttribute('aria-invalid')).toBe('true');
    await shot(page, '03-workflow-error');
    expected.delete(422);
    await page.locator('#wf-conn-path').fill(server.db);
    await page.getByRole('button', { name: 'Create workflow' }).click();
    await page.getByText('Created fleet (version 1).').waitFor();
    await page.locator('li[data-workflow="fleet"]').waitFor();

    // a saved connection, tested
    await page.locator('#conn-name').fill('fleet');
    await page.locator('#conn-location').fill(server.db);
    await page.getByRole('button', { name: 'Save connection' }).click();
    await page.getByRole('button', { name: 'Test connection fleet' }).click();
    await page.locator('li[data-connection="fleet"]').getByText('Works: 1 tables').waitFor();
    await shot(page, '04-workflows');
  });

  it('runs a question: approve the plan, edit the SQL, see the table and the cited answer; a reload resumes cleanly', async () => {
    // the inbox, in a second tab, follows the tenant's events
    const inbox = await context.newPage();
    watch(inbox, 'inbox');
    await inbox.goto(server.base + '/approvals/');
    // session storage belongs to one tab: a new tab signs in again
    await inbox.getByLabel('API key').fill(server.keys.admin);
    await inbox.getByRole('button', { name: 'Sign in' }).click();
    await inbox.getByText('Nothing is waiting for you.').waitFor();

    await nav(page, 'Ask').click();
    await page.getByLabel('Question', { exact: true }).fill(QUESTION);
    await page.getByRole('button', { name: 'Ask', exact: true }).click();
    await page.waitForURL(/\/runs\/\?id=/);
    const runId = new URL(page.url()).searchParams.get('id')!;

    const plan = page.locator('section.approval[data-kind="plan"][data-status="proposed"]');
    await plan.waitFor();
    await page.getByText('waiting for approval').first().waitFor();
    await inbox.locator('li[data-approval]').filter({ hasText: 'Plan' }).waitFor();
    await shot(page, '05-run-plan');
    await shot(inbox, '06-inbox-pending');

    // keyboard: the pending card has the focus; `a` approves
    await plan.focus();
    await page.keyboard.press('a');
    const sqlCard = page.locator('section.approval[data-kind="sql_read"][data-status="proposed"]');
    await sqlCard.waitFor();
    await page.locator('section.approval[data-kind="plan"][data-status="approved"]').waitFor();
    await inbox.locator('li[data-approval]').filter({ hasText: 'SQL query' }).waitFor();

    // reload mid-run: the timeline is replayed, each event once, in order
    const before = await timelineSeqs(page);
    await page.reload();
    await sqlCard.waitFor();
    await page.waitForFunction((n) => document.querySelectorAll('.timeline li[data-seq]').length >= n, before.length);
    const after = await timelineSeqs(page);
    expect(new Set(after).size).toBe(after.length);
    expect(after).toEqual([...after].sort((a, b) => a - b));
    expect(after.slice(0, before.length)).toEqual(before);
    await expect.poll(() => page.locator('section.approval[data-kind="plan"]').count(), { timeout: 10_000 }).toBe(1);

    // edit the SQL with `e`
    await sqlCard.focus();
    await page.keyboard.press('e');
    const editor = page.getByLabel('Edit the SQL');
    await editor.waitFor();
    expect(await editor.evaluate((el) => el === document.activeElement)).toBe(true);
    await editor.fill("SELECT depot, count(*) AS vehicles FROM vehicles WHERE depot <> 'East' GROUP BY depot ORDER BY vehicles DESC");
    await shot(page, '07-run-sql-edit');
    await page.getByRole('button', { name: 'Approve with edits' }).click();

    // results, answer with its citation, snippets
    const results = page.locator('section.results');
    await results.waitFor();
    await page.locator('.answer .cite').first().waitFor();
    await page.locator('section.answer[aria-busy="false"]').waitFor(); // final, whatever its revision
    await page.getByRole('status').filter({ hasText: 'complete' }).waitFor();
    const headers = await results.locator('th').allTextContents();
    expect(headers.map((h) => h.trim())).toEqual(['depot', 'vehicles']);
    const firstRow = await results.locator('tbody tr').first().locator('td').allTextContents();
    expect(firstRow).toEqual(['North', '12']);
    // sort by depot ascending: North, South
    await results.getByRole('button', { name: 'depot' }).click();
    expect(await results.locator('tbody tr td:first-child').allTextContents()).toEqual(['North', 'South']);
    await results.getByRole('button', { name: 'depot' }).click();
    expect(await results.locator('tbody tr td:first-child').allTextContents()).toEqual(['South', 'North']);
    expect(await page.locator('section.approval[data-kind="sql_read"]').getAttribute('data-status')).toBe('ran');
    const answer = await page.locator('.answer-text').textContent();
    expect(answer).toContain('North has the most vehicles');
    expect(await page.locator('.answer .cite').first().getAttribute('href')).toBe('#cite-1');
    expect(await page.locator('#cite-1').textContent()).toContain('Cooling Manual');
    // the cited passage opens in its document, highlighted
    const open = page.locator('#cite-1').getByRole('link', { name: 'Open the passage in its document' });
    expect(await open.getAttribute('href')).toMatch(/^\/knowledge\/\?c=[^&]+&doc=[^&]+&start=\d+&end=\d+$/);
    // CSV download through the API client (the key cannot go in a link)
    const [download] = await Promise.all([page.waitForEvent('download'), results.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toBe(`${runId.slice(0, 8)}-sql.csv`);
    // every step says how long it took
    await expect.poll(() => page.locator('.step.done').count(), { timeout: 10_000 }).toBe(5);
    expect(await page.locator('.step-time').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^done in \d/)]));
    // no duplicates after the reload either
    const final = await timelineSeqs(page);
    expect(new Set(final).size).toBe(final.length);
    await page.locator('.answer').scrollIntoViewIfNeeded();
    await shot(page, '08-run-done');

    await inbox.getByText('Nothing is waiting for you.').waitFor();
    await shot(inbox, '09-inbox-empty');
    await inbox.close();
  });

  it('asks a follow-up in the same thread', async () => {
    await page.getByLabel('Follow-up question').fill('And only the North depot?');
    await page.getByRole('button', { name: 'Ask follow-up' }).click();
    await page.waitForFunction(() => document.querySelector('h1.question')?.textContent === 'And only the North depot?');
    await page.locator('section.approval[data-kind="plan"][data-status="proposed"]').waitFor();
  });

  it('lists the history with filters and pages', async () => {
    await nav(page, 'History').click();
    await page.getByRole('heading', { name: 'Run history' }).waitFor();
    await page.getByRole('link', { name: QUESTION }).waitFor();
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=succeeded/);
    await page.getByRole('link', { name: QUESTION }).waitFor();
    // the filtered page replaces the unfiltered one when its request returns: wait for it
    await expect.poll(() => page.locator('table.runs tbody tr').count(), { timeout: 10_000 }).toBe(1);
    await shot(page, '10-history');
    await page.getByLabel('Text in the question').fill('zeppelin');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No runs match.').waitFor();
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.locator('table.runs tbody tr').nth(1).waitFor();
  });

  it('is usable at 390 px', async () => {
    const narrow = await context.newPage();
    watch(narrow, 'narrow');
    await narrow.setViewportSize({ width: 390, height: 844 });
    await narrow.goto(server.base + '/');
    await narrow.getByLabel('API key').fill(server.keys.admin);
    await narrow.getByRole('button', { name: 'Sign in' }).click();
    await narrow.getByRole('heading', { name: 'Ask a question' }).waitFor();
    const runs = (await (await api('/runs?status=succeeded')).json()) as { runs: { id: string }[] };
    for (const [name, path] of [
      ['11-run-390', `/runs/?id=${runs.runs[0]!.id}`],
      ['12-workflows-390', '/workflows/'],
      ['13-knowledge-390', '/knowledge/?c=fleet-docs'],
      ['14-history-390', '/history/'],
    ] as const) {
      await narrow.goto(server.base + path);
      await narrow.locator('h1').first().waitFor();
      await narrow.waitForLoadState('networkidle').catch(() => undefined);
      if (name.startsWith('11')) await narrow.locator('.answer').waitFor();
      if (name.startsWith('13')) await narrow.locator('tr[data-source="cooling.md"]').waitFor();
      const width = await narrow.evaluate(() => document.documentElement.scrollWidth);
      expect(width, `${path} scrolls sideways`).toBeLessThanOrEqual(390);
      await shot(narrow, name);
    }
    await narrow.close();
  });

  it('a viewer sees the run but no decision buttons, and the server refuses a decision anyway', async () => {
    const created = await api('/runs', { method: 'POST', body: JSON.stringify({ workflow: 'fleet', question: 'Which depot is smallest?' }) });
    const run = (await created.json()) as { id: string };
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').fill(server.keys.viewer);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await nav(page, 'History').waitFor();
    await page.goto(`${server.base}/runs/?id=${run.id}`);
    // the page was reloaded: the key is still in this tab's session storage
    const card = page.locator('section.approval[data-kind="plan"][data-status="proposed"]');
    await card.waitFor();
    // the role is known from GET /me before the page shows: no button is ever offered
    await card.getByText('Your role may not decide approvals').waitFor();
    expect(await card.getByRole('button', { name: /Approve|Reject/ }).count()).toBe(0);
    await shot(page, '15-viewer');
    const [pending] = (await (await api(`/approvals?run=${run.id}`)).json()) as { id: string; content_hash: string }[];
    const refused = await fetch(`${server.base}/api/v1/approvals/${pending!.id}/decision`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.keys.viewer}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ decision: 'approve', content_hash: pending!.content_hash }),
    });
    expect(refused.status).toBe(403);
  });

  it('a decision on an approval decided elsewhere shows "already decided"', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').fill(server.keys.admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await nav(page, 'History').waitFor();
    const created = await api('/runs', { method: 'POST', body: JSON.stringify({ workflow: 'fleet', question: 'Which depot is largest?' }) });
    const run = (await created.json()) as { id: string };
    const frames = await eventsUntil(run.id, 'approval.requested');
    // the page's stream stops at the approval: it will not hear of the decision made elsewhere
    await page.route('**/api/v1/runs/*/events*', (route) =>
      route.fulfill({ status: 200, headers: { 'Content-Type': 'text/event-stream' }, body: frames }),
    );
    await page.goto(`${server.base}/runs/?id=${run.id}`);
    const card = page.locator('section.approval[data-kind="plan"][data-status="proposed"]');
    await card.waitFor();
    const [pending] = (await (await api(`/approvals?run=${run.id}`)).json()) as { id: string; content_hash: string }[];
    const decided = await api(`/approvals/${pending!.id}/decision`, {
      method: 'POST',
      body: JSON.stringify({ decision: 'reject', message: 'not this one', content_hash: pending!.content_hash }),
    });
    expect(decided.status).toBe(200);
    expected.add(409);
    await card.getByRole('button', { name: /Approve/ }).click();
    await card.getByText(/^Already decided:/).waitFor();
    await expect.poll(() => card.getByRole('button', { name: /Approve/ }).count(), { timeout: 10_000 }).toBe(0);
    await shot(page, '16-already-decided');
    expected.delete(409);
    await page.unroute('**/api/v1/runs/*/events*');
  });

  it('has no console errors', () => {
    expect(problems).toEqual([]);
  });
});
