// Demo merchant front end: a Vite app in TypeScript on the npm package
// kassa-checkout (`cargo xtask demo` builds it against pkg/; the end-to-end
// test installs the `npm pack` tarball and type-checks it with tsc --strict).
// The shop's backend route /api/session creates the session with Kassa's
// POST /session and its API key; the result is a hint the backend confirms.
import { createKassa, type KassaEvent, type ProcessStatus } from 'kassa-checkout';

const kassa = createKassa();
const events: KassaEvent[] = [];
(window as unknown as { kassaEvents: KassaEvent[] }).kassaEvents = events;
const result = document.getElementById('result') as HTMLElement;

kassa.initiate(
  { requestId: crypto.randomUUID(), service: 'in.juspay.hyperpay', payload: { action: 'initiate', merchantId: 'demo' } },
  (e: KassaEvent) => {
    events.push(e);
    if (e.event === 'process_result') {
      const status: ProcessStatus = e.payload.status;
      result.textContent = status;
    }
  },
);
kassa.checkout({ button: '#pay', sessionUrl: '/api/session', container: '#payment' });
