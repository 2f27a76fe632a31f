/**
 * Loads the app's sync schema from `--schema FILE` (default: the demo schema); a `.ts` file through
 * tsx, an optional peer, when it is installed.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import type { SyncSchema } from '../../shared/schema.js';
import { demoSchema } from '../demo/schema.js';
import { CliError } from './config.js';

function isSchema(value: unknown): value is SyncSchema {
  const v = value as Partial<SyncSchema> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.parseDocument === 'function' &&
    Array.isArray(v.names)
  );
}

/** TypeScript sources: `.ts`, `.mts`, `.cts`, `.tsx`. */
const TYPESCRIPT = /\.(c|m)?tsx?$/i;

/** The message when a TypeScript schema cannot be loaded for want of tsx. */
export const needsTsx = (file: string): string =>
  `--schema: ${file} is TypeScript, which this Node cannot load by itself: ` +
  'install tsx next to it ' +
  `(npm install --save-dev tsx) or compile the schema to .js and pass that file`;

/**
 * Imports the module; TypeScript through tsx's `tsImport` when tsx is installed, else natively
 * (Node 22.18+ strips types).
 */
async function importModule(path: string, file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  if (!TYPESCRIPT.test(path)) return (await import(url)) as Record<string, unknown>;
  let tsx: typeof import('tsx/esm/api') | null = null;
  try {
    tsx = await import('tsx/esm/api');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
  }
  if (tsx) return (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_UNKNOWN_FILE_EXTENSION')
      throw new CliError(needsTsx(file));
    throw error;
  }
}

/** The default export, an export named `schema`, or the only schema the module exports. */
export async function loadSchema(file: string | null): Promise<SyncSchema> {
  if (!file) return demoSchema;
  const path = resolve(file);
  if (!existsSync(path)) throw new CliError(`--schema: file not found: ${file}`);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(path, file);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--schema: cannot load ${file}: ${(error as Error).message.split('\n')[0]}`);
  }
  const candidates = [mod.default, mod.schema, ...Object.values(mod)].filter(isSchema);
  if (candidates.length === 0)
    throw new CliError(`--schema: ${file} exports no defineSyncSchema() result`);
  return candidates[0]!;
}

/** The read rules a `--schema` module declares next to its schema (exports `rules`, `defaultViews`). */
export interface SchemaModuleRules {
  rules?: Record<string, unknown>;
  defaultViews?: unknown;
}

/**
 * The `rules` (a `defineSyncRules()` result) and `defaultViews` the `--schema` module exports, if
 * any: the engine then serves those collections through views (docs/authorization.md). `{}` for a
 * module without rules or without `--schema`.
 */
export async function loadRules(file: string | null): Promise<SchemaModuleRules> {
  if (!file) return {};
  const mod = await importModule(resolve(file), file);
  const rules = mod.rules;
  if (rules === undefined) return {};
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules))
    throw new CliError(
      `--schema: ${file} exports \`rules\` that is not a defineSyncRules() object`,
    );
  return {
    rules: rules as Record<string, unknown>,
    ...(mod.defaultViews !== undefined ? { defaultViews: mod.defaultViews } : {}),
  };
}
