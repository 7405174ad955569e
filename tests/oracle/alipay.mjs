// Independent Alipay oracle: node built-ins only (node:crypto, URLSearchParams).
// Reads {"cases":[{op, ...}]} on stdin, prints {"results":[...]} in the same order.
import crypto from 'node:crypto';

const ALG = { RSA2: 'RSA-SHA256', RSA: 'RSA-SHA1' };

// Canonical string computed here, independently of the Rust code.
function canonical(params, exclude) {
  return Object.keys(params)
    .filter((k) => !exclude.includes(k) && params[k] !== '')
    .sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : Buffer.from(a) > Buffer.from(b) ? 1 : 0))
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

function verify(alg, message, signatureB64, publicKey) {
  return crypto.verify(alg, Buffer.from(message, 'utf8'), publicKey, Buffer.from(signatureB64, 'base64'));
}

function sign(alg, message, privateKey) {
  return crypto.sign(alg, Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

function beijing(secs) {
  const d = new Date((secs + 8 * 3600) * 1000);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function certSn(cert) {
  // X509Certificate.issuer lists attributes one per line in DER order (C, O, OU, CN).
  const dn = cert.issuer.split('\n').reverse().join(',');
  const serial = BigInt('0x' + cert.serialNumber).toString(10);
  return crypto.createHash('md5').update(dn + serial, 'utf8').digest('hex');
}

function splitPem(text) {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) || [];
}

const ops = {
  // Verify a param map's signature: canonical string computed here.
  verify_params(c) {
    const exclude = c.exclude || ['sign'];
    return verify(ALG[c.sign_type], canonical(c.params, exclude), c.sign, c.public_key);
  },
  canonical(c) {
    return canonical(c.params, c.exclude || ['sign']);
  },
  sign_text(c) {
    return sign(ALG[c.sign_type || 'RSA2'], c.text, c.private_key);
  },
  verify_text(c) {
    return verify(ALG[c.sign_type || 'RSA2'], c.text, c.sign, c.public_key);
  },
  // Sign a param map (canonical string here) and return a form body encoded by URLSearchParams.
  sign_form(c) {
    const params = { ...c.params };
    const s = sign(ALG[c.sign_type], canonical(params, c.exclude || ['sign', 'sign_type']), c.private_key);
    params.sign = s;
    return new URLSearchParams(params).toString();
  },
  form_encode(c) {
    return new URLSearchParams(c.params).toString();
  },
  // Decode an orderString / query with URLSearchParams; check its signature.
  parse_query(c) {
    const q = new URLSearchParams(c.query);
    const params = {};
    let dup = false;
    for (const [k, v] of q) {
      if (k in params) dup = true;
      params[k] = v;
    }
    const ok = verify(ALG[params.sign_type || 'RSA2'], canonical(params, ['sign']), params.sign || '', c.public_key);
    return { params, dup, verified: ok, keys: [...q.keys()] };
  },
  beijing(c) {
    return c.secs.map(beijing);
  },
  cert_sn(c) {
    return certSn(new crypto.X509Certificate(splitPem(c.pem)[0]));
  },
  root_cert_sn(c) {
    return splitPem(c.pem)
      .map((p) => new crypto.X509Certificate(p))
      .filter((x) => {
        // signature algorithm is not exposed; recognise RSA-signed members by
        // checking the issuer's signature with the RSA key of the same cert (self-signed roots).
        const k = x.publicKey;
        return k.asymmetricKeyType === 'rsa' && x.verify(k);
      })
      .map(certSn)
      .join('_');
  },
  aes_encrypt(c) {
    const cipher = crypto.createCipheriv('aes-128-cbc', Buffer.from(c.key, 'base64'), Buffer.alloc(16));
    return Buffer.concat([cipher.update(c.text, 'utf8'), cipher.final()]).toString('base64');
  },
  aes_decrypt(c) {
    const d = crypto.createDecipheriv('aes-128-cbc', Buffer.from(c.key, 'base64'), Buffer.alloc(16));
    return Buffer.concat([d.update(Buffer.from(c.ct, 'base64')), d.final()]).toString('utf8');
  },
  // Verify a v3 Authorization header like the gateway would: parse it, rebuild the message.
  v3_check(c) {
    const prefix = 'ALIPAY-SHA256withRSA ';
    if (!c.authorization.startsWith(prefix)) return { ok: false, why: 'scheme' };
    const rest = c.authorization.slice(prefix.length);
    const at = rest.lastIndexOf(',sign=');
    const authString = rest.slice(0, at);
    const signature = rest.slice(at + ',sign='.length);
    const fields = Object.fromEntries(authString.split(',').map((kv) => kv.split('=')));
    let message = `${authString}\n${c.method}\n${c.uri}\n${c.body}\n`;
    if (c.app_auth_token) message += `${c.app_auth_token}\n`;
    return { ok: verify('RSA-SHA256', message, signature, c.public_key), fields, keys: Object.keys(fields) };
  },
  v3_response_sign(c) {
    const msg = Buffer.concat([Buffer.from(`${c.timestamp}\n${c.nonce}\n`), Buffer.from(c.body_b64, 'base64'), Buffer.from('\n')]);
    return crypto.sign('RSA-SHA256', msg, c.private_key).toString('base64');
  },
};

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const { cases } = JSON.parse(input);
  const results = cases.map((c) => {
    const f = ops[c.op];
    if (!f) throw new Error(`unknown op ${c.op}`);
    return f(c);
  });
  process.stdout.write(JSON.stringify({ results }));
});
