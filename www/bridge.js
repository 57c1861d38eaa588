// Kassa bridge, host side (docs/bridge.md, version 1): a HyperServices-shaped
// API for the page that shows the payment page. Used by the script-tag loader
// (www/kassa.js → pkg/kassa.js) and the npm package (www/npm/index.js).
//
//   const kassa = createKassa('https://pay.example.com');
//   kassa.initiate(payload, callback)   once; callback gets every event
//   kassa.process(payload)              opens the payment page: an iframe in
//                                       payload.payload.container, else a redirect
//   kassa.terminate()                   closes it (process_result backpressed)
//   kassa.isInitialised()
//   kassa.checkout(options)             the checkout component: a pay button that
//                                       asks the merchant's backend for the session
//                                       and hands its Process SDK payload to process
//
// Messages from the frame count only if they come from the Kassa origin of
// the payment link, from that very frame, with protocol version 1 and the
// nonce made for this process() call. Results are hints: confirm with
// GET /orders/:order_id or the webhook on your server.

export const VERSION = 1;

/** The host API, talking to the Kassa server at `kassaUrl` (needed only for signed orderDetails payloads). */
export function createKassa(kassaUrl = '') {
  const STATUS = {
    CHARGED: 'charged', PARTIAL_CHARGED: 'charged', AUTHORIZED: 'authorized', PENDING_VBV: 'pending_vbv', AUTHORIZING: 'pending_vbv',
    AUTHORIZATION_FAILED: 'authorization_failed', JUSPAY_DECLINED: 'authorization_failed',
    AUTHENTICATION_FAILED: 'authentication_failed',
  };
  let callback = null;
  let session = null;
  let merchantId;
  // Run after each process_result (the checkout component frees its button).
  const afterResult = new Set();

  const emit = (event, requestId, payload = {}) => {
    try { callback?.({ event, requestId, payload }); } catch (e) { console.error('kassa: callback failed', e); }
  };

  const nonce = () => {
    const b = crypto.getRandomValues(new Uint8Array(24));
    return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };

  const close = () => {
    if (!session) return;
    window.removeEventListener('message', session.listener);
    session.frame?.remove();
    session = null;
  };

  const finish = (payload) => {
    if (!session || session.done) return;
    session.done = true;
    emit('process_result', session.requestId, payload);
    afterResult.forEach((f) => f());
  };

  function initiate(payload, cb) {
    if (typeof cb !== 'function') throw new TypeError('kassa: initiate(payload, callback) needs a callback');
    callback = cb;
    const p = payload?.payload ?? {};
    if (!payload?.requestId || p.action !== 'initiate' || !p.merchantId) {
      emit('initiate_result', payload?.requestId, { status: 'error', error: 'initiate needs requestId, payload.action "initiate" and payload.merchantId' });
      return;
    }
    merchantId = p.merchantId;
    emit('initiate_result', payload.requestId, { status: 'success' });
  }

  async function linksFor(p) {
    if (p.paymentLinks?.iframe) return p.paymentLinks;
    if (!p.orderDetails) throw new Error('the payload has neither paymentLinks nor orderDetails');
    // A Process SDK payload signed by the merchant's backend: the server checks the signature.
    const body = new URLSearchParams({ merchantId: p.merchantId, merchantKeyId: p.merchantKeyId, orderDetails: p.orderDetails, signature: p.signature });
    const r = await fetch(`${kassaUrl}/sdk/process`, { method: 'POST', body });
    const answer = await r.json();
    if (!r.ok) throw new Error(answer.error_message ?? `HTTP ${r.status}`);
    return answer.payment_links;
  }

  async function process(payload) {
    if (!isInitialised()) throw new Error('kassa: call initiate first');
    const requestId = payload?.requestId;
    const p = payload?.payload ?? {};
    close();
    session = { requestId, done: false };
    const mine = session;
    emit('show_loader', requestId);
    let links;
    try {
      links = await linksFor(p);
    } catch (e) {
      emit('hide_loader', requestId);
      finish({ status: 'api_failure', error: String(e.message ?? e) });
      return;
    }
    if (session !== mine) return;
    const target = typeof p.container === 'string' ? document.querySelector(p.container) : p.container;
    if (!target) {
      location.assign(links.web);
      return;
    }
    const n = nonce();
    const origin = new URL(links.iframe).origin;
    const frame = document.createElement('iframe');
    frame.title = p.frameTitle ?? 'Payment';
    frame.allow = 'payment';
    frame.style.cssText = 'display:block;width:100%;border:0;height:0;background:transparent';
    frame.src = `${links.iframe}${p.paymentOptions ? `?payment_options=${encodeURIComponent(p.paymentOptions)}` : ''}#kassa-nonce=${n}`;
    session.frame = frame;
    session.listener = (e) => {
      const d = e.data;
      if (e.origin !== origin || e.source !== frame.contentWindow || !d || d.kassa !== VERSION || d.nonce !== n) return;
      if (d.type === 'ready') emit('hide_loader', requestId);
      else if (d.type === 'resize' && Number.isFinite(d.height) && d.height >= 0) frame.style.height = `${Math.ceil(d.height)}px`;
      else if (d.type === 'result') finish({ status: STATUS[d.status] ?? 'api_failure', orderId: d.order_id, orderStatus: d.status });
    };
    window.addEventListener('message', session.listener);
    target.replaceChildren(frame);
  }

  function terminate() {
    if (session && !session.done) finish({ status: 'backpressed' });
    close();
  }

  const isInitialised = () => callback !== null && merchantId !== undefined;

  // The checkout component. On a click of `button` it POSTs `body` (JSON) to
  // the merchant's own backend at `sessionUrl` (same origin, with cookies),
  // which creates the order with its API key and answers `{ sdk_payload }`:
  // Kassa's POST /session payload, or one whose orderDetails the backend
  // signed (seed 001). The payload goes to `onPayload` (default: process it
  // into `container`). The button is busy until the attempt has a result.
  function checkout({ button, sessionUrl, container, body = {}, onPayload } = {}) {
    const el = typeof button === 'string' ? document.querySelector(button) : button;
    if (!el || !sessionUrl) throw new TypeError('kassa: checkout needs a button and a sessionUrl');
    const busy = (on) => { el.disabled = on; el.setAttribute('aria-busy', String(on)); };
    const fail = (error) => {
      busy(false);
      emit('process_result', undefined, { status: 'api_failure', error });
    };
    const click = async () => {
      if (!isInitialised()) return fail('call initiate before checkout');
      busy(true);
      let sdk;
      try {
        const r = await fetch(sessionUrl, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const answer = await r.json().catch(() => ({}));
        if (!r.ok) return fail(answer.error ?? answer.error_message ?? `the shop's backend answered HTTP ${r.status}`);
        sdk = answer.sdk_payload;
      } catch (e) {
        return fail(`cannot reach the shop's backend: ${e.message ?? e}`);
      }
      const p = sdk?.payload;
      if (typeof sdk?.requestId !== 'string' || p?.action !== 'paymentPage' || !(p.paymentLinks?.iframe || (p.orderDetails && p.signature && p.merchantKeyId))) {
        return fail("the shop's backend did not answer a Process SDK payload");
      }
      const payload = { ...sdk, payload: { ...p, ...(container ? { container } : {}) } };
      if (onPayload) onPayload(payload);
      else await process(payload);
    };
    el.addEventListener('click', click);
    const done = () => busy(false);
    afterResult.add(done);
    return { destroy: () => { el.removeEventListener('click', click); afterResult.delete(done); busy(false); } };
  }

  return { version: VERSION, initiate, process, terminate, isInitialised, checkout };
}
