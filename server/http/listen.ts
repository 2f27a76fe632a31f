/** `listenOn()` and `closeServer()`: what every http listener of the package does to start and stop. */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where a listener ended up (port 0 picks a free one). */
export interface Listening {
  port: number;
  host: string;
  url: string;
}

/** Starts `server` on `port`/`host`; rejects on a listen error (e.g. EADDRINUSE). */
export function listenOn(server: http.Server, port = 0, host = '127.0.0.1'): Promise<Listening> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({ port: address.port, host, url: `http://${host}:${address.port}` });
    });
  });
}

/** Stops `server`, closing keep-alive sockets and open streams, which would hold `close()` open. */
export async function closeServer(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  if (server.listening) await closed;
}
