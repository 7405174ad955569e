#!/usr/bin/env node
// Sizes that users pay for: the npm package's signing wasm, the Worker bundle (what
// `wrangler deploy --dry-run --outdir` reports and writes), and `edgepay/bridge` (the browser helper).
// gzip sizes are zlib level 9 (within ~1 % of `gzip -9`, which `scripts/build-wasm.sh` prints).
// Needs the builds: scripts/build-wasm.sh (pkg/wasm/) and scripts/build-worker.sh (worker/build/).
// Usage: node scripts/bench-sizes.mjs [--json out.json] [--md out.md]
import { readFileSync, existsSync, mkdtempSync, readdirSync, statSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const sizes = (buf) => ({ raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length });

const rows = [];
function file(name, path, budget) {
  const p = join(ROOT, path);
  if (!existsSync(p)) { rows.push({ name, path, missing: true }); return; }
  rows.push({ name, path, ...sizes(readFileSync(p)), budget });
}

file('signing wasm (npm package)', 'pkg/wasm/edgepay_bg.wasm', { gzip: 120 * 1024, what: 'target ≤ 120 KiB gzipped (scripts/size-budget.mjs)' });
file('wasm-bindgen glue + entry (npm package)', 'pkg/wasm/edgepay.js');
file("pure-Rust RSA fallback wasm (npm package, loaded only for the 'wasm' backend)", 'pkg/wasm-rsa/edgepay_bg.wasm');
file('`edgepay/bridge` (browser helper)', 'pkg/bridge.js', { gzip: 5 * 1024, what: 'budget ≤ 5 KiB gzipped (scripts/size-budget.mjs)' });

// The Worker as wrangler would upload it.
const out = mkdtempSync(join(tmpdir(), 'edgepay-dryrun-'));
let wranglerSays = '';
try {
  const text = execFileSync(join(ROOT, 'node_modules', '.bin', 'wrangler'), ['deploy', '--dry-run', '--outdir', out, '--config', join(ROOT, 'wrangler.toml')], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  wranglerSays = (text.match(/Total Upload:[^\n]*/) || [''])[0].trim();
  let raw = 0;
  const parts = [];
  for (const f of readdirSync(out)) {
    const p = join(out, f);
    if (!statSync(p).isFile() || f.endsWith('.map') || f === 'README.md') continue;
    const b = readFileSync(p);
    raw += b.length;
    parts.push(`${f.replace(/^[0-9a-f]{40}-/, '')} ${kb(b.length)}`);
  }
  const all = Buffer.concat(readdirSync(out).filter((f) => statSync(join(out, f)).isFile() && !f.endsWith('.map') && f !== 'README.md').map((f) => readFileSync(join(out, f))));
  rows.push({ name: 'Worker bundle (`wrangler deploy --dry-run --outdir`)', path: parts.join(' + '), raw, gzip: gzipSync(all, { level: 9 }).length, wrangler: wranglerSays, budget: { gzip: 3 * 1024 * 1024, what: 'free-plan limit 3 MiB after compression' } });
} catch (e) {
  rows.push({ name: 'Worker bundle', path: 'wrangler deploy --dry-run', error: String(e.stderr || e.message).split('\n').slice(-5).join(' ') });
} finally {
  rmSync(out, { recursive: true, force: true });
}

const md = [
  '| artifact | file(s) | raw | gzipped | against |',
  '| --- | --- | ---: | ---: | --- |',
  ...rows.map((r) => (r.missing ? `| ${r.name} | \`${r.path}\` missing (build it first) | | | |`
    : r.error ? `| ${r.name} | ${r.path}: ${r.error} | | | |`
      : `| ${r.name} | ${r.path.includes(' + ') ? r.path : `\`${r.path}\``} | ${kb(r.raw)} | **${kb(r.gzip)}** | ${r.budget ? `${r.budget.what}: ${r.gzip <= r.budget.gzip ? 'met' : '**not met**'}` : ''}${r.wrangler ? `; wrangler: "${r.wrangler}"` : ''} |`)),
].join('\n');
console.log(JSON.stringify(rows));
console.log('\n' + md);
if (arg('json')) writeFileSync(arg('json'), JSON.stringify(rows, null, 2));
if (arg('md')) writeFileSync(arg('md'), md + '\n');
