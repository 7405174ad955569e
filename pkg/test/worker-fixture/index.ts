// A Worker that uses the edgepay npm package the way pkg/README.md's "Cloudflare Workers"
// section shows: the wasm imported as a WebAssembly.Module by its package path, handed to init().
// 'edgepay' resolves to pkg/ through node_modules/edgepay (the test links it in a staged copy).
//
// POST /notify: the README snippet itself (v3Verify on request.headers and the raw body, the
// public key from env.WECHATPAY_PUBLIC_KEY, given by the test with --var); `?now=` replays a
// published notify signed in the past. Failures answer 401 with the error's fields.
// POST / with a JSON body {cases: [{op, backend?, args}]} → {results: [{ok, value} | {ok: false,
// error}]}. Keys and data come from the request (the test reads ../shared/vectors); nothing
// secret lives here. Plain JavaScript: the file is .ts only so that `node --test pkg/test/`
// (which runs every .js under a test/ directory) leaves it alone. setBackend is per isolate:
// the test sends its requests one at a time.
import wasm from 'edgepay/wasm/edgepay_bg.wasm';
// The pure-Rust RSA fallback, for the 'wasm' backend cases: a bundled host passes both parts.
import rsaWasm from 'edgepay/wasm-rsa/edgepay_bg.wasm';
import * as rsaGlue from 'edgepay/wasm-rsa/edgepay.js';
import { init, initRsa, v3Verify } from 'edgepay';
import { EdgepayError, setBackend, getBackend, signV2, verifyV2, v3Sign, v3Decrypt, v3ParseNotify, alipaySign } from 'edgepay';

// Only these are callable: each maps a JSON args object to one package call.
const OPS = {
  signV2: (a) => signV2(a.params, a.key, a.signType),
  verifyV2: (a) => verifyV2(a.params, a.key),
  v3Sign: (a) => v3Sign(a.message, a.privateKey),
  v3Decrypt: (a) => v3Decrypt(a),
  v3ParseNotify: (a) => v3ParseNotify(a),
  alipaySign: (a) => alipaySign(a.params, a.privateKey, a.signType),
};

function describeError(e) {
  return {
    isError: e instanceof Error,
    isEdgepayError: e instanceof EdgepayError,
    name: e?.name,
    code: e?.code,
    field: e?.field,
    verificationFailure: e?.verificationFailure,
    message: String(e?.message ?? e),
  };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/healthz') return new Response('ok');
    if (request.method !== 'POST') return new Response('POST only', { status: 405 });

    if (url.pathname === '/notify') {
      await init(wasm);
      const body = new Uint8Array(await request.arrayBuffer()); // raw bytes: never re-serialise
      const now = url.searchParams.has('now') ? Number(url.searchParams.get('now')) : undefined;
      try {
        await v3Verify({ headers: request.headers, body, publicKey: env.WECHATPAY_PUBLIC_KEY, now });
        return new Response(null, { status: 204 });
      } catch (e) {
        return Response.json(describeError(e), { status: 401 });
      }
    }

    await init(wasm); // README: Wrangler imports .wasm as a WebAssembly.Module
    const { cases } = await request.json();
    const results = [];
    for (const c of cases) {
      try {
        const op = OPS[c.op];
        if (!op) throw new Error(`unknown op ${c.op}`);
        if (c.backend === 'wasm') await initRsa(rsaWasm, rsaGlue);
        setBackend(c.backend ?? 'auto');
        results.push({ ok: true, backend: getBackend(), value: await op(c.args) });
      } catch (e) {
        results.push({ ok: false, backend: getBackend(), error: describeError(e) });
      } finally {
        setBackend('auto');
      }
    }
    return Response.json({
      wasmIsModule: wasm instanceof WebAssembly.Module,
      hasSubtle: typeof globalThis.crypto?.subtle?.sign === 'function',
      results,
    });
  },
};
