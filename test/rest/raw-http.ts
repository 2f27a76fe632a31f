/** Raw HTTP requests for tests that must see the bytes on the wire (compression, Content-Length, chunked bodies). */
import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A GET with exactly the given headers; the body is returned undecoded. */
export function rawGet(
  url: string,
  headers: Record<string, string> = {},
  onChunk?: (chunk: Buffer) => void,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        onChunk?.(c);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/**
 * Sends a body and resolves with the first response: `declaredLength` sets a Content-Length
 * (then only `firstChunk` is sent), otherwise the body is chunked and keeps coming until the
 * server answers (an endless upload the server must cut short).
 */
export function rawPost(
  url: string,
  headers: Record<string, string>,
  firstChunk: Buffer,
  declaredLength?: number,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, {
      method: 'POST',
      headers:
        declaredLength === undefined
          ? { ...headers, 'transfer-encoding': 'chunked' }
          : { ...headers, 'content-length': String(declaredLength) },
    });
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        req.destroy();
      });
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.write(firstChunk);
    if (declaredLength !== undefined) return;
    const pump = () => {
      if (answered || req.destroyed) return;
      const ok = req.write(firstChunk);
      if (ok) setImmediate(pump);
      else req.once('drain', pump);
    };
    pump();
  });
}
