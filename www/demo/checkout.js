// Demo merchant page, script-tag integration (docs/bridge.md). Kassa's
// checkout component binds the pay button: it asks the shop's backend for
// the session (data-session-url: /api/session, where the backend calls
// Kassa's POST /session with its API key, or /api/signed-session, where it
// signs orderDetails with its RSA key) and processes the Process SDK payload
// into #payment. The result is a hint: the shop's backend confirms it
// (GET /orders/:id, the signed webhook).
const log = document.getElementById('events');
window.kassaEvents = [];
const show = (e) => {
  window.kassaEvents.push(e);
  log.textContent += `${e.event} ${e.requestId ?? ''} ${JSON.stringify(e.payload)}\n`;
  if (e.event === 'process_result') document.getElementById('result').textContent = e.payload.status;
};

Kassa.initiate(
  { requestId: crypto.randomUUID(), service: 'in.juspay.hyperpay', payload: { action: 'initiate', merchantId: document.body.dataset.merchant, environment: 'sandbox' } },
  show,
);
Kassa.checkout({ button: '#pay', sessionUrl: document.body.dataset.sessionUrl, container: '#payment' });
document.getElementById('close').addEventListener('click', () => Kassa.terminate());
