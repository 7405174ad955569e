// The package loads exactly as pkg/README.md shows: the README's Node example run as a
// plain ESM script that imports 'edgepay' by name, and its browser example served as a
// <script type=module> page in headless Chromium (playwright-core, Debian's chromium).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');

function block(heading, lang) {
  const at = readme.indexOf(heading);
  assert.ok(at >= 0, `README has ${heading}`);
  const m = readme.slice(at).match(new RegExp('```' + lang + '\\n([\\s\\S]*?)```'));
  assert.ok(m, `README ${heading} has a ${lang} block`);
  return m[1];
}

test("README's Node example runs as a plain ESM script importing 'edgepay'", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgepay-load-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(pkgDir, join(dir, 'node_modules', 'edgepay'), 'dir');
    writeFileSync(join(dir, 'example.mjs'), block('### Node (ESM)', 'js'));
    const { stdout } = await promisify(execFile)(process.execPath, ['example.mjs'], { cwd: dir });
    // WeChat Pay v2 signature rules, official example
    assert.deepEqual(stdout.trim().split('\n'), ['9A0A8659F005D6984697E2CA0A9CF3B7', 'MD5']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

test("README's browser example works as <script type=module> in headless Chromium", { skip: !existsSync('/usr/bin/chromium') && 'no /usr/bin/chromium' }, async () => {
  const { chromium } = await import('playwright-core');
  const page = `<!doctype html><html><head><meta charset="utf-8"></head><body>\n${block('### Browser', 'html')}</body></html>`;
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      return;
    }
    if (url.pathname.startsWith('/edgepay/')) {
      const file = normalize(join(pkgDir, url.pathname.slice('/edgepay/'.length)));
      if (file.startsWith(pkgDir) && existsSync(file)) {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
        return;
      }
    }
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const tab = await browser.newPage();
    const errors = [];
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(`http://127.0.0.1:${server.address().port}/`);
    await tab.waitForFunction(() => document.body.dataset.signature, null, { timeout: 15000 }).catch(() => {});
    assert.deepEqual(errors, []);
    // WeChat JS-SDK doc, appendix 1
    assert.equal(await tab.evaluate(() => document.body.dataset.signature), '0f9de62fce790f9a083d5c99e95740ceb90c27ed');
    // RSA through the browser's WebCrypto, against the wechatpay-go vector
    const v = JSON.parse(readFileSync(new URL('../../../shared/vectors/wechat.json', import.meta.url), 'utf8')).v3_rsa_sign;
    const key = readFileSync(new URL('../../../shared/vectors/wechatpay-go-test-key.pem', import.meta.url), 'utf8');
    const got = await tab.evaluate(async ([m, k]) => {
      const e = await import('/edgepay/index.js');
      const web = await e.v3Sign(m, k);
      e.setBackend('wasm');
      const pure = await e.v3Sign(m, k);
      return [e.getBackend(), web, pure];
    }, [v.message, key]);
    assert.deepEqual(got, ['wasm', v.signature, v.signature]);
  } finally {
    await browser.close();
    server.close();
  }
});
