/*
 * edgepay sandbox bridge: stands in for WeixinJSBridge and AlipayJSBridge in an ordinary browser.
 * Load it from the emulator: <script src="http://127.0.0.1:9100/_sandbox/bridge.js"></script>
 *
 * WeixinJSBridge.invoke('getBrandWCPayRequest', params, cb): the emulator checks the paySign (v2 MD5 /
 * HMAC-SHA256 with the API key, or v3 RSA with the merchant public key) and the prepay_id; a confirm
 * sheet shows the order; Pay marks it paid (the notify follows) and calls back
 * {err_msg:'get_brand_wcpay_request:ok'}; Cancel calls back '…:cancel'; a bad sign '…:fail'.
 * AlipayJSBridge.call('tradePay', {orderStr}, cb): same, with resultCode '9000' / '6001' / '4000'.
 * No secret is in this script: every check runs in the emulator.
 */
(function () {
  'use strict';
  var script = typeof document !== 'undefined' && document.currentScript;
  var ORIGIN = '__SANDBOX_ORIGIN__';
  try {
    if (script && script.src) ORIGIN = new URL(script.src).origin;
  } catch (e) {}

  function post(path, body) {
    return fetch(ORIGIN + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json();
    });
  }

  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text) e.textContent = text;
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }

  /** A small confirm sheet; calls exactly one of onPay / onCancel. */
  function sheet(title, lines, onPay, onCancel) {
    var overlay = el('div', null, {
      id: 'edgepay-sandbox-sheet',
      role: 'dialog',
      style: 'position:fixed;left:0;right:0;bottom:0;top:0;background:rgba(0,0,0,.45);z-index:2147483647;' +
        'display:flex;align-items:flex-end;justify-content:center;font-family:sans-serif',
    });
    var box = el('div', null, { style: 'background:#fff;width:100%;max-width:480px;padding:20px;border-radius:12px 12px 0 0' });
    box.appendChild(el('h3', title, { style: 'margin:0 0 12px' }));
    for (var i = 0; i < lines.length; i++) box.appendChild(el('p', lines[i], { style: 'margin:4px 0' }));
    var pay = el('button', 'Pay', { id: 'edgepay-sandbox-pay', type: 'button', style: 'font-size:16px;padding:8px 24px;margin:12px 12px 0 0' });
    var cancel = el('button', 'Cancel', { id: 'edgepay-sandbox-cancel', type: 'button', style: 'font-size:16px;padding:8px 24px' });
    var done = false;
    function finish(fn) {
      return function () {
        if (done) return;
        done = true;
        if (overlay.parentNode) overlay.parentNode.removeChild(overlay);
        fn();
      };
    }
    pay.onclick = finish(onPay);
    cancel.onclick = finish(onCancel);
    box.appendChild(pay);
    box.appendChild(cancel);
    overlay.appendChild(box);
    document.body.appendChild(overlay);
    return overlay;
  }

  function yuan(fen) {
    return (Number(fen) / 100).toFixed(2);
  }

  function wechatPay(kind, params, cb) {
    var prefix = kind === 'miniprogram' ? 'requestPayment' : kind === 'jssdk' ? 'chooseWXPay' : 'get_brand_wcpay_request';
    var reply = function (r) {
      try {
        cb && cb(r);
      } catch (e) {
        setTimeout(function () { throw e; });
      }
    };
    post('/_sandbox/wechat/client-pay', { kind: kind, params: params, action: 'check' }).then(function (r) {
      if (!r.ok) return reply({ err_msg: prefix + ':fail', err_desc: r.err_desc });
      sheet('微信支付 (sandbox)', [r.order.description || '', '¥' + yuan(r.order.total_fee), r.order.out_trade_no],
        function () {
          post('/_sandbox/wechat/client-pay', { kind: kind, params: params, action: 'pay' }).then(function (p) {
            reply(p.ok ? { err_msg: prefix + ':ok' } : { err_msg: prefix + ':fail', err_desc: p.err_desc });
          });
        },
        function () {
          post('/_sandbox/wechat/client-pay', { kind: kind, params: params, action: 'cancel' }).then(function () {
            reply({ err_msg: prefix + ':cancel' });
          });
        });
    }, function (e) {
      reply({ err_msg: prefix + ':fail', err_desc: String(e) });
    });
  }

  var WeixinJSBridge = {
    invoke: function (name, params, cb) {
      if (name === 'getBrandWCPayRequest') return wechatPay('jsapi', params, cb);
      cb && cb({ err_msg: name + ':fail', err_desc: 'not emulated by the edgepay sandbox' });
    },
    call: function () {},
    on: function () {},
  };

  var AlipayJSBridge = {
    call: function (name, params, cb) {
      var reply = function (r) {
        cb && cb(r);
      };
      if (name !== 'tradePay' || !params || !params.orderStr) return reply({ resultCode: '4000', memo: 'sandbox: only tradePay with orderStr' });
      post('/_sandbox/alipay/client-pay', { orderStr: params.orderStr, action: 'check' }).then(function (r) {
        if (!r.ok) return reply({ resultCode: r.resultCode || '4000', memo: r.memo });
        sheet('支付宝 (sandbox)', [r.order.subject || '', '¥' + r.order.total_amount, r.order.out_trade_no],
          function () {
            post('/_sandbox/alipay/client-pay', { orderStr: params.orderStr, action: 'pay' }).then(function (p) {
              reply({ resultCode: p.resultCode, memo: p.memo || '', result: p.result || '' });
            });
          },
          function () {
            post('/_sandbox/alipay/client-pay', { orderStr: params.orderStr, action: 'cancel' }).then(function () {
              reply({ resultCode: '6001', memo: '用户中途取消' });
            });
          });
      }, function (e) {
        reply({ resultCode: '6002', memo: String(e) });
      });
    },
  };

  window.WeixinJSBridge = WeixinJSBridge;
  window.AlipayJSBridge = AlipayJSBridge;
  // Helpers for other client APIs, e.g. a JS-SDK page: __edgepaySandbox.wechatPay('jssdk', params, cb).
  window.__edgepaySandbox = { origin: ORIGIN, wechatPay: wechatPay, sheet: sheet };

  setTimeout(function () {
    document.dispatchEvent(new Event('WeixinJSBridgeReady'));
    document.dispatchEvent(new Event('AlipayJSBridgeReady'));
  }, 0);
})();
