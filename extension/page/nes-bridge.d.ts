/* SPDX-License-Identifier: Apache-2.0 */
/* Types for nes-bridge.js / nes-bridge.mjs (protocol 1, docs/protocol.md). */

export type ErrorCode =
  | "extension-unavailable" | "native-unavailable" | "native-disconnected" | "version-mismatch"
  | "bad-request" | "unknown-command" | "hello-required" | "not-allowed" | "origin-not-allowed"
  | "caller-not-allowed" | "message-too-large" | "invalid-handle" | "too-many-handles" | "internal-error"
  | "bad-signature" | "unknown-key" | "nonce-replayed" | "nonce-expired" | "nonce-wrong-handle"
  | "wrong-card" | "script-expired" | "script-invalid" | "script-too-long" | "script-bad-apdu"
  | "pin-required" | "pin-format" | "pin-mismatch" | "pin-cancelled" | "pin-timeout"
  | "no-service" | "no-smartcard" | "not-ready" | "not-transacted" | "proto-mismatch"
  | "reader-unavailable" | "removed-card" | "reset-card" | "server-too-busy" | "sharing-violation"
  | "system-cancelled" | "timeout" | "unknown-reader" | "unpowered-card" | "unresponsive-card"
  | "unsupported-card" | "unsupported-feature" | "unknown-error";

export declare class NesBridgeError extends Error {
  readonly code: ErrorCode;
  readonly pcsc?: string;
  readonly detail?: RunScriptResult;
}

export type ReaderState =
  "unknown" | "unavailable" | "empty" | "present" | "atrmatch" | "exclusive" | "inuse" | "mute" | "unpowered";

export interface Reader {
  name: string;
  state: ReaderState[];
  atr: string | null;
  pinpad: { verify: boolean; modify: boolean };
}

export interface Hello { protocol: 1; host_version: string; features: string[] }
/** `protocol` is "raw" when the card was connected without T=0 or T=1;
 * `atr` is null when PC/SC gave none. */
export interface Connection { handle: number; protocol: "t0" | "t1" | "raw"; atr: string | null }
export interface Status {
  reader: string;
  state: ("unknown" | "absent" | "present" | "swallowed" | "powered" | "negotiable" | "specific")[];
  protocol: "t0" | "t1" | "raw";
  atr: string | null;
  in_transaction: boolean;
}
export interface Response { data: string; sw: string }
export interface SignedScript { script: string; signature: string; key_id: string }
export interface RunScriptResult {
  completed: boolean;
  stopped_at: number | null;
  steps: { sw: string; data: string | null }[];
}
/** The extension asks for the new PIN in its own window; `serial` is shown
 * there as what the site states (1-32 letters, digits, space . _ -). */
export interface AskPin { serial?: string }
export type Disposition = "leave" | "reset" | "unpower";

/** Every call takes these. `timeoutMs`: the call rejects with `timeout`
 * after so many milliseconds (default per command: 15 s for hello,
 * list-readers and cancel; 45 s for card commands; run-script 120 s, 180 s
 * with a pinpad, 600 s with askPin; `Infinity`: none). `signal`: aborting
 * it rejects the call with `system-cancelled`. A wait, a transaction wait
 * and a PIN window still open are cancelled in the host or extension. */
export interface CallOptions { timeoutMs?: number; signal?: AbortSignal }

/** Which cards the page wants. `atr`: hex digits with `?` for any nibble,
 * matching the whole ATR, or a RegExp over its upper-case hex. `filter`: a
 * predicate over the reader. Both must accept when both are given. */
export interface CardFilter {
  atr?: string | RegExp;
  filter?: (reader: Reader) => boolean;
}
export interface Card { reader: string; atr: string }

/** The id of a page's message to the extension: the library makes its own
 * ("nb-1", ...). The extension accepts a safe integer (-(2^53-1) to
 * 2^53-1) or a string of 1 to 128 bytes in UTF-8 (docs/extension.md); it
 * gives the host ids of its own. */
export type RequestId = number | string;

export interface NesBridgeApi {
  readonly PROTOCOL: 1;
  hello(options?: CallOptions): Promise<Hello>;
  /** At most 15 readers: see listReadersResult for whether some were left out. */
  listReaders(options?: CallOptions): Promise<Reader[]>;
  /** `truncated`: the host left a reader out (more than 15, or a name over 128 bytes). */
  listReadersResult(options?: CallOptions): Promise<{ truncated: boolean; readers: Reader[] }>;
  /** Resolves once a card the page wants is present: the first one, and all
   * of them in `cards`. `timeoutMs` bounds the whole wait (default: none). */
  waitForCard(options?: CardFilter & CallOptions): Promise<Card & { cards: Card[] }>;
  /** The cards present now that the page wants. */
  findCards(options?: CardFilter & CallOptions): Promise<Card[]>;
  /** The historical bytes of an ATR as upper-case hex ("" if unreadable). */
  historicalBytes(atr: string): string;
  atrMatches(pattern: string | RegExp, atr: string): boolean;
  connect(reader: string, options?: { share?: "shared" | "exclusive"; protocols?: ("t0" | "t1")[] } & CallOptions): Promise<Connection>;
  disconnect(handle: number, disposition?: Disposition, options?: CallOptions): Promise<{}>;
  status(handle: number, options?: CallOptions): Promise<Status>;
  beginTransaction(handle: number, options?: CallOptions): Promise<{}>;
  endTransaction(handle: number, disposition?: Disposition, options?: CallOptions): Promise<{}>;
  transmit(handle: number, apdu: string, options?: { get_response?: boolean } & CallOptions): Promise<Response>;
  getNonce(handle: number, options?: CallOptions): Promise<string>;
  /** askPin: the extension's window asks for the new PIN; with pinpad too,
   * it tells the holder to type it twice on the reader's keypad (no field). */
  runScript(handle: number, signed: SignedScript,
    options?: { askPin?: boolean | AskPin; pinpad?: boolean } & CallOptions): Promise<RunScriptResult>;
  request(cmd: string, args?: object, extra?: object, options?: CallOptions): Promise<unknown>;
}

export declare const NesBridge: NesBridgeApi;
export default NesBridge;

declare global {
  interface Window { NesBridge: NesBridgeApi; NesBridgeError: typeof NesBridgeError }
}
