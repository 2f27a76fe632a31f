/**
 * Stops `serve` when the npm process that started it goes away: `kill <npm pid>` ends npm without
 * passing the signal on.
 */

/** How often the parent is looked at (ms); the check is one syscall. */
const INTERVAL_MS = 500;

/**
 * Calls `onGone` once when this process is orphaned (its parent pid changes: the parent exited
 * and the process was re-parented to init or a subreaper). Only when started by an npm script
 * (`npm start`, `npm run …`: `npm_lifecycle_event` is set), so a server deliberately left running
 * in the background by a shell or a process manager is never stopped by this. Returns a function
 * that stops watching; the timer never keeps the process alive.
 */
export function watchParent(onGone: () => void, env: NodeJS.ProcessEnv = process.env): () => void {
  if (!env.npm_lifecycle_event) return () => undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
