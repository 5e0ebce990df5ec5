/**
 * Checking answers and results against the caller's JSON Schema with Ajv.
 *
 * The schema comes from an API request, so Ajv is lenient about it (unknown keywords and
 * formats are ignored, `$schema` is dropped: the default Ajv speaks draft-07, which the usual
 * form schemas are). `date` and `email` formats are checked here, since this project does not
 * depend on ajv-formats. Each schema is compiled from a private copy that is removed from Ajv's
 * cache at once: requests bring new schema objects all the time, and Ajv would keep every one.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { isoDate } from './dates.js';
import { isPlainEmail } from './email.js';
import type { JsonSchemaObject } from './fields.js';

const ajv = new Ajv({ strict: false, logger: false, allErrors: true, coerceTypes: false, useDefaults: false });
ajv.addFormat('date', {
  type: 'string',
  validate: (text: string) => {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    return match !== null && isoDate(Number(match[1]), Number(match[2]), Number(match[3])) !== null;
  },
});
ajv.addFormat('email', { type: 'string', validate: (text: string) => isPlainEmail(text.toLowerCase()) });

export type Check = (value: unknown) => { ok: true } | { ok: false; errors: string[] };

function describe(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath === '' ? '(result)' : e.instancePath} ${e.message ?? 'is invalid'}`);
}

/** Recently compiled checks by schema text: the same form is usually run call after call. */
const recent = new Map<string, Check>();
const RECENT_LIMIT = 64;

/** A check for `schema`; throws when Ajv cannot compile it. */
export function compileCheck(schema: JsonSchemaObject): Check {
  const key = JSON.stringify(schema);
  const known = recent.get(key);
  if (known !== undefined) {
    recent.delete(key);
    recent.set(key, known);
    return known;
  }
  const check = compileFresh(schema);
  recent.set(key, check);
  if (recent.size > RECENT_LIMIT) recent.delete(recent.keys().next().value as string);
  return check;
}

function compileFresh(schema: JsonSchemaObject): Check {
  const copy = structuredClone(schema);
  delete copy['$schema'];
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(copy);
  } finally {
    ajv.removeSchema(copy);
  }
  return (value) => (validate(value) ? { ok: true } : { ok: false, errors: describe(validate.errors) });
}

/**
 * A check for one property of `root`, with the root's definitions in reach of its `$ref`s;
 * one that accepts everything when the property cannot be compiled on its own (the whole
 * result is still checked at the end).
 */
export function compilePropertyCheck(root: JsonSchemaObject, property: JsonSchemaObject): Check {
  const shared: JsonSchemaObject = {};
  for (const key of ['definitions', '$defs']) if (key in root) shared[key] = root[key];
  try {
    return compileCheck({ ...shared, ...property });
  } catch {
    return () => ({ ok: true });
  }
}
