// Reads outside transactions: pinned to the primary with majority read concern, in causal sessions that never go back in time.
import type {
  ClientSession,
  ClusterTime,
  MongoClient,
  ReadConcernLike,
  ReadPreferenceLike,
  Timestamp,
} from 'mongodb';

/** Options every read outside a transaction carries. */
export interface ReadOptions {
  session?: ClientSession;
  readPreference: ReadPreferenceLike;
  readConcern?: ReadConcernLike;
}

/**
 * The read path of one store. On a replica set or sharded cluster every read goes to the primary
 * with `majority` read concern (the app's `secondaryPreferred` or `local` could hand out a
 * checkpoint past entries the read never saw, or reuse a seq rolled back by a failover), and runs in
 * a causally consistent session advanced to the latest operation time this store has seen, so a
 * later read (a pull's oplog read after its head read) sees at least what an earlier one saw.
 * On a standalone server reads simply go to the server.
 */
export class ReadPath {
  #operationTime: Timestamp | undefined;
  #clusterTime: ClusterTime | undefined;

  constructor(
    private readonly client: MongoClient,
    private readonly clustered: () => boolean,
  ) {}

  /** The options of one read in `session`. */
  options(session: ClientSession | undefined): ReadOptions {
    if (!this.clustered()) return { readPreference: 'primary' };
    return { session, readPreference: 'primary', readConcern: { level: 'majority' } };
  }

  /** Runs reads in one causal session (none on a standalone server); the session's times are kept for later reads. */
  async run<T>(fn: (options: ReadOptions) => Promise<T>): Promise<T> {
    if (!this.clustered()) return fn(this.options(undefined));
    const session = this.client.startSession({ causalConsistency: true });
    try {
      this.advance(session);
      return await fn(this.options(session));
    } finally {
      this.observe(session);
      await session.endSession();
    }
  }

  /** Moves a session (a read's, or a transaction's before it starts) to the latest times this store has seen. */
  advance(session: ClientSession): void {
    if (this.#operationTime) session.advanceOperationTime(this.#operationTime);
    try {
      // The client gossips its own latest cluster time anyway; copying it is belt and braces.
      if (this.#clusterTime) session.advanceClusterTime(this.#clusterTime);
    } catch {
      // A cluster time the driver refuses to copy (no signature): the operation time above is what matters.
    }
  }

  /** Keeps the latest operation and cluster times of a session that read or committed. */
  observe(session: ClientSession): void {
    const op = session.operationTime;
    if (op && (!this.#operationTime || op.greaterThan(this.#operationTime)))
      this.#operationTime = op;
    const ct = session.clusterTime;
    if (ct && (!this.#clusterTime || ct.clusterTime.greaterThan(this.#clusterTime.clusterTime)))
      this.#clusterTime = ct;
  }
}
