// Workflows, knowledge, the home page and roles, end to end against a real `hil serve`
// (authentication on, scripted model) in Debian's chromium: version diffs, archiving, a connection
// tested before it is saved, a saved connection chosen for a workflow, many files dropped at once, a citation opening its passage, the home
// page's one-click question, what each role is shown from the start, and how fast the run page
// first loads. Screenshots go to web/test-results/.

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, chromiumPath, PageProblems, python, REPO, type Server, shot, SHOTS, startServer } from './harness';

const QUESTION = 'How many vehicles does each depot have?';

let server: Server;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let operatorKey = '';
let runId = '';
const pages = new PageProblems();
const { found: problems, expected } = pages;
const watch = (p: Page, name: string): void => pages.watch(p, name);
const api = (path: string, init: RequestInit = {}, key?: string): Promise<Response> => callApi(server, path, init, key);

function nav(p: Page, name: string) {
  return p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
}

async function signIn(p: Page, key: string): Promise<void> {
  if (await p.getByRole('button', { name: 'Sign out' }).count()) await p.getByRole('button', { name: 'Sign out' }).click();
  await p.getByLabel('API key').fill(key);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.locator('.who').waitFor();
}

function workflowBody(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    description: 'Vehicles and depots',
    connections: [{ name: 'fleet', engine: 'sqlite', path: server.db }],
    knowledge: [{ name: 'docs' }],
    steps: ['sql', 'rag'],
    model: { model: `scripted:file:${server.scriptPath}` },
    ...extra,
  };
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  const out = execFileSync(python(), ['-m', 'hil.cli', 'users', 'add', 'otto', '--role', 'operator', '--json'], {
    env: { ...process.env, HIL_HOME: server.home, HIL_TEST_MODE: '1', PYTHONPATH: join(REPO, 'src') },
    encoding: 'utf8',
  });
  operatorKey = (JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as { key: string }).key;
  expect((await api('/collections', { method: 'POST', body: JSON.stringify({ name: 'docs', embedder: 'none' }) })).status).toBe(201);
  expect((await api('/workflows', { method: 'POST', body: JSON.stringify(workflowBody('fleet')) })).status).toBe(201);
  expect((await api('/workflows', { method: 'POST', body: JSON.stringify(workflowBody('scratch')) })).status).toBe(201);
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  watch(page, 'main');
  await page.goto(server.base + '/');
  await signIn(page, server.keys.admin);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('workflows, knowledge, home and roles', () => {
  it('drops several files at once and shows each one reach indexed, or failed with its reason', async () => {
    await page.goto(`${server.base}/knowledge/?c=docs`);
    await page.getByRole('heading', { name: 'docs', exact: true }).waitFor();
    const drop = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['# Cooling Manual\n\nIntro text.\n\n## Overheating\n\nWhen a vehicle overheats, check the coolant level first, with the engine cold.\n'], 'cooling.md', { type: 'text/markdown' }));
      dt.items.add(new File(['# Safety Policy\n\nA vehicle with a critical code is taken out of service.\n'], 'policy.md', { type: 'text/markdown' }));
      dt.items.add(new File(['Tyres: check the pressure every week.\n'], 'tyres.txt', { type: 'text/plain' }));
      dt.items.add(new File(['%PDF-1.4 this is not really a pdf'], 'broken.pdf', { type: 'application/pdf' }));
      return dt;
    });
    await page.locator('.dropzone').dispatchEvent('drop', { dataTransfer: drop });
    for (const name of ['cooling.md', 'policy.md', 'tyres.txt']) await page.locator(`tr[data-source="${name}"] [data-status="indexed"]`).waitFor();
    const broken = page.locator('tr[data-source="broken.pdf"]');
    await broken.locator('[data-status="failed"]').waitFor();
    expect(((await broken.locator('.field-error').textContent()) ?? '').length).toBeGreaterThan(5);
    expect(await page.locator('table.docs tbody tr').count()).toBe(4);
    await shot(page, '20-knowledge-dropped');
  });

  it('opens a search result in its document with the cited passage highlighted', async () => {
    await page.getByLabel('Search for').fill('coolant overheats');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('list', { name: 'Search results' }).locator('li').first().waitFor();
    await page.getByRole('button', { name: /^Open passage \[1\]/ }).click();
    const mark = page.locator('.passage mark.cited');
    await mark.waitFor();
    expect(await mark.textContent()).toContain('check the coolant level first');
    // the whole document is there around it, and the passage is scrolled into view
    expect(await page.locator('.passage .doc-text').textContent()).toContain('Intro text.');
    expect(await page.getByRole('heading', { name: 'Cooling Manual' }).count()).toBeGreaterThan(0);
    await expect.poll(() => mark.evaluate((el) => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; })).toBe(true);
    await shot(page, '21-passage');
    // the same passage by link (what a citation elsewhere opens)
    const start = Number(await mark.getAttribute('data-start'));
    const end = Number(await mark.getAttribute('data-end'));
    const docs = (await (await api('/collections/docs/documents')).json()) as { id: string; source: string }[];
    const cooling = docs.find((d) => d.source === 'cooling.md')!;
    await page.goto(`${server.base}/knowledge/?c=docs&doc=${cooling.id}&start=${start}&end=${end}`);
    await page.locator('.passage mark.cited').waitFor();
    expect(await page.locator('.passage mark.cited').textContent()).toContain('check the coolant level first');
  });

  it('tests a connection before saving it and names the cause at the field', async () => {
    await nav(page, 'Workflows').click();
    await page.getByRole('button', { name: 'Edit fleet' }).click();
    const path = page.locator('#wf-conn-path');
    const outcome = page.locator('#wf-conn-outcome');
    await path.fill(join(server.dataDir, 'missing.db'));
    await page.getByRole('button', { name: 'Test connection' }).first().click();
    await outcome.locator('[data-cause="file_not_found"]').waitFor();
    expect(await outcome.textContent()).toContain('File not found');
    writeFileSync(join(server.dataDir, 'notes.db'), 'not a database at all, only some words\n'.repeat(50));
    await path.fill(join(server.dataDir, 'notes.db'));
    await page.getByRole('button', { name: 'Test connection' }).first().click();
    await outcome.locator('[data-cause="cannot_open"]').waitFor();
    await shot(page, '22-connection-cause');
    expected.add(422);
    await path.fill('/etc/passwd');
    await page.getByRole('button', { name: 'Test connection' }).first().click();
    await page.locator('#wf-conn-path-error').waitFor();
    expect(await page.locator('#wf-conn-path-error').textContent()).toContain('outside your data directories');
    expect(await path.getAttribute('aria-invalid')).toBe('true');
    expected.delete(422);
    await path.fill(server.db);
    await page.getByRole('button', { name: 'Test connection' }).first().click();
    await outcome.getByText('Works: 1 tables').waitFor();
    // the step picker offers every step agent the server has: MCP tools and the installed plug-ins
    await page.getByRole('checkbox', { name: /^tools\b/ }).waitFor();
    for (const plugin of ['can_decoder', 'anomaly_scorer']) {
      expect(await page.getByRole('checkbox', { name: new RegExp(`^${plugin} \\(plug-in\\)`) }).count()).toBe(1);
    }
  });

  it('saves a new version and shows the line diff between any two versions', async () => {
    await page.getByLabel('Description').fill('Vehicles, depots and their manuals');
    await page.getByLabel('Example questions').fill(QUESTION);
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByText('Saved fleet: version 2.').waitFor();
    await page.getByRole('button', { name: 'Versions of fleet' }).click();
    const diff = page.getByLabel('Differences from v1 to v2');
    await diff.waitFor();
    const added = await diff.locator('[data-op="add"]').allTextContents();
    const removed = await diff.locator('[data-op="del"]').allTextContents();
    expect(removed.join('\n')).toContain('description: "Vehicles and depots"');
    expect(added.join('\n')).toContain('description: "Vehicles, depots and their manuals"');
    expect(added.join('\n')).toContain(QUESTION);
    expect(removed.join('\n')).not.toContain('steps');
    await shot(page, '23-versions-diff');
    // the same version against itself: no difference
    await page.locator('select[id$="-from"]').selectOption('2');
    await page.getByText('The same version.').waitFor();
    expect(await diff.locator('[data-op="add"], [data-op="del"]').count()).toBe(0);
  });

  it('archives a workflow after a confirmation', async () => {
    await page.getByRole('button', { name: 'Archive scratch' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Archive scratch?' });
    await dialog.waitFor();
    const confirm = dialog.getByRole('button', { name: 'Archive scratch' });
    expect(await confirm.evaluate((el) => el === document.activeElement)).toBe(true);
    await shot(page, '24-archive-confirm');
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await page.locator('li[data-workflow="scratch"]').waitFor();
    expect(await page.getByRole('alertdialog').count()).toBe(0);
    await page.getByRole('button', { name: 'Archive scratch' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Archive scratch' }).click();
    await page.getByText('Archived scratch.').waitFor();
    await expect.poll(() => page.locator('li[data-workflow="scratch"]').count()).toBe(0);
    const names = ((await (await api('/workflows')).json()) as { name: string }[]).map((w) => w.name);
    expect(names).toEqual(['fleet']);
  });

  it('starts the example question from the home page in one click', async () => {
    await nav(page, 'Ask').click();
    const card = page.locator('ul.starters li[data-workflow="fleet"]');
    await card.waitFor();
    await shot(page, '25-home');
    await card.getByRole('button', { name: QUESTION }).click();
    await page.waitForURL(/\/runs\/\?id=/);
    runId = new URL(page.url()).searchParams.get('id')!;
    expect(await page.locator('h1.question').textContent()).toBe(QUESTION);
    await page.locator('section.approval[data-kind="plan"][data-status="proposed"]').waitFor();
  });

  it('loads the run page in under a second', async () => {
    await page.addInitScript(() => {
      const w = window as unknown as { __runShown?: number };
      const seen = () => {
        if (w.__runShown === undefined && document.querySelector('h1.question')?.textContent) w.__runShown = performance.now();
      };
      new MutationObserver(seen).observe(document, { childList: true, subtree: true, characterData: true });
    });
    const figures: number[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`${server.base}/runs/?id=${runId}`);
      await page.locator('h1.question').waitFor();
      figures.push(await page.evaluate(() => (window as unknown as { __runShown: number }).__runShown));
    }
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { ttfb: n.responseStart, domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd };
    });
    const line = `run page first load on localhost, navigation start to the run shown: ${figures.map((f) => `${f.toFixed(0)} ms`).join(', ')} (first byte ${nav.ttfb.toFixed(0)} ms, DOMContentLoaded ${nav.domContentLoaded.toFixed(0)} ms, load ${nav.load.toFixed(0)} ms)`;
    console.log(line);
    writeFileSync(join(SHOTS, 'run-first-load.txt'), `${line}\n`);
    expect(Math.max(...figures)).toBeLessThan(1000);
  });

  it('a viewer sees the pending approval but no decision buttons, from the start', async () => {
    await signIn(page, server.keys.viewer);
    expect(await page.locator('.who').textContent()).toContain('vic · viewer');
    // no 403 is allowed here: the buttons must never be offered
    await page.goto(`${server.base}/runs/?id=${runId}`);
    const card = page.locator('section.approval[data-kind="plan"][data-status="proposed"]');
    await card.waitFor();
    expect(await card.getByRole('button', { name: /Approve|Reject|Edit/ }).count()).toBe(0);
    await shot(page, '26-viewer-run');
    await nav(page, 'Workflows').click();
    await page.locator('li[data-workflow="fleet"]').waitFor();
    expect(await page.getByRole('button', { name: /^(New workflow|Edit fleet|Archive fleet)$/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Versions of fleet' }).count()).toBe(1);
    await nav(page, 'Ask').click();
    await page.locator('ul.starters li[data-workflow="fleet"]').waitFor();
    expect(await page.getByRole('button', { name: QUESTION }).isDisabled()).toBe(true);
    await page.goto(`${server.base}/knowledge/?c=docs`);
    await page.locator('tr[data-source="cooling.md"]').waitFor();
    expect(await page.locator('.dropzone').count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Remove / }).count()).toBe(0);
    expect(await page.getByLabel('New collection').count()).toBe(0);
  });

  it('an operator may ask and upload but sees no configuration and no decisions', async () => {
    await signIn(page, operatorKey);
    expect(await page.locator('.who').textContent()).toContain('otto · operator');
    await nav(page, 'Workflows').click();
    await page.locator('li[data-workflow="fleet"]').waitFor();
    expect(await page.getByRole('button', { name: /^(New workflow|Edit fleet|Archive fleet)$/ }).count()).toBe(0);
    expect(await page.getByRole('form', { name: 'Save a connection' }).count()).toBe(0);
    await page.goto(`${server.base}/runs/?id=${runId}`);
    const card = page.locator('section.approval[data-kind="plan"][data-status="proposed"]');
    await card.waitFor();
    expect(await card.getByRole('button', { name: /Approve|Reject/ }).count()).toBe(0);
    await page.goto(`${server.base}/knowledge/?c=docs`);
    await page.locator('.dropzone').waitFor();
    expect(await page.getByLabel('New collection').count()).toBe(0);
    await nav(page, 'Ask').click();
    expect(await page.getByRole('button', { name: QUESTION }).isEnabled()).toBe(true);
  });

  it('replays a finished run from its events when opened from the history', async () => {
    // decide the run's approvals through the API, until it ends
    for (let i = 0; i < 200; i++) {
      const run = (await (await api(`/runs/${runId}`)).json()) as { status: string; pending_approvals: { id: string; content_hash: string }[] };
      if (run.status === 'succeeded') break;
      for (const a of run.pending_approvals)
        await api(`/approvals/${a.id}/decision`, { method: 'POST', body: JSON.stringify({ decision: 'approve', content_hash: a.content_hash }) });
      await new Promise((r) => setTimeout(r, 100));
    }
    const detail = (await (await api(`/runs/${runId}`)).json()) as { status: string; last_seq: number };
    expect(detail.status).toBe('succeeded');
    await nav(page, 'History').click();
    await page.getByRole('link', { name: QUESTION }).first().click();
    await page.locator('section.answer[aria-busy="false"]').waitFor();
    expect(await page.locator('.answer-text').textContent()).toContain('North has the most vehicles');
    // every event of the log, once, in order
    await expect.poll(() => page.locator('.timeline li[data-seq]').count(), { timeout: 10_000 }).toBeGreaterThan(5);
    const seqs = await page.locator('.timeline li[data-seq]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(Math.max(...seqs)).toBe(detail.last_seq);
  });

  it('is usable at 390 px', async () => {
    await signIn(page, server.keys.admin);
    const narrow = await context.newPage();
    watch(narrow, 'narrow');
    await narrow.setViewportSize({ width: 390, height: 844 });
    await narrow.goto(server.base + '/');
    await narrow.getByLabel('API key').fill(server.keys.admin);
    await narrow.getByRole('button', { name: 'Sign in' }).click();
    await narrow.locator('ul.starters li[data-workflow="fleet"]').waitFor();
    const fits = async (what: string) => expect(await narrow.evaluate(() => document.documentElement.scrollWidth), `${what} scrolls sideways`).toBeLessThanOrEqual(390);
    await fits('home');
    await shot(narrow, '27-home-390');
    await narrow.goto(`${server.base}/workflows/`);
    await narrow.getByRole('button', { name: 'Versions of fleet' }).click();
    await narrow.getByLabel('Differences from v1 to v2').waitFor();
    await fits('workflows');
    await shot(narrow, '28-versions-390');
    await narrow.goto(`${server.base}/knowledge/?c=docs`);
    await narrow.getByLabel('Search for').fill('coolant');
    await narrow.getByRole('button', { name: 'Search', exact: true }).click();
    await narrow.getByRole('button', { name: /^Open passage \[1\]/ }).click();
    await narrow.locator('.passage mark.cited').waitFor();
    await fits('knowledge');
    await shot(narrow, '29-passage-390');
    await narrow.close();
  });

  it('shows the keyboard focus', async () => {
    await page.goto(`${server.base}/workflows/`);
    await page.locator('li[data-workflow="fleet"]').waitFor();
    const versions = page.getByRole('button', { name: 'Versions of fleet' });
    await versions.focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    const outline = await versions.evaluate((el) => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth);
    expect(outline).toBe('solid 3px');
  });

  it('keeps text contrast at 4.5:1 or more on these screens', async () => {
    const low: string[] = [];
    const check = async (where: string) => {
      const found = await page.evaluate(() => {
        const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
        const lum = ([r, g, b]: number[]) =>
          [r!, g!, b!].map((v) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4)).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i]!, 0);
        const background = (el: Element | null): number[] => {
          for (let e = el; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3]! > 0.9)) return c.slice(0, 3);
          }
          return [255, 255, 255];
        };
        const bad: string[] = [];
        for (const el of Array.from(document.querySelectorAll('main *, header *'))) {
          const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent!.trim());
          const style = getComputedStyle(el);
          if (!own || style.visibility === 'hidden' || style.display === 'none' || (el as HTMLElement).offsetParent === null) continue;
          if ((el as HTMLButtonElement).disabled || el.closest('button:disabled')) continue; // WCAG exempts inactive controls
          const [a, b] = [lum(rgb(style.color)), lum(background(el))];
          const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
          if (ratio < 4.5) bad.push(`${el.tagName.toLowerCase()}.${el.className}: ${ratio.toFixed(2)} "${el.textContent!.trim().slice(0, 30)}"`);
        }
        return bad;
      });
      low.push(...found.map((f) => `${where}: ${f}`));
    };
    // the check itself finds faint text
    await page.goto(`${server.base}/workflows/`);
    await page.getByRole('button', { name: 'Versions of fleet' }).click();
    await page.getByLabel('Differences from v1 to v2').waitFor();
    await page.evaluate(() => document.querySelector('main')!.insertAdjacentHTML('beforeend', '<p id="faint" style="color:#bbb">faint words</p>'));
    await check('self-check');
    expect(low).toEqual([expect.stringContaining('faint words')]);
    low.length = 0;
    await page.evaluate(() => document.getElementById('faint')!.remove());
    await page.getByRole('button', { name: 'Archive fleet' }).click();
    await check('workflows');
    await page.getByRole('button', { name: 'Keep it' }).click();
    await page.goto(`${server.base}/knowledge/?c=docs`);
    await page.getByLabel('Search for').fill('coolant');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('button', { name: /^Open passage \[1\]/ }).click();
    await page.locator('.passage mark.cited').waitFor();
    await check('knowledge');
    await nav(page, 'Ask').click();
    await page.locator('ul.starters li[data-workflow="fleet"]').waitFor();
    await check('home');
    expect(low).toEqual([]);
  });

  it('adds an MCP server to a workflow and lists the tools it offers, each reading or acting', async () => {
    await nav(page, 'Workflows').click();
    await page.getByRole('button', { name: 'Edit fleet' }).click();
    await page.getByRole('button', { name: 'Add MCP server' }).click();
    const row = page.getByRole('group', { name: 'MCP server 1' });
    await row.getByLabel('Name', { exact: true }).fill('fleet-tools');
    await row.getByLabel('Command', { exact: true }).fill(`${server.python} ${join(REPO, 'tests', 'mcp_fleet_server.py')}`);
    await row.getByLabel(/^Environment/).fill('TICKETS_FILE=oops');
    expected.add(422);
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByText(/TICKETS_FILE must be a reference/).first().waitFor();
    expected.delete(422);
    await row.getByLabel(/^Environment/).fill('TICKETS_FILE=env://HIL_HOME');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByRole('button', { name: 'Edit fleet' }).click();
    await page.getByRole('button', { name: 'List the saved servers’ tools' }).click();
    const tools = page.getByRole('list', { name: 'Tools' });
    await tools.getByText('fleet-tools/open_ticket').waitFor({ timeout: 30_000 });
    expect(await tools.textContent()).toContain('fleet-tools/vehicle_status — reads');
    expect(await tools.textContent()).toContain('fleet-tools/open_ticket — acts: waits for approval');
    await shot(page, '30-mcp-tools');
    await page.getByRole('button', { name: /^Remove server fleet-tools$/ }).click();
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByRole('button', { name: 'Edit fleet' }).waitFor();
  });

  it('points a workflow at a connection chosen from the saved ones', async () => {
    expect((await api('/connections', { method: 'POST', body: JSON.stringify({ name: 'fleet-db', engine: 'sqlite', path: server.db }) })).status).toBe(201);
    await nav(page, 'Workflows').click();
    await page.getByRole('button', { name: 'Edit fleet' }).click();
    await page.locator('#wf-engine').selectOption('saved');
    await page.locator('#wf-conn-saved').selectOption('fleet-db');
    expect(await page.locator('#wf-conn-path').count()).toBe(0);
    await shot(page, '31-saved-connection');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByText('Saved fleet: version ').waitFor();
    await page.locator('li[data-workflow="fleet"]').getByText('saved connection fleet-db').waitFor();
    const fleet = (await (await api('/workflows/fleet')).json()) as { definition: { connections: Record<string, unknown>[] } };
    expect(fleet.definition.connections[0]).toMatchObject({ name: 'fleet', saved: 'fleet-db', engine: null, path: null });
    // saved elsewhere (the CLI, another tab) while this page is open: listed once the page is back in view
    expect((await api('/connections', { method: 'POST', body: JSON.stringify({ name: 'fleet-copy', engine: 'sqlite', path: server.db }) })).status).toBe(201);
    expect(await page.locator('li[data-connection="fleet-copy"]').count()).toBe(0);
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await page.locator('li[data-connection="fleet-copy"]').waitFor();
  });

  it('has no console errors', () => {
    expect(problems).toEqual([]);
  });
});
