/** `trpc-offline-sync init`: creates the store's tables/collections and indexes and says what it created. */
import type { CliConfig } from './config.js';
import { initStore, openStore } from './open-store.js';
import { loadSchema } from './schema-file.js';

/** Initializes the configured store and prints one line per object created. */
export async function runInit(config: CliConfig, log: (line: string) => void): Promise<void> {
  const schema = await loadSchema(config.schemaFile);
  const opened = await openStore(config, schema.names);
  const before = new Set(await opened.objects().catch(() => [] as string[]));
  await initStore(opened);
  try {
    const after = await opened.objects();
    const created = after.filter((o) => !before.has(o));
    log(
      `initialized ${opened.description} (epoch ${opened.store.epoch()}, collections: ${schema.names.join(', ')})`,
    );
    if (created.length === 0)
      log(`nothing to create: all ${after.length} tables, collections and indexes already exist`);
    for (const object of created) log(`created ${object}`);
  } finally {
    await opened.close();
  }
}
