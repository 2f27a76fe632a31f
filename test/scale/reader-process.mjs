// A live-stream reader in a process of its own (so a busy test process cannot starve its socket): subscribes over the raw WebSocket and reports what it read.
// Usage: node reader-process.mjs <ws-url> <token>; prints one JSON line per event: {"type", "ids": [...]}; exits when the server closes.
import WebSocket from 'ws';

const [url, token] = process.argv.slice(2);
const ws = new WebSocket(url, { perMessageDeflate: false });
ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', token })));
ws.on('message', (data) => {
  const event = JSON.parse(data.toString());
  const ids = event.type === 'changes' ? event.changes.map((c) => c.id) : [];
  process.stdout.write(JSON.stringify({ type: event.type, ids }) + '\n');
});
ws.on('close', (code) => {
  process.stdout.write(JSON.stringify({ type: 'closed', code, ids: [] }) + '\n');
  process.exit(0);
});
ws.on('error', (error) => {
  process.stderr.write(String(error) + '\n');
  process.exit(1);
});
process.stdin.on('end', () => ws.close(1000));
process.stdin.resume();
