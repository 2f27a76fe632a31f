/** Loads the app's sync schema from `--schema FILE` (default: the demo schema). */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import type { SyncSchema } from '../../shared/schema.js';
import { demoSchema } from '../demo/schema.js';
import { CliError } from './config.js';

function isSchema(value: unknown): value is SyncSchema {
  const v = value as Partial<SyncSchema> | null;
  return typeof v === 'object' && v !== null && typeof v.parseDocument === 'function' && Array.isArray(v.names);
}

/** The default export, an export named `schema`, or the only schema the module exports. */
export async function loadSchema(file: string | null): Promise<SyncSchema> {
  if (!file) return demoSchema;
  const path = resolve(file);
  if (!existsSync(path)) throw new CliError(`--schema: file not found: ${file}`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`--schema: cannot load ${file}: ${(error as Error).message.split('\n')[0]}`);
  }
  const candidates = [mod.default, mod.schema, ...Object.values(mod)].filter(isSchema);
  if (candidates.length === 0) throw new CliError(`--schema: ${file} exports no defineSyncSchema() result`);
  return candidates[0]!;
}
