// Types for `edgepay` (the signing API). Async functions initialise the wasm module
// themselves; synchronous ones throw EdgepayError `not_initialized` before `await init()`.

/** Flat request parameters: string or number values; `null`/`undefined` count as absent. */
export type Params = Record<string, string | number | null | undefined> | Map<string, string> | URLSearchParams;
/** Decoded parameters (always strings). */
export type StringParams = Record<string, string>;
/** PEM (PKCS#1, PKCS#8, SPKI, X.509 certificate) or bare base64 DER key text. */
export type KeyText = string;
/** Raw bytes, or text that is UTF-8 encoded as is. */
export type Body = string | Uint8Array | ArrayBuffer | ArrayBufferView;
/** Response/notify headers: a plain object, a Map, fetch `Headers`, or `[name, value]` pairs. */
export type HeadersLike = Record<string, string> | Map<string, string> | Headers | Array<[string, string]>;

export type ErrorCode =
  | 'missing_field' | 'invalid_field' | 'malformed' | 'invalid_key' | 'signature_mismatch'
  | 'signature_probe' | 'timestamp_out_of_window' | 'unknown_serial' | 'decrypt_failed'
  | 'upstream_error' | 'order_mismatch' | 'crypto_error' | 'not_initialized';

/** Every failure of this package. */
export class EdgepayError extends Error {
  readonly name: 'EdgepayError';
  /** Stable, machine-readable. */
  readonly code: ErrorCode;
  /** The field at fault, when there is one (wire name, e.g. `sign`, `apiv3_key`, `Wechatpay-Nonce`). */
  readonly field: string | undefined;
  /** True when a signature or envelope is not valid, as opposed to bad input. */
  readonly verificationFailure: boolean;
}

/** Loads the wasm module; idempotent. `source`: a `WebAssembly.Module` (Workers), bytes, a Response or a URL. */
export function init(source?: WebAssembly.Module | BufferSource | Response | URL | string): Promise<void>;
/**
 * Loads the pure-Rust RSA fallback module used by the `'wasm'` backend (async functions
 * load it themselves in Node and browsers). In a bundled host (Cloudflare Worker) pass
 * `import wasm from 'edgepay/wasm-rsa/edgepay_bg.wasm'` and
 * `import * as glue from 'edgepay/wasm-rsa/edgepay.js'`.
 */
export function initRsa(source?: WebAssembly.Module | BufferSource | Response | URL | string, glue?: unknown): Promise<void>;
export function isInitialized(): boolean;
/** `'auto'` (WebCrypto when available), `'webcrypto'` (required) or `'wasm'` (pure Rust, the fallback module) for RSA signing and verification and AES-GCM. */
export function setBackend(name: 'auto' | 'webcrypto' | 'wasm'): void;
export function getBackend(): 'webcrypto' | 'wasm';

// ------------------------------------------------------------------ WeChat Pay v2 (sync)

export type SignTypeV2 = 'MD5' | 'HMAC-SHA256';
/** WeChat Pay v2 signature (upper-case hex). Sync. */
export function signV2(params: Params, key: string, signType?: SignTypeV2): string;
/** Verifies `params.sign`; returns the sign type that matched. Throws on mismatch. Sync. */
export function verifyV2(params: Params, key: string): SignTypeV2;
/** The string that is signed, with the key masked. Sync. */
export function stringToSignV2(params: Params): string;
/** A v2 `<xml>` body. Sync. */
export function toXml(params: Params): string;
/** Parses a v2 XML body. Sync. */
export function fromXml(xml: string): StringParams;
/** Decrypts a v2 refund notify `req_info`. Sync. */
export function decryptRefundReqInfo(reqInfo: string, apiKey: string): StringParams;

// ------------------------------------------------------------------ client parameters

/** `jsapi`: WeixinJSBridge getBrandWCPayRequest; `jssdk`: wx.chooseWXPay; `miniprogram`: wx.requestPayment; `app`: OpenSDK. */
export type PayKind = 'jsapi' | 'jssdk' | 'miniprogram' | 'app';
export interface PayInput {
  appid: string;
  /** The raw prepay id (without `prepay_id=`). */
  prepayId: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** At most 32 characters; default 32 random hex characters. */
  nonce?: string;
  /** The mchid; required for `app`. */
  partnerid?: string;
}
export interface JsapiParams { appId: string; timeStamp: string; nonceStr: string; package: string; signType: string; paySign: string }
export interface JssdkParams { timestamp: string; nonceStr: string; package: string; signType: string; paySign: string }
export interface MiniProgramParams { timeStamp: string; nonceStr: string; package: string; signType: string; paySign: string }
export interface AppParams { appid: string; partnerid: string; prepayid: string; package: 'Sign=WXPay'; noncestr: string; timestamp: string; sign: string }
export type ClientParams<K extends PayKind> =
  K extends 'jsapi' ? JsapiParams : K extends 'jssdk' ? JssdkParams : K extends 'miniprogram' ? MiniProgramParams : AppParams;

/** Client parameters signed with the v2 API key. Sync. */
export function payParamsV2<K extends PayKind>(kind: K, input: PayInput, key: string, signType?: SignTypeV2): ClientParams<K>;
/** Client parameters signed with the v3 merchant private key (`signType: 'RSA'`). Async. */
export function payParamsV3<K extends PayKind>(kind: K, input: PayInput, privateKey: KeyText): Promise<ClientParams<K>>;

// ------------------------------------------------------------------ JS-SDK (sync)

export function jssdkSignature(args: { jsapiTicket: string; nonceStr: string; timestamp: number; url: string }): string;
export function jssdkConfig(args: { appId: string; jsapiTicket: string; nonceStr?: string; timestamp?: number; url: string }): {
  appId: string; timestamp: number; nonceStr: string; signature: string;
};

// ------------------------------------------------------------------ WeChat Pay v3 (async)

/** SHA256withRSA over `message`, base64. Async. */
export function v3Sign(message: string | Uint8Array, privateKey: KeyText): Promise<string>;
/** The `Authorization` header value. `url`: path + query (or full URL) exactly as sent. Async. */
export function v3Authorization(args: {
  mchid: string; serialNo: string; privateKey: KeyText; method: string; url: string;
  /** The exact JSON text sent; '' for GET. */
  body?: string; timestamp?: number; nonce?: string;
}): Promise<string>;
/** Verifies over the raw body; 300 s window; SIGNTEST probes refused. `publicKey`: one key, or `{serial: key}`. Async. */
export function v3Verify(args: { headers: HeadersLike; body: Body; publicKey: KeyText | Record<string, KeyText>; now?: number }): Promise<true>;
/** AEAD_AES_256_GCM resource decryption to text. Async. */
export function v3Decrypt(args: { apiv3Key: string; nonce: string; associatedData?: string; ciphertext: string }): Promise<string>;
export interface V3Notify {
  id: string; createTime: string; eventType: string; resourceType: string; summary: string; originalType: string;
  kind: 'transaction' | 'refund' | 'other';
  /** The decrypted resource (wire field names, e.g. `out_trade_no`, `amount.total`). Check it against your order. */
  resource: any;
  plaintext: string;
}
/** Verifies, decrypts and types a v3 notify. Async. */
export function v3ParseNotify(args: { headers: HeadersLike; body: Body; publicKey: KeyText | Record<string, KeyText>; apiv3Key: string; now?: number }): Promise<V3Notify>;

// ------------------------------------------------------------------ Alipay

export type AlipaySignType = 'RSA2' | 'RSA';
/** Sorted `k=v&…` without `sign` and empty values. Sync. */
export function alipayStringToSign(params: Params): string;
/** The parameters with `sign_type` and `sign` set. Async. */
export function alipaySign(params: Params, privateKey: KeyText, signType?: AlipaySignType): Promise<StringParams>;
/** Signs and returns the URL-encoded `orderString` (APP pay). Async. */
export function alipayOrderString(params: Params, privateKey: KeyText, signType?: AlipaySignType): Promise<string>;
/** Verifies a notify from its raw form body; resolves its parameters. Async. */
export function alipayVerifyNotify(rawBody: Body, publicKey: KeyText, options?: { checkV2?: boolean }): Promise<StringParams>;
/** Verifies a raw gateway response; resolves the business result (rejects `upstream_error` for code ≠ 10000). Async. */
/** `aesKey`: the app's content-encryption key (base64) when the request went with `encrypt_type=AES`: the
 * signature is checked over the encrypted node as sent (quotes included), then the node is decrypted. */
export function alipayVerifyResponse(rawJson: string, publicKey: KeyText, options?: { method?: string; signType?: AlipaySignType; aesKey?: string }): Promise<Record<string, any>>;
/** `app_cert_sn` / `alipay_cert_sn`. Sync. */
export function alipayCertSn(pem: string): string;
/** `alipay_root_cert_sn`. Sync. */
export function alipayRootCertSn(pem: string): string;
/** AES-CBC (zero IV, PKCS#7) content encryption. Sync. */
export function alipayAesEncrypt(keyBase64: string, plaintext: string): string;
export function alipayAesDecrypt(keyBase64: string, ciphertext: string): string;
