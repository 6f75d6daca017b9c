// Drives the demo question to its answer in a real browser against a running `hil serve` (after
// `hil demo`): opens the home page, clicks the demo workflow's first example question, approves
// every plan and SQL draft as it appears, and waits for the final answer. Prints how long each
// stage took. Exit code 0 when the answer came, 1 otherwise.
//
//   node web/scripts/drive-demo.mjs [--base http://127.0.0.1:8321] [--key KEY] [--workflow fleet-health]
//                                   [--timeout 900] [--shots DIR]
//
// The key (when the server authenticates callers) may also come from HIL_API_KEY.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const base = option('base', 'http://127.0.0.1:8321').replace(/\/$/, '');
const key = option('key', process.env.HIL_API_KEY ?? '');
const workflow = option('workflow', 'fleet-health');
const timeoutMs = Number(option('timeout', '900')) * 1000;
const shots = option('shots', '');
const TERMINAL = ['succeeded', 'failed', 'cancelled', 'expired'];

const t0 = performance.now();
let last = t0;
const stages = [];
function stage(name, detail = '') {
  const now = performance.now();
  stages.push({ name, at: now - t0, took: now - last });
  console.log(`${((now - t0) / 1000).toFixed(1).padStart(7)} s  (+${((now - last) / 1000).toFixed(1).padStart(6)} s)  ${name}${detail ? `: ${detail}` : ''}`);
  last = now;
}

async function shot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
let ok = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(timeoutMs);
  page.on('pageerror', (err) => console.log(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`console error: ${msg.text()}`);
  });
  await page.goto(`${base}/`);
  if (key) {
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  const card = page.locator(`ul.starters li[data-workflow="${workflow}"]`);
  await card.waitFor();
  const first = card.locator('button.question-start').first();
  const question = (await first.textContent())?.replace(/^\s*→\s*/, '').trim() ?? '';
  stage('home page shows the demo workflow', question);
  await shot(page, 'demo-1-home');

  await first.click();
  await page.waitForURL(/\/runs\/\?id=/);
  await page.locator('h1.question').waitFor();
  const runId = new URL(page.url()).searchParams.get('id');
  stage('run page shows the run', runId ?? '');

  // approve every draft as it comes (plan, SQL, redrafts), until the answer is final or the run ends
  let approvals = 0;
  const deadline = Date.now() + timeoutMs;
  let answered = false;
  let sawAnswer = false;
  let sawResults = false;
  while (Date.now() < deadline) {
    const pending = page.locator('section.approval[data-status="proposed"]');
    if ((await pending.count()) > 0) {
      const one = pending.first();
      const kind = (await one.getAttribute('data-kind')) ?? 'draft';
      const label = await one.getAttribute('aria-labelledby');
      const button = one.getByRole('button', { name: /^Approve/ }).first();
      if ((await button.count()) > 0 && (await button.isEnabled())) {
        const text = kind === 'plan' ? '' : ((await one.locator('pre, textarea, code').first().textContent().catch(() => '')) ?? '').replace(/\s+/g, ' ').slice(0, 160);
        stage(`${kind} drafted, waiting for approval`, text);
        await shot(page, `demo-2-${kind}-${approvals}`);
        await button.click();
        approvals++;
        const same = page.locator(`section.approval[aria-labelledby="${label}"]`);
        for (let i = 0; i < 100 && (await same.getAttribute('data-status', { timeout: 1000 }).catch(() => null)) === 'proposed'; i++) await page.waitForTimeout(100);
        stage(`${kind} approved`);
        continue;
      }
    }
    if (!sawResults && (await page.locator('section.results').count()) > 0) {
      sawResults = true;
      stage('query ran, results shown', `${await page.locator('section.results tbody tr').count()} rows on the page`);
    }
    if (!sawAnswer && (await page.locator('.answer-text').count()) > 0 && ((await page.locator('.answer-text').textContent()) ?? '').trim()) {
      sawAnswer = true;
      stage('answer starts streaming');
    }
    if ((await page.locator('section.answer[aria-busy="false"]').count()) > 0) {
      answered = true;
      break;
    }
    const status = await page.locator('.run-status .badge').first().textContent().catch(() => '');
    if (status && TERMINAL.includes(status.trim().replace(/ /g, '_')) && status.trim() !== 'succeeded') {
      stage(`run ended: ${status.trim()}`, ((await page.locator('.error').first().textContent().catch(() => '')) ?? '').slice(0, 300));
      break;
    }
    await page.waitForTimeout(250);
  }
  if (answered) {
    const rows = await page.locator('section.results tbody tr').count();
    stage('final answer', `${rows} result rows shown`);
    console.log(`\nanswer: ${((await page.locator('.answer-text').textContent()) ?? '').trim()}`);
    await page.locator('.answer').scrollIntoViewIfNeeded();
    await shot(page, 'demo-3-answer');
    ok = true;
  } else if (Date.now() >= deadline) {
    stage('gave up', `no final answer in ${timeoutMs / 1000} s`);
    await shot(page, 'demo-3-timeout');
  }
} catch (err) {
  stage('failed', err instanceof Error ? err.message.split('\n')[0] : String(err));
} finally {
  await browser.close();
}
console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(1)} s; answer ${ok ? 'came' : 'did not come'}`);
process.exit(ok ? 0 : 1);
