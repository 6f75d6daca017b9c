// First-load JavaScript of each page of the static export, gzipped: every <script src> an HTML page
// loads (but the noModule polyfills). Fails when a page is over the budget (kB, default 300).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';

const OUT = new URL('../out/', import.meta.url).pathname;
const BUDGET = Number(process.env.JS_BUDGET_KB ?? 300) * 1024;

function pages(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === '_next' ? [] : pages(p);
    return name.endsWith('.html') ? [p] : [];
  });
}

let worst = 0;
let failed = false;
for (const page of pages(OUT).sort()) {
  const html = readFileSync(page, 'utf8');
  // modern browsers skip the `noModule` polyfills
  const tags = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]).filter((a) => !/nomodule/i.test(a));
  const scripts = [...new Set(tags.map((a) => /src="([^"]+)"/.exec(a)?.[1]).filter(Boolean))];
  let raw = 0;
  let gz = 0;
  for (const src of scripts) {
    const body = readFileSync(join(OUT, src.replace(/^\//, '')));
    raw += body.length;
    gz += gzipSync(body, { level: 9 }).length;
  }
  worst = Math.max(worst, gz);
  if (gz > BUDGET) failed = true;
  console.log(`${relative(OUT, page).padEnd(28)} ${String(scripts.length).padStart(2)} scripts  ${(raw / 1024).toFixed(1).padStart(7)} kB  ${(gz / 1024).toFixed(1).padStart(6)} kB gzipped`);
}
console.log(`largest first load: ${(worst / 1024).toFixed(1)} kB gzipped (budget ${BUDGET / 1024} kB)`);
if (failed) process.exit(1);
