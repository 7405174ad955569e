// Key material: RSA key pairs (node:crypto), self-signed platform certificates (node-forge),
// WeChat Pay public-key ids, and the merchant test credentials that are generated when absent.
import crypto from 'node:crypto';
import forge from 'node-forge';
import { digits, nonce } from './util.mjs';

export function generateRsa(bits = 2048) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }),
  };
}

/** Accept PEM (PKCS#1/PKCS#8/SPKI/certificate) or a bare base64 line; return a KeyObject. */
export function loadPublicKey(text) {
  const t = String(text).trim();
  if (t.includes('BEGIN CERTIFICATE')) return new crypto.X509Certificate(t).publicKey;
  if (t.startsWith('-----')) return crypto.createPublicKey(t);
  const der = Buffer.from(t.replace(/\s+/g, ''), 'base64');
  try {
    return crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    return crypto.createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
  }
}
export function loadPrivateKey(text) {
  const t = String(text).trim();
  if (t.startsWith('-----')) return crypto.createPrivateKey(t);
  const der = Buffer.from(t.replace(/\s+/g, ''), 'base64');
  try {
    return crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    return crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs1' });
  }
}
export function publicPemOf(privatePem) {
  return crypto.createPublicKey(loadPrivateKey(privatePem)).export({ type: 'spki', format: 'pem' });
}

/** 40 hex digits, upper case, first byte below 0x80 so the DER integer stays positive. */
export function randomSerialHex() {
  const b = crypto.randomBytes(20);
  b[0] = (b[0] & 0x7f) | 0x10;
  return b.toString('hex').toUpperCase();
}

/**
 * A self-signed "platform certificate" for the given key pair, shaped like WeChat Pay's (Tenpay.com
 * subject, 5 years validity). Returns { pem, serial } with the serial as upper-case hex.
 */
export function makePlatformCertificate({ privateKey, publicKey, mchid, notBefore = new Date() }) {
  const cert = forge.pki.createCertificate();
  const serial = randomSerialHex();
  cert.serialNumber = serial.toLowerCase();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.validity.notBefore = new Date(notBefore.getTime() - 60_000);
  cert.validity.notAfter = new Date(notBefore.getTime() + 5 * 365 * 24 * 3600 * 1000);
  const subject = [
    { name: 'countryName', value: 'CN' },
    { name: 'organizationName', value: 'Tenpay.com' },
    { name: 'organizationalUnitName', value: 'Tenpay.com CA Center (sandbox)' },
    { name: 'commonName', value: `Tenpay.com sign ${mchid}` },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, keyEncipherment: true },
  ]);
  const pkcs1 = crypto.createPrivateKey(privateKey).export({ type: 'pkcs1', format: 'pem' });
  cert.sign(forge.pki.privateKeyFromPem(pkcs1), forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  // Cross-check with node:crypto so a forge quirk cannot slip through.
  const x = new crypto.X509Certificate(pem);
  if (x.serialNumber.toUpperCase() !== serial) throw new Error(`certificate serial mismatch ${x.serialNumber} vs ${serial}`);
  return { pem, serial, notBefore: x.validFrom, notAfter: x.validTo };
}

const ALIPAY_ROOT_SUBJECT = [
  { name: 'countryName', value: 'CN' },
  { name: 'organizationName', value: 'Ant Financial (sandbox)' },
  { name: 'organizationalUnitName', value: 'Certification Authority' },
  { name: 'commonName', value: 'Ant Financial Certification Authority Class 1 R1 (sandbox)' },
];

/** A leaf subject as Alipay's CA writes them (the Alipay certificate keeps it across rotations). */
export function alipayLeafSubject(cn) {
  return [
    { name: 'countryName', value: 'CN' },
    { name: 'organizationName', value: 'Alipay sandbox' },
    { name: 'organizationalUnitName', value: 'Alipay' },
    { name: 'commonName', value: cn },
  ];
}

/** A certificate for `public_key` issued by the test root (`root_private_key`, PEM). */
export function issueAlipayCert({ root_private_key, public_key, subject, ca = false, years = 5 }) {
  const rootKey = forge.pki.privateKeyFromPem(crypto.createPrivateKey(root_private_key).export({ type: 'pkcs1', format: 'pem' }));
  const cert = forge.pki.createCertificate();
  cert.serialNumber = randomSerialHex().toLowerCase();
  cert.publicKey = forge.pki.publicKeyFromPem(public_key);
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + years * 365 * 24 * 3600 * 1000);
  cert.setSubject(subject);
  cert.setIssuer(ALIPAY_ROOT_SUBJECT);
  cert.setExtensions(ca
    ? [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }]
    : [{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true, nonRepudiation: true }]);
  cert.sign(rootKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/**
 * Alipay public-key certificate mode (公钥证书模式): a test root CA, and certificates it issues for the
 * Alipay public key (alipayCertPublicKey_RSA2.crt) and the app public key (appCertPublicKey.crt).
 * Returns PEM { root_cert, root_private_key, alipay_cert, app_cert } (the root key issues the next
 * Alipay certificate when the emulator rotates it).
 */
export function makeAlipayCertChain({ app_id, app_public_key, alipay_public_key }) {
  const root = generateRsa();
  const issue = (public_key, subject, ca, years) => issueAlipayCert({ root_private_key: root.privateKey, public_key, subject, ca, years });
  return {
    root_cert: issue(root.publicKey, ALIPAY_ROOT_SUBJECT, true, 20),
    root_private_key: root.privateKey,
    alipay_cert: issue(alipay_public_key, alipayLeafSubject(`Alipay public key ${app_id}`), false, 5),
    app_cert: issue(app_public_key, alipayLeafSubject(app_id), false, 5),
  };
}

/**
 * The SN Alipay gives a certificate (app_cert_sn, alipay_cert_sn): MD5 hex of the issuer DN in
 * reverse order ("CN=…,OU=…,O=…,C=…") followed by the decimal serial number.
 */
export function alipayCertSn(pem) {
  const x = new crypto.X509Certificate(pem);
  const dn = x.issuer.split('\n').reverse().join(',');
  return crypto.createHash('md5').update(dn + BigInt('0x' + x.serialNumber).toString(10), 'utf8').digest('hex');
}

/** alipay_root_cert_sn of a root bundle: the SNs of its RSA-signed certificates, joined by "_". */
export function alipayRootCertSn(bundle) {
  const pems = String(bundle).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) || [];
  return pems.filter((p) => {
    // The signature algorithm is not exposed by node:crypto; forge parses RSA-signed certificates only.
    try { forge.pki.certificateFromPem(p); return true; } catch { return false; }
  }).map(alipayCertSn).join('_');
}

export function newPublicKeyId() {
  return `PUB_KEY_ID_01${digits(26)}`;
}

/** A new platform signing key for the given mode: { serial, privateKey, publicKey, certificate? }. */
export function newPlatformKey(mode, mchid) {
  const kp = generateRsa();
  const entry = { mode, privateKey: kp.privateKey, publicKey: kp.publicKey, created_at: Date.now() };
  if (mode === 'pubkey') {
    entry.serial = newPublicKeyId();
  } else {
    const cert = makePlatformCertificate({ ...kp, mchid });
    entry.serial = cert.serial;
    entry.certificate = cert.pem;
    entry.effective_time = cert.notBefore;
    entry.expire_time = cert.notAfter;
  }
  return entry;
}

/**
 * Fill in every credential the config lacks with a fresh test value. Returns the completed config.
 * Never real credentials: everything made here exists only for this emulator.
 */
export function completeConfig(cfg = {}) {
  const c = structuredClone(cfg);
  c.wechat ??= {};
  const w = c.wechat;
  w.appid ??= 'wx' + crypto.randomBytes(8).toString('hex');
  w.mch_id ??= '19' + digits(8);
  w.api_key ??= nonce(32); // v2 key: 32 chars
  w.apiv3_key ??= nonce(32); // exactly 32 ASCII bytes
  if (Buffer.byteLength(w.apiv3_key, 'utf8') !== 32) throw new Error('wechat.apiv3_key must be 32 bytes');
  w.app_secret ??= crypto.randomBytes(16).toString('hex');
  w.miniprogram_appid ??= w.appid;
  w.miniprogram_secret ??= w.app_secret;
  if (!w.merchant_public_key) {
    const kp = generateRsa();
    w.merchant_private_key = kp.privateKey; // for test clients only; the emulator never signs with it
    w.merchant_public_key = kp.publicKey;
  }
  w.merchant_serial ??= randomSerialHex();
  w.payer_openid ??= 'oSBX' + nonce(24);
  c.alipay ??= {};
  const a = c.alipay;
  a.app_id ??= '2021' + digits(12);
  a.seller_id ??= '2088' + digits(12);
  a.buyer_id ??= '2088' + digits(12);
  a.buyer_logon_id ??= 'sbx***@sandbox.example';
  // The content-encryption key (console: 接口内容加密方式 → AES): requests with encrypt_type=AES.
  a.aes_key ??= crypto.randomBytes(16).toString('base64');
  if (!a.app_public_key) {
    const kp = generateRsa();
    a.app_private_key = kp.privateKey; // for test clients only
    a.app_public_key = kp.publicKey;
  }
  if (!a.alipay_private_key) {
    const kp = generateRsa();
    a.alipay_private_key = kp.privateKey; // the emulator's own signing key
    a.alipay_public_key = kp.publicKey;
  } else a.alipay_public_key ??= publicPemOf(a.alipay_private_key);
  // Keys may come as PEM (PKCS#1, PKCS#8, SPKI, certificate) or a bare base64 line: keep PEM inside.
  const pub = (k) => loadPublicKey(k).export({ type: 'spki', format: 'pem' });
  const priv = (k) => loadPrivateKey(k).export({ type: 'pkcs8', format: 'pem' });
  w.merchant_public_key = pub(w.merchant_public_key);
  if (w.merchant_private_key) w.merchant_private_key = priv(w.merchant_private_key);
  a.app_public_key = pub(a.app_public_key);
  if (a.app_private_key) a.app_private_key = priv(a.app_private_key);
  a.alipay_private_key = priv(a.alipay_private_key);
  a.alipay_public_key = pub(a.alipay_public_key);
  // Certificate mode: requests carrying app_cert_sn are checked against these (see alipay.mjs).
  if (!a.root_cert || !a.alipay_cert || !a.app_cert) Object.assign(a, makeAlipayCertChain(a));
  return c;
}
