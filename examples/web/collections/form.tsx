/**
 * A document editor built from a collection's JSON Schema: a text, number or checkbox input per
 * simple field, JSON for the rest.
 */
import { useState, type FormEvent } from 'react';
import type { JsonSchema } from './connect.js';

type Kind = 'string' | 'number' | 'integer' | 'boolean' | 'json';

const kindOf = (field: JsonSchema): Kind => {
  const type = Array.isArray(field.type) ? field.type.find((t) => t !== 'null') : field.type;
  return type === 'string' || type === 'number' || type === 'integer' || type === 'boolean'
    ? type
    : 'json';
};

/** The form's text for a value (JSON for objects and arrays). */
const show = (kind: Kind, value: unknown): string | boolean =>
  kind === 'boolean'
    ? value === true
    : value === undefined || value === null
      ? ''
      : kind === 'json'
        ? JSON.stringify(value)
        : String(value);

/**
 * A field's text back to a value; `undefined` leaves an empty optional field out; a string is an
 * error message.
 */
function read(kind: Kind, text: string | boolean): { value: unknown } | { error: string } {
  if (kind === 'boolean') return { value: text === true };
  const t = String(text);
  if (t.trim() === '') return { value: undefined };
  if (kind === 'string') return { value: t };
  if (kind === 'json') {
    try {
      return { value: JSON.parse(t) as unknown };
    } catch {
      return { error: 'not valid JSON' };
    }
  }
  const n = Number(t);
  return Number.isFinite(n) && (kind === 'number' || Number.isInteger(n))
    ? { value: n }
    : { error: kind === 'integer' ? 'a whole number' : 'a number' };
}

/** Props of `DocForm`. */
export interface DocFormProps {
  schema: JsonSchema;
  /** The document being edited; absent: a new one. */
  id?: string;
  doc?: Record<string, unknown>;
  /** Writes the document; answers the local validation issues, if any. */
  onSave: (id: string, doc: Record<string, unknown>) => Promise<string | null>;
  onCancel?: () => void;
}

export function DocForm({ schema, id, doc, onSave, onCancel }: DocFormProps) {
  const fields = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const [docId, setDocId] = useState(id ?? '');
  const [values, setValues] = useState<Record<string, string | boolean>>(() =>
    Object.fromEntries(
      fields.map(([name, field]) => [name, show(kindOf(field), doc ? doc[name] : field.default)]),
    ),
  );
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const data: Record<string, unknown> = {};
    for (const [name, field] of fields) {
      const got = read(kindOf(field), values[name] ?? '');
      if ('error' in got) return setProblem(`${name}: ${got.error}`);
      if (got.value !== undefined) data[name] = got.value;
    }
    const issues = await onSave(docId.trim() || crypto.randomUUID(), data);
    setProblem(issues);
    if (!issues && !id) {
      setDocId('');
      setValues(
        Object.fromEntries(
          fields.map(([name, field]) => [name, show(kindOf(field), field.default)]),
        ),
      );
    }
  };
  return (
    <form
      className="doc-form"
      onSubmit={(e) => void submit(e)}
      data-testid={id ? 'edit-form' : 'new-form'}
    >
      {id ? null : (
        <label>
          <span>id</span>
          <input
            aria-label="id"
            placeholder="(generated)"
            value={docId}
            onChange={(e) => setDocId(e.target.value)}
          />
        </label>
      )}
      {fields.map(([name, field]) => {
        const kind = kindOf(field);
        const label = `${name}${required.has(name) ? '' : ' (optional)'}`;
        return (
          <label key={name} className={kind === 'boolean' ? 'check' : ''}>
            <span>{label}</span>
            {kind === 'boolean' ? (
              <input
                type="checkbox"
                aria-label={name}
                checked={values[name] === true}
                onChange={(e) => setValues({ ...values, [name]: e.target.checked })}
              />
            ) : (
              <input
                aria-label={name}
                inputMode={kind === 'number' || kind === 'integer' ? 'decimal' : undefined}
                placeholder={kind === 'json' ? 'JSON' : kind}
                value={String(values[name] ?? '')}
                onChange={(e) => setValues({ ...values, [name]: e.target.value })}
              />
            )}
          </label>
        );
      })}
      {problem ? (
        <p className="problem" role="alert">
          {problem}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit">{id ? 'Save' : 'Add'}</button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
