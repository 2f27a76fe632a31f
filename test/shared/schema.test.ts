// defineSyncSchema on its own: the checks at definition, names, and the document and patch parsers
// the engine and the client both validate with.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSyncSchema } from '../../shared/schema.js';

const schema = defineSyncSchema(
  {
    tasks: z.object({
      title: z.string(),
      done: z.boolean().default(false),
      note: z.string().optional(),
      due: z.string().nullable(),
    }),
    notes: z.object({ body: z.string() }),
  },
  { version: 2 },
);

describe('defineSyncSchema', () => {
  it('keeps the collections and version; names sorted; has() only own collections', () => {
    expect(schema.version).toBe(2);
    expect(schema.names).toEqual(['notes', 'tasks']);
    expect(schema.has('tasks')).toBe(true);
    expect(schema.has('cats')).toBe(false);
    expect(schema.has('toString')).toBe(false);
    expect(schema.has('__proto__')).toBe(false);
    expect(defineSyncSchema({ a: z.object({}) }).version).toBeUndefined();
  });

  it('refuses a version that is not a positive safe integer', () => {
    for (const bad of [0, -1, 1.5, 2 ** 53, Number.NaN])
      expect(() => defineSyncSchema({ a: z.object({}) }, { version: bad })).toThrow(
        `defineSyncSchema: version must be a positive integer, got ${String(bad)}`,
      );
    expect(defineSyncSchema({ a: z.object({}) }, { version: 1 }).version).toBe(1);
  });

  it('refuses a bad collection name or a collection that is not a z.object', () => {
    expect(() => defineSyncSchema({ 'bad name!': z.object({}) })).toThrow(
      /^defineSyncSchema: collection name "bad name!" /,
    );
    expect(() => defineSyncSchema({ a: z.string() as never })).toThrow(
      'defineSyncSchema: collection "a" must be a z.object(...)',
    );
  });
});

describe('parseDocument', () => {
  it('parses with defaults; a reserved field name or a bad value is an issue with its path', () => {
    expect(schema.parseDocument('tasks', { title: 'a', due: null })).toEqual({
      ok: true,
      data: { title: 'a', done: false, due: null },
    });
    expect(schema.parseDocument('tasks', { title: 'a', due: null, _sync_x: 1 })).toEqual({
      ok: false,
      issues: [{ path: '_sync_x', message: 'field names starting with _sync_ are reserved' }],
    });
    const bad = schema.parseDocument('tasks', { title: 3, due: null });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues.map((i) => i.path)).toEqual(['title']);
    // Not an object: zod's own issue at the root (no reserved-name check on it).
    expect(schema.parseDocument('notes', null)).toEqual({
      ok: false,
      issues: [{ path: '', message: 'Invalid input: expected object, received null' }],
    });
    for (const notObject of [null, 'x', 3])
      expect(schema.parseDocument('notes', notObject).ok).toBe(false);
  });
});

describe('parsePatch', () => {
  it('keeps only the given fields (no defaults added), parsed', () => {
    expect(schema.parsePatch('tasks', { title: 'b' })).toEqual({ ok: true, data: { title: 'b' } });
    expect(schema.parsePatch('tasks', {})).toEqual({ ok: true, data: {} });
  });

  it('null removes an optional field, sets a nullable one, and is refused for a required one', () => {
    expect(schema.parsePatch('tasks', { note: null })).toEqual({ ok: true, data: { note: null } });
    // A field with a default may be removed too (the default applies again on the next full parse).
    expect(schema.parsePatch('tasks', { done: null })).toEqual({ ok: true, data: { done: null } });
    expect(schema.parsePatch('tasks', { due: null })).toEqual({ ok: true, data: { due: null } });
    expect(schema.parsePatch('tasks', { title: null })).toEqual({
      ok: false,
      issues: [{ path: 'title', message: 'a required field cannot be removed (null)' }],
    });
  });

  it('null for a field the schema does not know is dropped; a non-null unknown one is as zod says', () => {
    expect(schema.parsePatch('notes', { extra: null })).toEqual({ ok: true, data: {} });
  });

  it('reports every issue: a required removal and a bad value together; reserved names first and alone', () => {
    const r = schema.parsePatch('tasks', { title: null, done: 'yes' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(['title', 'done']);
    expect(schema.parsePatch('tasks', { _sync_v: 1, title: null })).toEqual({
      ok: false,
      issues: [{ path: '_sync_v', message: 'field names starting with _sync_ are reserved' }],
    });
  });
});
