/* ES module entry: the classic script defines the globals; this re-exports them. */
import "./nes-bridge.js";

export const NesBridge = globalThis.NesBridge;
export const NesBridgeError = globalThis.NesBridgeError;
export default NesBridge;
