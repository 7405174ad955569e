#!/usr/bin/env node
// Prints the gzipped size of pkg/bridge.js and fails when it exceeds the 5 KB budget.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const LIMIT = 5120;
const file = new URL('../pkg/bridge.js', import.meta.url);
const raw = readFileSync(file);
const gz = gzipSync(raw, { level: 9 }).length;
console.log(`edgepay/bridge: ${raw.length} bytes, ${gz} bytes gzipped (limit ${LIMIT})`);
if (gz > LIMIT) {
  console.error(`edgepay/bridge is over budget by ${gz - LIMIT} bytes`);
  process.exit(1);
}
