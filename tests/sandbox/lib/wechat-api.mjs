// WeChat API (api.weixin.qq.com) and OAuth (open.weixin.qq.com): access_token, jsapi_ticket, web OAuth
// codes, mini-program jscode2session. Every fetch is counted; daily quotas end in errcode 45009.
import crypto from 'node:crypto';
import { nonce, sendJson } from './util.mjs';

const TTL_S = 7200;
const OLD_TOKEN_GRACE_S = 300; // a replaced access_token stays valid this long
const CODE_TTL_S = 300; // OAuth and js codes live 5 minutes and are single-use

export const DEFAULT_QUOTA = { token: 2000, ticket: 100000, oauth: 100000, jscode2session: 100000 };

function rid() {
  return `${crypto.randomBytes(4).toString('hex')}-${crypto.randomBytes(4).toString('hex')}-${crypto.randomBytes(4).toString('hex')}`;
}
const e = (errcode, msg) => ({ errcode, errmsg: `${msg} rid: ${rid()}` });

export function wechatApiRoutes(ctx) {
  const { state } = ctx;
  const cfg = () => ctx.config.wechat;
  const nowS = () => Math.floor(ctx.now() / 1000);
  const day = () => new Date(ctx.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);

  /** Take one call from the daily quota; false when it is exhausted. */
  function takeQuota(name) {
    const q = (state.quota[name] ||= { limit: ctx.config.quota?.[name] ?? DEFAULT_QUOTA[name], used: 0, day: day() });
    if (q.day !== day()) Object.assign(q, { used: 0, day: day() });
    if (q.used >= q.limit) return false;
    q.used++;
    return true;
  }

  function appSecretOf(appid) {
    if (appid === cfg().appid) return cfg().app_secret;
    if (appid === cfg().miniprogram_appid) return cfg().miniprogram_secret;
    return null;
  }
  function checkApp(q) {
    if (!q.get('appid')) return e(41002, 'appid missing');
    const secret = appSecretOf(q.get('appid'));
    if (secret === null) return e(40013, 'invalid appid');
    if (!q.get('secret')) return e(41004, 'appsecret missing');
    if (q.get('secret') !== secret) return e(40125, 'invalid appsecret');
    return null;
  }

  function tokenValid(tok) {
    const t = state.tokens.get(tok);
    if (!t) return [false, e(40001, 'invalid credential, access_token is invalid or not latest')];
    if (t.expires_at <= nowS()) return [false, e(42001, 'access_token expired')];
    return [true, t];
  }

  const routes = {};

  routes['/cgi-bin/token'] = (req, res, q) => {
    state.count('wechat.api.token_requests');
    if (q.get('grant_type') !== 'client_credential') return sendJson(res, 200, e(40002, 'invalid grant_type'));
    const bad = checkApp(q);
    if (bad) return sendJson(res, 200, bad);
    if (!takeQuota('token')) return sendJson(res, 200, e(45009, 'reach max api daily quota limit'));
    state.count('wechat.api.token_fetches');
    const appid = q.get('appid');
    const t = nowS();
    // The previous token of this app keeps working for five more minutes.
    for (const [k, v] of state.tokens) if (v.appid === appid && v.latest) {
      v.latest = false;
      v.expires_at = Math.min(v.expires_at, t + OLD_TOKEN_GRACE_S);
      void k;
    }
    const token = `SBX_${crypto.randomBytes(48).toString('base64url')}`;
    state.tokens.set(token, { appid, expires_at: t + TTL_S, latest: true, issued_at: t });
    state.changed();
    sendJson(res, 200, { access_token: token, expires_in: TTL_S });
  };

  routes['/cgi-bin/ticket/getticket'] = (req, res, q) => {
    state.count('wechat.api.ticket_requests');
    const [ok, t] = tokenValid(q.get('access_token'));
    if (!ok) return sendJson(res, 200, t);
    if (q.get('type') !== 'jsapi' && q.get('type') !== 'wx_card') return sendJson(res, 200, e(40097, 'invalid args'));
    if (!takeQuota('ticket')) return sendJson(res, 200, e(45009, 'reach max api daily quota limit'));
    state.count('wechat.api.ticket_fetches');
    const ticket = `sbx${crypto.randomBytes(40).toString('base64url')}`;
    state.tickets.set(ticket, { appid: t.appid, type: q.get('type'), expires_at: nowS() + TTL_S });
    state.changed();
    sendJson(res, 200, { errcode: 0, errmsg: 'ok', ticket, expires_in: TTL_S });
  };

  /** open.weixin.qq.com authorize: in WeChat the user agrees (snsapi_base is silent); here it redirects at once. */
  routes['/connect/oauth2/authorize'] = (req, res, q) => {
    state.count('wechat.oauth.authorize');
    const appid = q.get('appid');
    const redirect = q.get('redirect_uri');
    const scope = q.get('scope');
    const bad = (msg) => {
      res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><meta charset="utf-8"><title>微信授权</title><p>${msg}</p>`);
    };
    if (appSecretOf(appid) === null) return bad('参数错误: appid');
    if (q.get('response_type') !== 'code') return bad('参数错误: response_type');
    if (scope !== 'snsapi_base' && scope !== 'snsapi_userinfo') return bad('scope参数错误或没有scope权限');
    let u;
    try {
      u = new URL(redirect);
    } catch {
      return bad('redirect_uri参数错误');
    }
    const allowed = cfg().oauth_domains;
    if (Array.isArray(allowed) && allowed.length && !allowed.includes(u.host)) return bad('redirect_uri域名与后台配置不一致');
    const code = `0${nonce(31)}`;
    state.codes.set(code, { kind: 'oauth', appid, scope, openid: q.get('openid') || cfg().payer_openid, expires_at: nowS() + CODE_TTL_S, used: false });
    state.changed();
    u.searchParams.set('code', code);
    u.searchParams.set('state', q.get('state') ?? '');
    res.writeHead(302, { Location: u.toString(), 'Content-Length': 0 });
    res.end();
  };

  function takeCode(kind, code, appid) {
    const c = state.codes.get(code || '');
    if (!c || c.kind !== kind || c.appid !== appid) return [null, e(40029, 'invalid code')];
    if (c.used) return [null, e(40163, 'code been used')];
    if (c.expires_at <= nowS()) return [null, e(40029, 'invalid code')];
    c.used = true;
    state.changed();
    return [c, null];
  }

  routes['/sns/oauth2/access_token'] = (req, res, q) => {
    state.count('wechat.oauth.access_token');
    if (q.get('grant_type') !== 'authorization_code') return sendJson(res, 200, e(40002, 'invalid grant_type'));
    const bad = checkApp(q);
    if (bad) return sendJson(res, 200, bad);
    if (!takeQuota('oauth')) return sendJson(res, 200, e(45009, 'reach max api daily quota limit'));
    const [c, err] = takeCode('oauth', q.get('code'), q.get('appid'));
    if (err) return sendJson(res, 200, err);
    sendJson(res, 200, {
      access_token: `SBXWEB_${crypto.randomBytes(32).toString('base64url')}`, expires_in: TTL_S,
      refresh_token: `SBXREF_${crypto.randomBytes(32).toString('base64url')}`, openid: c.openid, scope: c.scope,
      is_snapshotuser: 0,
    });
  };

  routes['/sns/jscode2session'] = (req, res, q) => {
    state.count('wechat.mini.jscode2session');
    if (q.get('grant_type') !== 'authorization_code') return sendJson(res, 200, e(40002, 'invalid grant_type'));
    const bad = checkApp(q);
    if (bad) return sendJson(res, 200, bad);
    if (!takeQuota('jscode2session')) return sendJson(res, 200, e(45009, 'reach max api daily quota limit'));
    const [c, err] = takeCode('jscode', q.get('js_code'), q.get('appid'));
    if (err) return sendJson(res, 200, err);
    sendJson(res, 200, { session_key: crypto.randomBytes(16).toString('base64'), openid: c.openid });
  };

  /** Control helper: what `wx.login()` would hand the mini program. */
  function issueJsCode({ appid = cfg().miniprogram_appid, openid = cfg().payer_openid } = {}) {
    const code = `0${nonce(31)}`;
    state.codes.set(code, { kind: 'jscode', appid, openid, expires_at: nowS() + CODE_TTL_S, used: false });
    state.changed();
    return code;
  }

  return { routes, issueJsCode, takeQuota };
}
