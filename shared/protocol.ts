/** Zod schemas for every JSON shape of the wire protocol (PROTOCOL.md), and their inferred types. */
import { z } from 'zod';
import { isHlc } from './hlc.js';
import { REJECTION_CODES } from './errors.js';

/** Collection names: identifiers safe for tables, paths and queries. */
export const collectionName = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_]{0,62}$/,
    'must start with a letter and hold only letters, digits and _ (at most 63)',
  );

/** Document ids: any non-empty string up to 256 characters. */
export const documentId = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters');

/** An HLC version string such as `20260502T120000.000Z-0001-a1b2`. */
export const hlcString = z
  .string()
  .refine(isHlc, 'must be an HLC like 20260502T120000.000Z-0001-a1b2');

/** A JSON object (document data or a merge patch). */
export const jsonObject = z.record(z.string(), z.unknown());

/**
 * The client's schema version (`defineSyncSchema(…, { version })`), optional in every request so
 * unversioned clients keep working; an engine with `minSchemaVersion` refuses older ones (`UPGRADE_REQUIRED`).
 */
export const schemaVersion = z
  .number()
  .int('must be an integer')
  .positive('must be a positive integer')
  .max(2_147_483_647);

export const changeOp = z.enum(['upsert', 'patch', 'delete']);
export type ChangeOp = z.infer<typeof changeOp>;

/** One change in a push. */
export const changeInput = z.object({
  mutationId: z
    .number()
    .int('must be an integer')
    .positive('must be a positive integer')
    .max(Number.MAX_SAFE_INTEGER),
  collection: collectionName,
  id: documentId,
  op: changeOp,
  data: jsonObject.nullish(),
  baseVersion: hlcString.nullish(),
  hlc: hlcString.nullish(),
});
export type ChangeInput = z.infer<typeof changeInput>;

/** `POST /sync/push` body and tRPC `sync.push` input. */
export const pushInput = z.object({
  clientId: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  atomic: z.boolean().default(true),
  changes: z.array(changeInput),
  schemaVersion: schemaVersion.nullish(),
});
export type PushInput = z.input<typeof pushInput>;

export const pushStatus = z.enum(['accepted', 'conflict_resolved', 'rejected', 'duplicate']);
export type PushStatus = z.infer<typeof pushStatus>;

export const changeError = z.object({ code: z.enum(REJECTION_CODES), message: z.string() });

/** The outcome of one change. */
export const pushResult = z.object({
  mutationId: z.number().int(),
  collection: z.string(),
  id: z.string(),
  status: pushStatus,
  /** Version of the stored document after this change (absent when rejected). */
  version: z.string().optional(),
  /** Stored document data when it differs from what was sent (`null`: it is deleted). */
  doc: jsonObject.nullable().optional(),
  error: changeError.optional(),
  /** On `duplicate`: the status the change had when it was first applied. */
  original: z.enum(['accepted', 'conflict_resolved', 'rejected']).optional(),
});
export type PushResult = z.infer<typeof pushResult>;

export const pushResponse = z.object({
  results: z.array(pushResult),
  serverTime: z.string(),
});
export type PushResponse = z.infer<typeof pushResponse>;

/** One change in a pull answer or a stream event: a document in its latest state. */
export const changeOut = z.object({
  collection: z.string(),
  id: z.string(),
  op: z.enum(['upsert', 'delete']),
  data: jsonObject.nullable(),
  version: z.string(),
  /**
   * On a `delete` only: the document did not go away, it left the view the request reads (it no
   * longer matches its rule, docs/protocol.md). Clients remove it locally like a delete.
   */
  left: z.boolean().optional(),
});
export type ChangeOut = z.infer<typeof changeOut>;

const collectionsFilter = z.array(collectionName).max(100).optional();

/**
 * A view of a server-declared read rule (docs/authorization.md): the rule's name and its params.
 * With it, a pull, full or stream reads exactly that view; without it, the actor's default views.
 */
export const viewRequest = z.object({
  rule: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type ViewRequestInput = z.infer<typeof viewRequest>;

/** `GET /sync/pull` query and tRPC `sync.pull` input. */
export const pullInput = z.object({
  since: z.string().nullish(),
  collections: collectionsFilter,
  limit: z.number().int('must be an integer').positive('must be a positive integer').optional(),
  view: viewRequest.optional(),
  /**
   * With `view`: also send the view's integrity checksum (docs/protocol.md, "Checksums of a
   * view") on the last page (pull) or the last catch-up event (stream). It costs the server one
   * indexed scan of the view's documents, so clients ask for it now and then, not on every read.
   */
  verifyView: z.boolean().optional(),
  schemaVersion: schemaVersion.nullish(),
});
export type PullInput = z.input<typeof pullInput>;

/**
 * Protocol extension (docs/rest.md): integrity checksums at the answer's checkpoint, by collection
 * (16 hex digits, see `shared/checksum.ts`), for the synced collections whose sum is exact there.
 * A client holding exactly the server's documents of a collection has the same sum.
 */
export const checksumsField = z
  .record(z.string(), z.string().regex(/^[0-9a-f]{16}$/))
  .describe(
    'Integrity checksums at this checkpoint, by collection: the sum mod 2^64 of FNV-1a 64 hashes of the canonical JSON of [id, version, data] of every live document, as 16 hex digits (docs/rest.md, "Integrity checksums"). Only where exact at the checkpoint.',
  )
  .optional();

export const pullResponse = z.object({
  changes: z.array(changeOut),
  checkpoint: z.string(),
  hasMore: z.boolean(),
  /** On the last page (`hasMore: false`) only: see `checksumsField`. */
  checksums: checksumsField,
});
export type PullResponse = z.infer<typeof pullResponse>;

/** `GET /sync/full` query and tRPC `sync.full` input. */
export const fullInput = z.object({
  collections: collectionsFilter,
  cursor: z.string().nullish(),
  limit: z.number().int('must be an integer').positive('must be a positive integer').optional(),
  view: viewRequest.optional(),
  schemaVersion: schemaVersion.nullish(),
});
export type FullInput = z.input<typeof fullInput>;

/** One document line of a full export (tombstones included, `deleted: true`, `data: null`). */
export const fullDoc = z.object({
  collection: z.string(),
  id: z.string(),
  data: jsonObject.nullable(),
  version: z.string(),
  deleted: z.boolean(),
});
export type FullDoc = z.infer<typeof fullDoc>;

export const fullPage = z.object({
  docs: z.array(fullDoc),
  /** Pass back to get the next page; `null` on the last page. */
  cursor: z.string().nullable(),
  /** Pull from here once every page is read; the same on every page of one export. */
  checkpoint: z.string(),
});
export type FullPage = z.infer<typeof fullPage>;

/** tRPC `sync.stream` input; `lastEventId` is filled in by tRPC clients on reconnect. */
export const streamInput = z.object({
  since: z.string().nullish(),
  collections: collectionsFilter,
  lastEventId: z.string().nullish(),
  view: viewRequest.optional(),
  /**
   * With `view`: also send the view's integrity checksum (docs/protocol.md, "Checksums of a
   * view") on the last page (pull) or the last catch-up event (stream). It costs the server one
   * indexed scan of the view's documents, so clients ask for it now and then, not on every read.
   */
  verifyView: z.boolean().optional(),
  schemaVersion: schemaVersion.nullish(),
});
export type StreamInput = z.input<typeof streamInput>;

export const streamEvent = z.discriminatedUnion('type', [
  /** `checksums`: on the last catch-up event only (see `checksumsField`). */
  z.object({
    type: z.literal('changes'),
    checkpoint: z.string(),
    changes: z.array(changeOut),
    checksums: checksumsField,
  }),
  z.object({ type: z.literal('resync_required'), message: z.string().optional() }),
  z.object({
    type: z.literal('heartbeat'),
    checkpoint: z.string().optional(),
    checksums: checksumsField,
  }),
]);
export type StreamEvent = z.infer<typeof streamEvent>;

export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })),
    /** CLIENT_ID_CONFLICT only: the push's mutation ids the server already holds as these very changes. */
    recorded: z.array(z.number().int()).optional(),
  }),
});

/** The authenticated caller: every read and write is confined to `scopeId`. */
export interface Actor {
  userId: string;
  scopeId: string;
  /**
   * When the credentials behind this actor expire (ms since the epoch, e.g. a JWT's `exp`). After
   * it, requests with this actor answer `UNAUTHORIZED` and live streams end with an UNAUTHORIZED
   * event, so the client refreshes its token and resumes. @default never
   */
  expiresAt?: number;
}
