// Kassa script-tag loader: <script src="https://YOUR-KASSA/assets/kassa.js"></script>
// puts the bridge's host API on window.Kassa (docs/bridge.md). Nothing of the
// widget loads until Kassa.process() opens the payment page's frame.
import { createKassa } from './bridge.js';

window.Kassa = createKassa(new URL(document.currentScript?.src ?? location.href).origin);
