/**
 * View bookkeeping of one document: which views (subscription keys; `''` for the default request)
 * delivered it, and the key that names a subscription. Pure functions, shared by the replica's
 * apply and sweep steps.
 */
import { canonicalJson } from '../shared/checksum.js';
import type { LocalDoc, ResyncState } from './local-store.js';

/** The default request's view key: unruled collections and the server's default views. */
export const DEFAULT_VIEW = '';

/** Where a page of server changes came from: a view (or the default request) and the rebuild pass under way, if any. */
export interface ViewTarget {
  /** The subscription key, `DEFAULT_VIEW` for the default request. */
  key: string;
  /** The rebuild pass (`ResyncState.mark`) of the view, `''` for an ordinary pull or stream event. */
  pass: string;
  /** A view's rebuild progress, stored in the same write as the page (`null`: none under way). */
  rebuild?: ResyncState | null;
}

/**
 * The subscription key of a rule and its params: the name followed by the canonical JSON of the
 * params (keys sorted), e.g. `project{"projectId":"p1"}`, or the name alone without params. Subscribing twice with equal params in any
 * key order gives the same key, so the same view.
 */
export function viewKey(rule: string, params: Record<string, unknown> | null | undefined): string {
  if (params === null || params === undefined || Object.keys(params).length === 0) return rule;
  return `${rule}${canonicalJson(params)}`;
}

/** The document's views with `key` added (confirmed by `pass`). */
export function withView(
  views: LocalDoc['views'],
  key: string,
  pass: string,
): Record<string, string> {
  return { ...(views ?? {}), [key]: pass };
}

/** The document's views without `key`; `null` when it did not hold `key` (nothing to change). */
export function withoutView(views: LocalDoc['views'], key: string): Record<string, string> | null {
  if (views === undefined || views === null) return null;
  if (!Object.prototype.hasOwnProperty.call(views, key)) return null;
  const rest = { ...views };
  delete rest[key];
  return rest;
}

/** True once a document left every view that delivered it (`{}`): it leaves the device when nothing of it is pending. */
export function leftEveryView(doc: Pick<LocalDoc, 'views'>): boolean {
  return doc.views !== undefined && doc.views !== null && Object.keys(doc.views).length === 0;
}
