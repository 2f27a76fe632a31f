/** A tiny mutex: tasks run one at a time in call order, so read-modify-write sequences on the local store never interleave. */

/** Returns `run(task)`: runs `task` after every earlier task settled; a failing task does not block the next. */
export function serial(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const result = tail.then(task, task);
    tail = result.catch(() => undefined);
    return result;
  };
}
