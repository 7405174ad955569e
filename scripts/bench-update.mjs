#!/usr/bin/env node
// Refreshes the generated blocks of BENCHMARKS.md from the outputs scripts/bench.sh leaves in
// target/bench/: every `<!-- bench:NAME -->` … `<!-- /bench:NAME -->` block is replaced with a
// "Refreshed" line (date, machine) and target/bench/NAME.md. A block whose file is missing (that
// benchmark did not run) is left as it was. Prose outside the blocks is never touched.
// Usage: node scripts/bench-update.mjs [--dir target/bench] [--file BENCHMARKS.md]
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, d) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : d; };
const dir = join(ROOT, arg('dir', 'target/bench'));
const file = join(ROOT, arg('file', 'BENCHMARKS.md'));

const cpu = os.cpus()[0]?.model?.trim() ?? '?';
const stamp = `_Refreshed by \`scripts/bench.sh\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; machine: ${os.cpus().length} cores (nproc), ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load average at the end ${os.loadavg()[0].toFixed(1)}._`;

let text = readFileSync(file, 'utf8');
const updated = [];
const skipped = [];
text = text.replace(/<!-- bench:([a-z0-9-]+) -->\n[\s\S]*?<!-- \/bench:\1 -->/g, (block, name) => {
  const src = join(dir, `${name}.md`);
  if (!existsSync(src)) { skipped.push(name); return block; }
  updated.push(name);
  return `<!-- bench:${name} -->\n${stamp}\n\n${readFileSync(src, 'utf8').trim()}\n<!-- /bench:${name} -->`;
});
writeFileSync(file, text);
console.log(`BENCHMARKS.md: refreshed ${updated.join(', ') || 'nothing'}${skipped.length ? `; kept (no new output): ${skipped.join(', ')}` : ''}`);
