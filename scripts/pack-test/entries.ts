/**
 * The CLI app's type-check of the server entries as installed: every server entry point loads
 * with PGlite, ws, jose and prom-client installed but no @types/pg and no @types/ws (MongoDB's
 * entry needs the mongodb package, not installed here).
 */
import { defineSyncSchema, SyncError } from 'trpc-offline-sync';
import {
  createSyncEngine,
  memoryStore,
  type Store,
  type SyncEngine,
} from 'trpc-offline-sync/engine';
import { createRestHandler, type CorsOrigin } from 'trpc-offline-sync/rest';
import { createSyncAppRouter, type SyncAppRouter } from 'trpc-offline-sync/trpc';
import {
  createSyncHttpServer,
  createWebAppHandler,
  createOpsHandler,
  type SyncHttpServer,
} from 'trpc-offline-sync/node';
import { createFastapiCompatHandler } from 'trpc-offline-sync/compat';
import { createMetrics } from 'trpc-offline-sync/metrics';
import { pgliteStore, postgresStore, type PostgresStore } from 'trpc-offline-sync/postgres';
import { demoSchema, type AppRouter } from 'trpc-offline-sync/demo';
import * as everything from 'trpc-offline-sync/server';

export const checks = [
  defineSyncSchema,
  SyncError,
  createSyncEngine,
  memoryStore,
  createRestHandler,
  createSyncAppRouter,
];
export const more = [
  createSyncHttpServer,
  createWebAppHandler,
  createOpsHandler,
  createFastapiCompatHandler,
  createMetrics,
];
export const stores = [pgliteStore, postgresStore, demoSchema, everything.createSyncEngine];
export type Types = [
  Store,
  SyncEngine,
  CorsOrigin,
  SyncAppRouter<typeof demoSchema>,
  SyncHttpServer,
  PostgresStore,
  AppRouter,
];
