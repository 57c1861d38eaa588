// kassa-checkout: the Kassa payment page for your own front end.
//
// - createKassa(kassaUrl): the bridge (docs/bridge.md): initiate/process open
//   the payment page in an iframe in your page and report the result.
// - init() + mount(element, config): the payment page itself (WebAssembly),
//   for a page that hosts it directly with a configuration from Kassa.
export { createKassa, VERSION } from './bridge.js';
export { default as init, mount, Handle } from './kassa_widget.js';
