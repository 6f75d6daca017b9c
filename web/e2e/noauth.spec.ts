// Without authentication (a loopback server, every caller the local admin) the UI asks for no key
// and follows a run's events with the browser's EventSource (with a key it streams with fetch).

import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, startServer, WEB, type Server } from './harness';

let server: Server;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  server = await startServer({ auth: false });
  const post = (path: string, body: unknown) =>
    fetch(`${server.base}/api/v1${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  expect((await post('/collections', { name: 'docs', embedder: 'none' })).status).toBe(201);
  const form = new FormData();
  form.append('file', new Blob(['# Cooling Manual\n\nCheck the coolant level first.\n'], { type: 'text/markdown' }), 'cooling.md');
  expect((await fetch(`${server.base}/api/v1/collections/docs/documents`, { method: 'POST', body: form })).status).toBe(201);
  const wf = await post('/workflows', {
    name: 'fleet',
    connections: [{ name: 'fleet', engine: 'sqlite', path: server.db }],
    knowledge: [{ name: 'docs' }],
    steps: ['sql', 'rag'],
    model: { model: `scripted:file:${server.scriptPath}` },
  });
  expect(wf.status).toBe(201);
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the web UI without authentication', () => {
  it('runs a question to its answer, following the events with EventSource', async () => {
    const streams: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/events')) streams.push(r.resourceType());
    });
    await page.goto(server.base + '/');
    await page.getByLabel('Question', { exact: true }).fill('How many vehicles per depot?');
    await page.getByRole('button', { name: 'Ask', exact: true }).click();
    await page.waitForURL(/\/runs\/\?id=/);
    for (const kind of ['plan', 'sql_read']) {
      const card = page.locator(`section.approval[data-kind="${kind}"][data-status="proposed"]`);
      await card.waitFor();
      await card.getByRole('button', { name: /Approve/ }).click();
    }
    await page.locator('.answer .cite').first().waitFor();
    await page.getByRole('status').filter({ hasText: 'complete' }).waitFor();
    await expect.poll(() => page.locator('section.results tbody tr').count(), { timeout: 10_000 }).toBe(3);
    expect(streams).toContain('eventsource');
    await expect.poll(() => page.getByRole('button', { name: 'Sign out' }).count(), { timeout: 10_000 }).toBe(0);
    await page.screenshot({ path: join(WEB, 'test-results', '17-noauth-run.png'), fullPage: true });
    // the stream was closed after the terminal event: no reconnection loop
    const before = streams.length;
    await page.waitForTimeout(2500);
    expect(streams.length).toBe(before);
  });

  it('has no console errors', () => {
    expect(problems).toEqual([]);
  });
});
