// A real `hil serve` for the end-to-end test: temporary HIL_HOME, authentication on, a scripted
// model (a JSON file), a small SQLite database, and the built UI (web/out) served at /.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';

export const WEB = resolve(__dirname, '..');
export const REPO = resolve(WEB, '..');
export const SHOTS = join(WEB, 'test-results');

/** What went wrong in the pages a spec drives: page errors and console errors, except the HTTP
 * statuses a step provokes on purpose (put in `expected` for that step). */
export class PageProblems {
  readonly found: string[] = [];
  readonly expected = new Set<number>();

  watch(p: Page, name: string): void {
    p.on('pageerror', (err) => this.found.push(`${name}: page error: ${err.message}`));
    p.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const m = /status of (\d{3})/.exec(msg.text());
      if (m && this.expected.has(Number(m[1]))) return;
      this.found.push(`${name}: console error: ${msg.text()} (${msg.location().url})`);
    });
  }
}

/** A full-page screenshot in web/test-results, to look at. */
export async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** A call to the server's API with a key (the admin's unless another is given). */
export function callApi(server: Server, path: string, init: RequestInit = {}, key = server.keys.admin): Promise<Response> {
  return fetch(`${server.base}/api/v1${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...(init.headers ?? {}) },
  });
}

export function python(): string {
  if (process.env.HIL_PYTHON) return process.env.HIL_PYTHON;
  const venv = join(REPO, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

export function chromiumPath(): string {
  return process.env.CHROMIUM ?? '/usr/bin/chromium';
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

export const SCRIPT = {
  plan: {
    steps: [
      { agent: 'sql', purpose: 'count vehicles per depot' },
      { agent: 'rag', purpose: 'what the manual says to check first' },
    ],
  },
  sql: { sql: 'SELECT depot, count(*) AS vehicles FROM vehicles GROUP BY depot ORDER BY depot' },
  answer: 'North has the most vehicles (3). Check the coolant level first [1].',
};

export interface Server {
  base: string;
  home: string;
  dataDir: string;
  db: string;
  scriptPath: string;
  /** the python that serves, and the tests' MCP server it may start (HIL_MCP_COMMANDS) */
  python: string;
  keys: { admin: string; viewer: string };
  log: () => string;
  stop: () => Promise<void>;
}

export async function startServer({ auth = true }: { auth?: boolean } = {}): Promise<Server> {
  if (!existsSync(join(WEB, 'out', 'index.html'))) throw new Error('no build of the web UI in web/out: run `make web` (or `npm run build`) first');
  const root = mkdtempSync(join(tmpdir(), 'hil-e2e-'));
  const home = join(root, 'home');
  const dataDir = join(home, 'data', 'default'); // the tenant's data directory (authentication is on)
  mkdirSync(dataDir, { recursive: true });
  const db = join(dataDir, 'fleet.db');
  const py = python();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HIL_HOME: home,
    HIL_TEST_MODE: '1',
    HIL_EMBEDDER: 'none',
    HIL_WEB_DIR: join(WEB, 'out'),
    HIL_LOG_LEVEL: 'WARNING',
    HIL_MCP_COMMANDS: py,
    PYTHONPATH: [join(REPO, 'src'), process.env.PYTHONPATH].filter(Boolean).join(':'),
  };
  delete env.HIL_DATABASE_URL;
  execFileSync(py, [
    '-c',
    `import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("create table vehicles(id text primary key, depot text, km integer)")
c.executemany("insert into vehicles values (?, ?, ?)", [("VH-%03d" % i, d, 1000 * i) for i, d in enumerate(["North", "North", "North", "South", "South", "East"] * 4, 1)])
c.commit()`,
    db,
  ]);
  const scriptPath = join(root, 'script.json');
  writeFileSync(scriptPath, JSON.stringify(SCRIPT));
  const cli = (...args: string[]) => execFileSync(py, ['-m', 'hil.cli', ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const key = (out: string) => (JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as { key: string }).key;
  // users and keys only with authentication on (without it every caller is the local admin)
  const admin = auth ? key(cli('users', 'add', 'ada', '--role', 'admin', '--json')) : '';
  const viewer = auth ? key(cli('users', 'add', 'vic', '--role', 'viewer', '--json')) : '';

  const port = await freePort();
  let output = '';
  const proc: ChildProcess = spawn(py, ['-m', 'hil.cli', 'serve', '--port', String(port), '--auth', auth ? 'on' : 'off', '--workers', '1'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`hil serve exited:\n${output}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`hil serve did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    home,
    dataDir,
    db,
    scriptPath,
    python: py,
    keys: { admin, viewer },
    log: () => output,
    stop: async () => {
      if (proc.exitCode === null) await stopped(proc);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function stopped(proc: ChildProcess): Promise<void> {
  proc.kill('SIGTERM');
  await new Promise<void>((ok) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      ok();
    }, 10_000);
    proc.once('exit', () => {
      clearTimeout(t);
      ok();
    });
  });
}
