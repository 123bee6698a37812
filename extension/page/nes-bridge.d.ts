/* Types for nes-bridge.js / nes-bridge.mjs (protocol 1, docs/protocol.md). */

export type ErrorCode =
  | "extension-unavailable" | "native-unavailable" | "native-disconnected" | "version-mismatch"
  | "bad-request" | "unknown-command" | "hello-required" | "not-allowed" | "origin-not-allowed"
  | "caller-not-allowed" | "message-too-large" | "invalid-handle" | "too-many-handles" | "internal-error"
  | "bad-signature" | "unknown-key" | "nonce-replayed" | "nonce-expired" | "nonce-wrong-handle"
  | "wrong-card" | "script-expired" | "script-invalid" | "script-too-long" | "script-bad-apdu"
  | "pin-required" | "pin-format" | "pin-mismatch" | "pin-cancelled"
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
export interface Connection { handle: number; protocol: "t0" | "t1"; atr: string }
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

export interface NesBridgeApi {
  readonly PROTOCOL: 1;
  hello(): Promise<Hello>;
  listReaders(): Promise<Reader[]>;
  waitForCard(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<{ reader: string; atr: string }>;
  connect(reader: string, options?: { share?: "shared" | "exclusive"; protocols?: ("t0" | "t1")[] }): Promise<Connection>;
  disconnect(handle: number, disposition?: "leave" | "reset" | "unpower"): Promise<{}>;
  status(handle: number): Promise<{ reader: string; state: string[]; protocol: string; atr: string | null; in_transaction: boolean }>;
  beginTransaction(handle: number): Promise<{}>;
  endTransaction(handle: number): Promise<{}>;
  transmit(handle: number, apdu: string, options?: { get_response?: boolean }): Promise<Response>;
  getNonce(handle: number): Promise<string>;
  runScript(handle: number, signed: SignedScript, options?: { askPin?: boolean | AskPin; pinpad?: boolean }): Promise<RunScriptResult>;
  request(cmd: string, args?: object, extra?: object): Promise<unknown>;
}

export declare const NesBridge: NesBridgeApi;
export default NesBridge;

declare global {
  interface Window { NesBridge: NesBridgeApi; NesBridgeError: typeof NesBridgeError }
}
