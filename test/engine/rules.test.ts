/**
 * Read rules without a store (server/engine/rules.ts): what `compileRules` refuses at start-up and
 * what it derives (ruled collections, pre-image fields, store indexes, unindexed rules), the fields
 * a rule may filter on, how `resolveView` answers a view request (400, 403, the writer clause), and
 * which filters `checkFilter` takes.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkFilter,
  compileRules,
  matches,
  resolveView,
  ruleFields,
  WRITER_FIELD,
  writerRules,
  type SyncRule,
  type SyncRules,
} from '../../server/engine/rules.js';
import { SyncError } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';
import { defineSyncSchema } from '../../shared/schema.js';

const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), assignee: z.string().optional() }),
  notes: z.object({ body: z.string() }),
  parts: z.object({ name: z.string() }),
});
const ann: Actor = { userId: 'ann', scopeId: 'acme' } as Actor;

/** The SyncError a promise or function rejects with: code, message and issues. */
async function refusal(
  run: () => unknown,
): Promise<{ code: string; message: string; issues: unknown }> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(SyncError);
    const e = error as SyncError;
    return { code: e.code, message: e.message, issues: e.issues };
  }
  throw new Error('expected a refusal');
}

describe('compileRules', () => {
  it('refuses, naming the rule: a rule that is not an object, an unknown collection, a non-boolean writer, a field that is not a plain name', () => {
    const bad = (rules: unknown) => () => compileRules(rules as SyncRules, schema);
    expect(bad({ r: null })).toThrow('createSyncEngine: rules.r must be an object');
    expect(bad({ r: 'tasks' })).toThrow('createSyncEngine: rules.r must be an object');
    expect(bad({ r: { collection: 'nope' } })).toThrow(
      'createSyncEngine: rules.r names unknown collection "nope"',
    );
    expect(bad({ r: { collection: 'tasks', writer: 'yes' } })).toThrow(
      'createSyncEngine: rules.r.writer must be a boolean',
    );
    for (const field of ['1a', '_sync_deleted', 'a-b', 'a.b', '', 'x'.repeat(64), '$other'])
      expect(bad({ r: { collection: 'tasks', fields: [field] } }), field).toThrow(
        `createSyncEngine: rules.r.fields: "${field}" is not a plain field name`,
      );
    // Plain names up to 63 characters, `_` after the first, and `$writer` are taken.
    expect(() =>
      compileRules(
        { r: { collection: 'tasks', fields: ['a', 'A_1', 'x'.repeat(63), WRITER_FIELD] } },
        schema,
      ),
    ).not.toThrow();
  });

  it('derives the ruled collections, the pre-image fields (null once a rule of the collection declares none), the indexes and the unindexed rules', () => {
    const rules: SyncRules = {
      mine: { collection: 'tasks', fields: ['assignee'] },
      team: { collection: 'tasks', fields: ['team', 'assignee'] },
      own: { collection: 'tasks', writer: true, fields: ['assignee'] },
      anyNote: { collection: 'notes', where: () => ({}) },
      byName: { collection: 'notes', fields: ['body'] },
      writtenParts: { collection: 'parts', writer: true },
    };
    const compiled = compileRules(rules, schema);
    expect([...compiled.ruled].sort()).toEqual(['notes', 'parts', 'tasks']);
    expect(Object.fromEntries(compiled.preImageFields)).toEqual({
      tasks: ['assignee', 'team', WRITER_FIELD],
      notes: null,
      parts: [WRITER_FIELD],
    });
    expect(compiled.indexes).toEqual([
      { collection: 'tasks', fields: [WRITER_FIELD, 'assignee', 'team'] },
      { collection: 'notes', fields: ['body'] },
      { collection: 'parts', fields: [WRITER_FIELD] },
    ]);
    expect(compiled.unindexed).toEqual(['anyNote']);
    // In the other order a collection's pre-images are still whole once any rule declares nothing.
    const reversed = compileRules({ byName: rules.byName!, anyNote: rules.anyNote! }, schema);
    expect(reversed.preImageFields.get('notes')).toBeNull();
    // A collection whose rules declare no fields gets no index; no rules, nothing.
    expect(compileRules({ anyNote: rules.anyNote! }, schema).indexes).toEqual([]);
    expect(compileRules({}, schema)).toMatchObject({ indexes: [], unindexed: [] });
  });
});

describe('ruleFields', () => {
  it('its fields, $writer added once for a writer rule; a writer rule with no fields and no where filters on $writer alone; otherwise any (undefined)', () => {
    const rule = (r: Partial<SyncRule>) => ({ collection: 'tasks', ...r }) as SyncRule;
    expect(ruleFields(rule({ fields: ['a'] }))).toEqual(['a']);
    expect(ruleFields(rule({ fields: ['a'], writer: true }))).toEqual(['a', WRITER_FIELD]);
    expect(ruleFields(rule({ fields: [WRITER_FIELD, 'a'], writer: true }))).toEqual([
      WRITER_FIELD,
      'a',
    ]);
    expect(ruleFields(rule({ writer: true }))).toEqual([WRITER_FIELD]);
    expect(ruleFields(rule({ writer: true, where: () => ({}) }))).toBeUndefined();
    expect(ruleFields(rule({}))).toBeUndefined();
    expect(ruleFields(rule({ where: () => ({}) }))).toBeUndefined();
  });
});

describe('resolveView', () => {
  const compiled = compileRules(
    {
      mine: {
        collection: 'tasks',
        fields: ['assignee'],
        where: async ({ actor }) => ({ assignee: actor.userId }),
      },
      project: {
        collection: 'tasks',
        fields: ['projectId'],
        params: z.object({ projectId: z.string() }),
        where: ({ params }) => ({ projectId: params.projectId }),
        allow: ({ params }) =>
          params.projectId === 'one' ? (1 as unknown as boolean) : params.projectId !== 'secret',
      },
      own: { collection: 'parts', writer: true },
      ownAnd: {
        collection: 'parts',
        writer: true,
        fields: ['name'],
        where: () => ({ name: 'bolt' }),
      },
    },
    schema,
  );

  it('resolves a declared rule with its params to its collection and filter; a writer rule adds $writer', async () => {
    expect(await resolveView(compiled, ann, { rule: 'mine' })).toEqual({
      rule: 'mine',
      collection: 'tasks',
      filter: { assignee: 'ann' },
    });
    expect(await resolveView(compiled, ann, { rule: 'mine', params: {} })).toMatchObject({
      filter: { assignee: 'ann' },
    });
    expect(
      await resolveView(compiled, ann, { rule: 'project', params: { projectId: 'p1' } }),
    ).toEqual({ rule: 'project', collection: 'tasks', filter: { projectId: 'p1' } });
    expect((await resolveView(compiled, ann, { rule: 'own' })).filter).toEqual({
      [WRITER_FIELD]: 'ann',
    });
    expect((await resolveView(compiled, ann, { rule: 'ownAnd' })).filter).toEqual({
      name: 'bolt',
      [WRITER_FIELD]: 'ann',
    });
  });

  it('an undeclared rule is 400 on view.rule (names on Object.prototype included)', async () => {
    for (const rule of ['nope', 'toString', '__proto__', 'constructor'])
      expect(await refusal(() => resolveView(compiled, ann, { rule }))).toEqual({
        code: 'BAD_REQUEST',
        message: `unknown view rule "${rule}"`,
        issues: [{ path: 'view.rule', message: `no rule named "${rule}" is declared` }],
      });
  });

  it('bad params are 400 naming view.params.<path>; params for a rule without any are 400 on view.params', async () => {
    const bad = await refusal(() =>
      resolveView(compiled, ann, { rule: 'project', params: { projectId: 3 } }),
    );
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.message).toMatch(/^invalid params for view "project": view\.params\.projectId: /);
    expect((bad.issues as { path: string }[])[0]!.path).toBe('view.params.projectId');
    const missing = await refusal(() => resolveView(compiled, ann, { rule: 'project' }));
    expect((missing.issues as { path: string }[])[0]!.path).toBe('view.params.projectId');
    for (const params of [{ a: 1 }, 'x', 3])
      expect(
        await refusal(() => resolveView(compiled, ann, { rule: 'mine', params })),
        String(params),
      ).toEqual({
        code: 'BAD_REQUEST',
        message: 'view "mine" takes no params',
        issues: [{ path: 'view.params', message: 'this rule takes no params' }],
      });
  });

  it('allow false, or anything but true, is 403 on view.rule', async () => {
    const forbidden = {
      code: 'FORBIDDEN',
      message: 'view "project" is not allowed for this user',
      issues: [{ path: 'view.rule', message: 'not allowed' }],
    };
    for (const projectId of ['secret', 'one'])
      expect(
        await refusal(() => resolveView(compiled, ann, { rule: 'project', params: { projectId } })),
      ).toEqual(forbidden);
  });
});

describe('checkFilter', () => {
  const declared = { collection: 'tasks', fields: ['assignee', 'n'] } as SyncRule;
  const open = { collection: 'tasks' } as SyncRule;
  const refusedWith = (rule: SyncRule, filter: unknown) => {
    try {
      checkFilter('r', rule, filter);
    } catch (error) {
      const e = error as SyncError;
      expect(e).toBeInstanceOf(SyncError);
      expect(e.code).toBe('INTERNAL');
      expect(e.issues).toEqual([
        { path: 'view.rule', message: e.message.replace('rule "r": ', '') },
      ]);
      return e.message;
    }
    return null;
  };

  it('takes scalars and { in: scalars } on declared fields', () => {
    for (const value of [
      null,
      '',
      'ann',
      true,
      false,
      0,
      -1.5,
      { in: [] },
      { in: ['a', 1, null, true] },
    ])
      expect(refusedWith(declared, { assignee: value }), JSON.stringify(value)).toBeNull();
    expect(refusedWith(declared, {})).toBeNull();
    expect(refusedWith(open, { anything_1: 'x' })).toBeNull();
    expect(
      refusedWith({ collection: 'parts', writer: true } as SyncRule, { [WRITER_FIELD]: 'ann' }),
    ).toBeNull();
  });

  it('refuses a where answer that is not an object, an undeclared or unsafe field, and any other value', () => {
    for (const filter of ['x', null, undefined, 3, ['assignee']])
      expect(refusedWith(declared, filter), String(filter)).toBe(
        'rule "r": where must return an object',
      );
    expect(refusedWith(declared, { other: 'x' })).toBe(
      'rule "r": filter on undeclared field "other" (declare it in fields)',
    );
    expect(refusedWith(open, { 'a-b': 'x' })).toBe('rule "r": "a-b" is not a plain field name');
    expect(refusedWith(open, { $other: 'x' })).toBe('rule "r": "$other" is not a plain field name');
    for (const value of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      undefined,
      {},
      [],
      ['a'],
      { in: 'a' },
      { in: ['a'], also: 1 },
      { in: [{}] },
      { in: [Number.NaN] },
      { in: [undefined] },
      { eq: 'a' },
      () => 'a',
    ])
      expect(refusedWith(declared, { assignee: value }), String(value)).toBe(
        'rule "r": filter value of "assignee" must be a scalar or { in: scalar[] }',
      );
  });
});

describe('matches', () => {
  it('no data never matches; only the filter’s own fields count', () => {
    expect(matches({}, null)).toBe(false);
    expect(matches({}, undefined)).toBe(false);
    expect(matches({}, {})).toBe(true);
    const inherited = Object.create({ assignee: 'bob' }) as Record<string, string>;
    expect(matches(inherited, { assignee: 'ann' })).toBe(true);
    // A document's inherited properties are not its fields either.
    expect(matches({ assignee: null }, Object.create({ assignee: 'x' }))).toBe(true);
    expect(matches({ [WRITER_FIELD]: 'ann' }, { title: 'x' }, 'ann')).toBe(true);
    expect(matches({ [WRITER_FIELD]: 'ann' }, { title: 'x', [WRITER_FIELD]: 'ann' }, 'bob')).toBe(
      false,
    );
    expect(matches({ [WRITER_FIELD]: 'ann' }, { title: 'x' })).toBe(false);
  });
});

describe('writerRules', () => {
  it('one writer rule per collection of the schema, named writer:<collection>', () => {
    expect(writerRules(schema)).toEqual({
      'writer:tasks': { collection: 'tasks', writer: true },
      'writer:notes': { collection: 'notes', writer: true },
      'writer:parts': { collection: 'parts', writer: true },
    });
  });
});
