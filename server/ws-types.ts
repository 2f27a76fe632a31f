/**
 * The parts of `ws` sockets and servers that public signatures name, declared here so the published
 * types need no `@types/ws` (`ws` ships none). A `ws` `WebSocket` / `WebSocketServer` is one.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** A server-side WebSocket (`ws`'s `WebSocket`). */
export interface WsSocket {
  readonly readyState: number;
  readonly OPEN: number;
  /** Bytes queued by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
  send(data: string | Uint8Array, cb?: (error?: Error) => void): void;
  send(
    data: string | Uint8Array,
    options: { binary?: boolean; compress?: boolean },
    cb?: (error?: Error) => void,
  ): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: string, listener: (...args: any[]) => void): this;
  once(event: string, listener: (...args: any[]) => void): this;
  off(event: string, listener: (...args: any[]) => void): this;
}

/** A `noServer` WebSocket server (`ws`'s `WebSocketServer`). */
export interface WsServer {
  readonly clients: Set<WsSocket>;
  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: (socket: WsSocket, req: IncomingMessage) => void,
  ): void;
  close(callback?: (error?: Error) => void): void;
  on(event: string, listener: (...args: any[]) => void): this;
  emit(event: string, ...args: any[]): boolean;
}
