import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, control } from './helpers.mjs';

let emu;
before(async () => {
  emu = await start();
});
after(async () => {
  await emu.close();
});
const W = () => emu.config.wechat;
const get = (path) => fetch(emu.url + path, { redirect: 'manual' });
const json = (path) => get(path).then((r) => r.json());
const tokenUrl = (secret = W().app_secret) => `/cgi-bin/token?grant_type=client_credential&appid=${W().appid}&secret=${secret}`;

test('access_token: 7200 s, counted; wrong secret 40125, unknown appid 40013', async () => {
  await control(emu, 'POST', '/_sandbox/counters/reset');
  const t = await json(tokenUrl());
  assert.equal(t.expires_in, 7200);
  assert.ok(t.access_token.length > 20);
  assert.equal((await json(tokenUrl('nope'))).errcode, 40125);
  assert.equal((await json(`/cgi-bin/token?grant_type=client_credential&appid=wxnope&secret=x`)).errcode, 40013);
  const c = (await control(emu, 'GET', '/_sandbox/counters')).json;
  assert.equal(c['wechat.api.token_fetches'], 1, 'one successful token fetch');
  assert.equal(c['wechat.api.token_requests'], 3);
});

test('jsapi_ticket needs a valid token; expired token → 42001; a replaced token keeps working briefly', async () => {
  const t1 = (await json(tokenUrl())).access_token;
  const tk = await json(`/cgi-bin/ticket/getticket?access_token=${t1}&type=jsapi`);
  assert.deepEqual([tk.errcode, tk.errmsg, tk.expires_in], [0, 'ok', 7200]);
  assert.ok(tk.ticket);
  assert.equal((await json('/cgi-bin/ticket/getticket?access_token=bogus&type=jsapi')).errcode, 40001);
  const t2 = (await json(tokenUrl())).access_token;
  assert.equal((await json(`/cgi-bin/ticket/getticket?access_token=${t1}&type=jsapi`)).errcode, 0, 'old token valid for 5 more minutes');
  await control(emu, 'POST', '/_sandbox/clock', { advance_seconds: 301 });
  try {
    assert.equal((await json(`/cgi-bin/ticket/getticket?access_token=${t1}&type=jsapi`)).errcode, 42001);
    assert.equal((await json(`/cgi-bin/ticket/getticket?access_token=${t2}&type=jsapi`)).errcode, 0);
    await control(emu, 'POST', '/_sandbox/clock', { advance_seconds: 7200 });
    assert.equal((await json(`/cgi-bin/ticket/getticket?access_token=${t2}&type=jsapi`)).errcode, 42001);
  } finally {
    await control(emu, 'POST', '/_sandbox/clock', { skew_seconds: 0 });
  }
});

test('daily quota exhausted → errcode 45009', async () => {
  await control(emu, 'POST', '/_sandbox/wechat/quota', { token: { limit: 2, used: 0 } });
  assert.ok((await json(tokenUrl())).access_token);
  assert.ok((await json(tokenUrl())).access_token);
  const r = await json(tokenUrl());
  assert.equal(r.errcode, 45009);
  assert.match(r.errmsg, /^reach max api daily quota limit rid: /);
  await control(emu, 'POST', '/_sandbox/wechat/quota', { token: { limit: 2000, used: 0 } });
});

test('OAuth: authorize redirects with code+state; code is single-use (40163) and short-lived (40029)', async () => {
  const redirect = 'https://merchant.example/oauth/cb?x=1';
  const r = await get(`/connect/oauth2/authorize?appid=${W().appid}&redirect_uri=${encodeURIComponent(redirect)}&response_type=code&scope=snsapi_base&state=abc`);
  assert.equal(r.status, 302);
  const loc = new URL(r.headers.get('location'));
  assert.equal(loc.origin + loc.pathname, 'https://merchant.example/oauth/cb');
  assert.equal(loc.searchParams.get('x'), '1');
  assert.equal(loc.searchParams.get('state'), 'abc');
  const code = loc.searchParams.get('code');
  const ex = (c) => json(`/sns/oauth2/access_token?appid=${W().appid}&secret=${W().app_secret}&code=${c}&grant_type=authorization_code`);
  const a = await ex(code);
  assert.equal(a.openid, W().payer_openid);
  assert.equal(a.scope, 'snsapi_base');
  assert.equal((await ex(code)).errcode, 40163);
  assert.equal((await ex('nonsense')).errcode, 40029);
  const r2 = await get(`/connect/oauth2/authorize?appid=${W().appid}&redirect_uri=${encodeURIComponent(redirect)}&response_type=code&scope=snsapi_base&state=s2`);
  const code2 = new URL(r2.headers.get('location')).searchParams.get('code');
  await control(emu, 'POST', '/_sandbox/clock', { advance_seconds: 301 });
  try {
    assert.equal((await ex(code2)).errcode, 40029, 'expired code');
  } finally {
    await control(emu, 'POST', '/_sandbox/clock', { skew_seconds: 0 });
  }
  const bad = await get(`/connect/oauth2/authorize?appid=${W().appid}&redirect_uri=x&response_type=code&scope=snsapi_base`);
  assert.equal(bad.status, 400);
});

test('jscode2session: a code from the control API gives openid + session_key once', async () => {
  const { code } = (await control(emu, 'POST', '/_sandbox/wechat/jscode', {})).json;
  const url = `/sns/jscode2session?appid=${W().miniprogram_appid}&secret=${W().miniprogram_secret}&js_code=${code}&grant_type=authorization_code`;
  const a = await json(url);
  assert.equal(a.openid, W().payer_openid);
  assert.ok(a.session_key);
  assert.equal((await json(url)).errcode, 40163);
  assert.equal((await json(url.replace(code, 'x'))).errcode, 40029);
});
