// Types for `edgepay/bridge`: browser helpers for H5 pages (no secrets, no wasm).

/** Codes carried by every Error this module throws or rejects with. */
export type BridgeErrorCode =
  | 'invalid_param'
  | 'key_material'
  | 'bridge_unavailable'
  | 'bridge_timeout'
  | 'payment_failed'
  | 'status_timeout'
  | 'status_http'
  | 'aborted';

/** The shape of the Errors thrown by this module (they are plain `Error` instances). */
export interface BridgeError extends Error {
  code: BridgeErrorCode;
  /** The parameter at fault (`invalid_param`, `key_material`; a dotted path for nested keys). */
  field?: string;
  /** WeChat's `err_msg` / `errMsg`, e.g. `get_brand_wcpay_request:fail` (`payment_failed`). */
  errMsg?: string;
  /** WeChat's `err_desc`, when the client gave one. */
  errDesc?: string;
  /** Alipay's `resultCode`, as a string (`payment_failed` from `alipayTradePay`). */
  resultCode?: string;
  /** Alipay's `memo`. */
  memo?: string;
  /** Order status (`payment_failed` from `waitForPaid`) or HTTP status (`status_http`). */
  status?: string | number;
  /** The order body that carried a terminal status (`payment_failed` from `waitForPaid`). */
  body?: unknown;
  /** What the last poll saw (`status_timeout`), e.g. `"status NOTPAY"` or `"HTTP 502"`. */
  last?: string;
}

export type WechatSignType = 'MD5' | 'HMAC-SHA256' | 'RSA';

/** The six JSAPI fields exactly as your server produced and signed them. All strings. */
export interface JsapiPayParams {
  appId: string;
  /** Unix time in **seconds**, 10 decimal digits (milliseconds are refused). */
  timeStamp: string;
  /** At most 32 characters. */
  nonceStr: string;
  /** `prepay_id=<id>` */
  package: string;
  signType: WechatSignType;
  paySign: string;
}

/** `wx.chooseWXPay` parameters: either spelling of the timestamp is accepted; `appId` is ignored. */
export type ChooseWXPayParams = Omit<JsapiPayParams, 'appId' | 'timeStamp'> & { appId?: string } & (
    | { timestamp: string; timeStamp?: string }
    | { timeStamp: string; timestamp?: string }
  );

/** `wx.requestPayment` parameters (`appId` is part of paySign but is not passed; it is ignored here). */
export type MiniProgramPayParams = Omit<JsapiPayParams, 'appId'> & { appId?: string };

export interface BridgeWaitOptions {
  /**
   * How long to wait for `WeixinJSBridgeReady` / `AlipayJSBridgeReady` when the bridge object is not
   * defined yet, in ms. Default 10000; `0` or `Infinity` waits forever. Rejects with `bridge_timeout`.
   */
  timeout?: number;
}

/** `'ok'`: the client says paid (confirm with {@link waitForPaid}); `'cancel'`: the user closed it. */
export type WechatPayResult = 'ok' | 'cancel';

/**
 * WeChat JSAPI inside WeChat's browser: `WeixinJSBridge.invoke('getBrandWCPayRequest', …)`, after
 * waiting for `WeixinJSBridgeReady` when needed. Rejects with `code: 'payment_failed'` and the
 * `err_msg` for `get_brand_wcpay_request:fail…`. Never proof of payment.
 */
export function requestPayment(payParams: JsapiPayParams, options?: BridgeWaitOptions): Promise<WechatPayResult>;

/** WeChat JS-SDK `wx.chooseWXPay` (call `wx.config` first). Same contract as {@link requestPayment}. */
export function chooseWXPay(payParams: ChooseWXPayParams): Promise<WechatPayResult>;

/** WeChat mini program `wx.requestPayment`; `requestPayment:fail cancel` resolves `'cancel'`. */
export function requestPaymentMiniProgram(payParams: MiniProgramPayParams): Promise<WechatPayResult>;

/** Exactly one of `orderStr` or `tradeNO`. */
export type AlipayTradePayParams = { orderStr: string; tradeNO?: never } | { tradeNO: string; orderStr?: never };

/**
 * `'ok'` (resultCode 9000), `'cancel'` (6001), `'pending'` (8000 processing, 6004 unknown: may have
 * succeeded — poll your server).
 */
export type AlipayPayResult = 'ok' | 'cancel' | 'pending';

/**
 * Alipay H5 inside the Alipay app: `AlipayJSBridge.call('tradePay', …)`, after waiting for
 * `AlipayJSBridgeReady` when needed. Other result codes (4000 failed, 6002 network, 99, …) reject
 * with `code: 'payment_failed'`, `resultCode` and `memo`.
 */
export function alipayTradePay(payParams: AlipayTradePayParams, options?: BridgeWaitOptions): Promise<AlipayPayResult>;

export interface WaitForPaidOptions<T = OrderStatusBody> {
  /** Pause between polls in ms. Default 1500. */
  interval?: number;
  /** Give up after this many ms with `status_timeout`. Default 120000. */
  timeout?: number;
  /** A fetch implementation. Default `globalThis.fetch`. It must honour `init.signal`. */
  fetch?: (input: string | URL, init: RequestInit) => Promise<Response>;
  /** Decide whether a body means "paid". Default: `body.status === 'SUCCESS'`. */
  isPaid?: (body: T) => boolean;
  /** Stop polling; rejects with `code: 'aborted'`. */
  signal?: AbortSignal;
}

/** The gateway's order status body (`GET /v1/orders/{out_trade_no}`), as relayed by your server. */
export interface OrderStatusBody {
  status: 'NOTPAY' | 'USERPAYING' | 'SUCCESS' | 'CLOSED' | 'REFUND' | 'PAYERROR' | 'REVOKED' | (string & {});
  [field: string]: unknown;
}

/**
 * Poll `statusUrl` (GET, `accept: application/json`) until the order is paid (resolves with the
 * body), ends in `CLOSED`, `PAYERROR`, `REVOKED` or `REFUND` (rejects `payment_failed`), or the
 * timeout passes (rejects `status_timeout`). Network errors, 5xx, 408, 429 and non-JSON answers are
 * retried; any other 4xx rejects at once with `status_http`.
 */
export function waitForPaid<T = OrderStatusBody>(statusUrl: string | URL, options?: WaitForPaidOptions<T>): Promise<T>;

/**
 * Throw a `key_material` Error when `value` carries a key or secret: a field (at any depth) named
 * like `key`, `apiKey`, `appkey`, `secret`, `appSecret`, `private_key`, `apiv3_key`, `mch_key`,
 * `session_key`, … (any case, `_`/`-` ignored), or a PEM private key in any string.
 */
export function assertNoKeyMaterial(value: unknown): void;
