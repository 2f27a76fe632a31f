// MongoDB connection strings, read with the driver's own parser (multi-host replica-set and SRV URIs included).
import { ConnectionString } from 'mongodb-connection-string-url';

/** What the CLI needs to know of a MongoDB URI. */
export interface MongoUriInfo {
  /** The database named in the path (`/db`), or `null` when the URI names none. */
  dbName: string | null;
  /** `scheme://host1,host2/db`, without credentials or options, for logs and errors. */
  where: string;
}

/**
 * Parses a `mongodb://` or `mongodb+srv://` URI the way the driver does (`mongodb-connection-string-url`,
 * the driver's dependency): `new URL` refuses `mongodb://h1:27017,h2:27018/db`, which is how
 * replica sets are addressed. Throws a `TypeError` naming what is wrong.
 */
export function parseMongoUri(uri: string): MongoUriInfo {
  let cs: ConnectionString;
  try {
    cs = new ConnectionString(uri);
  } catch (error) {
    throw new TypeError((error as Error).message, { cause: error });
  }
  const path = cs.pathname.replace(/^\//, '');
  const dbName = path === '' ? null : decodeURIComponent(path);
  const scheme = cs.isSRV ? 'mongodb+srv' : 'mongodb';
  return { dbName, where: `${scheme}://${cs.hosts.join(',')}${path === '' ? '' : `/${path}`}` };
}
