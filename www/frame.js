// Kassa bridge, inside the payment page: the channel to the page that frames
// it (docs/bridge.md, protocol version 1). Every message carries the version
// and the session nonce the host put in the frame's URL fragment, and goes to
// one exact origin: the parent's, and only if the merchant allowed it (the
// server sends the allowed origins with the page). Nothing is sent otherwise.
//
// Mobile webviews get the result through their native bridge when present
// (React Native, iOS WKWebView handler `kassa`, Android interface `KassaAndroid`).

export const VERSION = 1;
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

function remember(key, value) {
  try { if (value) sessionStorage.setItem(`kassa-${key}`, value); return sessionStorage.getItem(`kassa-${key}`); } catch { return value; }
}

/** The channel to the framing page, or null when there is none we may talk to. */
export function parentChannel(allowedOrigins) {
  if (window.parent === window) return null;
  // The nonce arrives once, in the fragment (never sent to a server); later pages of the frame read it back.
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('kassa-nonce');
  if (fromHash !== null) history.replaceState(null, '', location.pathname + location.search);
  const nonce = remember('nonce', fromHash && NONCE.test(fromHash) ? fromHash : null);
  const seen = location.ancestorOrigins?.[0] ?? (document.referrer ? new URL(document.referrer).origin : null);
  const parent = remember('parent', seen && allowedOrigins.includes(seen) ? seen : null);
  if (!nonce || !parent || !allowedOrigins.includes(parent)) return null;
  return { post: (type, fields = {}) => window.parent.postMessage({ kassa: VERSION, nonce, type, ...fields }, parent) };
}

/** Hands a final result to the native app hosting a webview, if any. */
export function tellNativeApp(result) {
  const message = JSON.stringify({ kassa: VERSION, type: 'result', ...result });
  try { window.ReactNativeWebView?.postMessage(message); } catch { /* not a React Native webview */ }
  try { window.webkit?.messageHandlers?.kassa?.postMessage(message); } catch { /* not a WKWebView with our handler */ }
  try { window.KassaAndroid?.onResult(message); } catch { /* not an Android WebView with our interface */ }
}
