// The physical anchor for benches/core.rs: the same operations on the same
// inputs with node:crypto (OpenSSL underneath), timed in a loop.
// Prints one JSON object: { "<bench name>": nanoseconds per operation, ... }.
//   node scripts/bench-node-anchor.mjs [seconds-per-op]
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vector = (name) => {
  for (const dir of ['../shared/vectors', 'shared/vectors']) {
    const p = path.join(root, dir, name);
    if (fs.existsSync(p)) return fs.readFileSync(p, 'utf8');
  }
  throw new Error(`vector ${name} not found`);
};
const seconds = Number(process.argv[2] || 2);

const V2_KEY = '192006250b4c09247ec02edce69f6a2d';
const APIV3_KEY = Buffer.from('a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb');
const NOW = 1700000000;

// Same inputs as benches/core.rs.
const order = {
  appid: 'wxd930ea5d5a258f4f', mch_id: '10000100', nonce_str: 'ibuaiVcKdpRxkhJA',
  body: '腾讯充值中心-QQ会员充值', attach: '深圳分店', out_trade_no: '20150806125346', total_fee: '88',
  spbill_create_ip: '123.12.12.123', notify_url: 'https://pay.example.com/notify/wechat',
  trade_type: 'JSAPI', openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', time_expire: '20261122180000',
};
const V3_BODY = '{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}';
const V3_TRANSACTION = '{"transaction_id":"1217752501201407033233368018","amount":{"payer_total":100,"total":100,"currency":"CNY","payer_currency":"CNY"},"mchid":"1230000109","trade_state":"SUCCESS","bank_type":"CMC","success_time":"2018-06-08T10:34:56+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"out_trade_no":"1217752501201407033233368018","appid":"wxd678efh567hg6787","trade_state_desc":"支付成功","trade_type":"JSAPI","attach":"自定义数据"}';
const alipayReq = {
  app_id: '9021000122682882', method: 'alipay.trade.app.pay', format: 'JSON', charset: 'utf-8',
  sign_type: 'RSA2', timestamp: '2026-11-22 18:00:00', version: '1.0',
  notify_url: 'https://pay.example.com/notify/alipay',
  biz_content: '{"out_trade_no":"20150320010101001","total_amount":"88.88","subject":"Iphone6 16G","product_code":"QUICK_MSECURITY_PAY"}',
};

const canonical = (p, exclude = []) => Object.keys(p).filter((k) => p[k] !== '' && !exclude.includes(k))
  .sort().map((k) => `${k}=${p[k]}`).join('&');

const wechatKey = crypto.createPrivateKey(vector('wechatpay-go-test-key.pem'));
const wechatPub = crypto.createPublicKey(wechatKey);
const appKey = crypto.createPrivateKey(vector('yansongda-app-private-key-pkcs1.pem'));
const appPub = crypto.createPublicKey(appKey);

// A realistic notify, as in benches/core.rs.
const nonceGcm = 'fdasflkja484';
const c = crypto.createCipheriv('aes-256-gcm', APIV3_KEY, Buffer.from(nonceGcm));
c.setAAD(Buffer.from('transaction'));
const ct = Buffer.concat([c.update(V3_TRANSACTION), c.final(), c.getAuthTag()]).toString('base64');
const notifyBody = Buffer.from(JSON.stringify({
  id: 'EV-2018022511223320873', create_time: '2015-05-20T13:29:35+08:00', resource_type: 'encrypt-resource',
  event_type: 'TRANSACTION.SUCCESS', summary: '支付成功',
  resource: { algorithm: 'AEAD_AES_256_GCM', ciphertext: ct, nonce: nonceGcm, associated_data: 'transaction', original_type: 'transaction' },
}));
const notifyNonce = '5K8264ILTKCH16CQ2502SI8ZNMTM67VS';
const notifyMsg = (ts, body) => Buffer.concat([Buffer.from(`${ts}\n${notifyNonce}\n`), body, Buffer.from('\n')]);
const notifySig = crypto.sign('sha256', notifyMsg(String(NOW), notifyBody), wechatKey).toString('base64');

const notify = { ...alipayReq };
delete notify.method;
delete notify.sign_type;
notify.sign = crypto.sign('sha256', Buffer.from(canonical(notify)), appKey).toString('base64');
notify.sign_type = 'RSA2';
const notifyForm = new URLSearchParams(Object.entries(notify)).toString();

const ops = {
  v2_sign_md5_12_fields: () => crypto.createHash('md5').update(`${canonical(order, ['sign'])}&key=${V2_KEY}`).digest('hex').toUpperCase(),
  v2_sign_hmac_sha256_12_fields: () => crypto.createHmac('sha256', V2_KEY).update(`${canonical(order, ['sign'])}&key=${V2_KEY}`).digest('hex').toUpperCase(),
  v3_authorization_rsa2048: () => {
    const msg = `POST\n/v3/pay/transactions/jsapi\n${NOW}\n593BEC0C930BF1AFEB40B4A08C8FB242\n${V3_BODY}\n`;
    const sig = crypto.sign('sha256', Buffer.from(msg), wechatKey).toString('base64');
    return `WECHATPAY2-SHA256-RSA2048 mchid="1230000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",timestamp="${NOW}",serial_no="F5765756002FDD77",signature="${sig}"`;
  },
  v3_notify_verify_decrypt: () => {
    if (Math.abs(NOW - NOW) >= 300) throw new Error('window');
    if (!crypto.verify('sha256', notifyMsg(String(NOW), notifyBody), wechatPub, Buffer.from(notifySig, 'base64'))) throw new Error('bad sig');
    const env = JSON.parse(notifyBody);
    const raw = Buffer.from(env.resource.ciphertext, 'base64');
    const d = crypto.createDecipheriv('aes-256-gcm', APIV3_KEY, Buffer.from(env.resource.nonce));
    d.setAAD(Buffer.from(env.resource.associated_data));
    d.setAuthTag(raw.subarray(raw.length - 16));
    const pt = Buffer.concat([d.update(raw.subarray(0, raw.length - 16)), d.final()]).toString('utf8');
    return JSON.parse(pt);
  },
  alipay_rsa2_sign: () => crypto.sign('sha256', Buffer.from(canonical(alipayReq, ['sign'])), appKey).toString('base64'),
  alipay_rsa2_verify_notify: () => {
    const p = Object.fromEntries(new URLSearchParams(notifyForm));
    const ok = crypto.verify('sha256', Buffer.from(canonical(p, ['sign', 'sign_type'])), appPub, Buffer.from(p.sign, 'base64'));
    if (!ok) throw new Error('bad sig');
    return p;
  },
};

const out = {};
for (const [name, fn] of Object.entries(ops)) {
  for (let i = 0; i < 200; i++) fn(); // warm up
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    now = process.hrtime.bigint();
  }
  out[name] = Number(now - start) / n;
}
console.log(JSON.stringify(out));
