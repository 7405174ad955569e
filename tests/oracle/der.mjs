// Independent DER oracle for keys and certificates: node:crypto only (OpenSSL underneath).
// Reads {"keys":[pem…], "public":[pem…], "certs":[pem…]} on stdin; prints
// {"pkcs8":[b64…], "spki":[b64…], "certs":[{serial, notBefore, notAfter, issuer, spki}…]}.
import crypto from 'node:crypto';

const input = JSON.parse(await new Promise((ok) => {
  let s = '';
  process.stdin.on('data', (d) => (s += d)).on('end', () => ok(s));
}));
const b64 = (buf) => Buffer.from(buf).toString('base64');
const seconds = (text) => Math.floor(Date.parse(text) / 1000);

const out = {
  pkcs8: input.keys.map((pem) => b64(crypto.createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' }))),
  spki: input.public.map((pem) => b64(crypto.createPublicKey(pem).export({ type: 'spki', format: 'der' }))),
  certs: input.certs.map((pem) => {
    const c = new crypto.X509Certificate(pem);
    return {
      serial: c.serialNumber.toUpperCase(),
      notBefore: seconds(c.validFrom),
      notAfter: seconds(c.validTo),
      issuer: c.issuer, // "C=CN\nO=…" in DER order
      spki: b64(c.publicKey.export({ type: 'spki', format: 'der' })),
    };
  }),
};
process.stdout.write(JSON.stringify(out));
