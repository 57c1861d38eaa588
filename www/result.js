// Kassa's result page: hands the attempt's result to the page that frames it
// (bridge `result` message, docs/bridge.md) and to a native app's webview
// bridge. Only a hint: merchants confirm with GET /orders/:id or the webhook.
import { parentChannel, tellNativeApp } from '/static/frame.js';

const result = JSON.parse(document.getElementById('kassa-result').textContent);
const fields = { order_id: result.order_id, status: result.status, status_id: result.status_id };
parentChannel(result.parent_origins ?? [])?.post('result', fields);
tellNativeApp(fields);
