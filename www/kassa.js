// Kassa script-tag loader, the source of the served /assets/kassa.js (the
// build bundles it with ./bridge.js and minifies it):
//   <script src="https://YOUR-KASSA/assets/kassa.js"></script>
// puts the bridge's host API on window.Kassa (docs/bridge.md). Nothing of the
// widget loads until Kassa.process() opens the payment page's frame.
import { createKassa } from './bridge.js';

window.Kassa = createKassa(new URL(document.currentScript?.src ?? location.href).origin);
