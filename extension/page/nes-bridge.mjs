/* SPDX-License-Identifier: Apache-2.0 */
/* ES module entry: the classic script defines the globals; this re-exports them. */
import "./nes-bridge.js";

export const NesBridge = globalThis.NesBridge;
export const NesBridgeError = globalThis.NesBridgeError;
export default NesBridge;
