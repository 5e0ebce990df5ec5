/**
 * Request validation: Ajv over the schema catalogue, with every Ajv error turned into exactly one
 * Telnyx-shaped error item (anyOf failures collapse to one item for the field).
 *
 * Unknown top-level fields are rejected by default (422, "Unknown parameter"). That is safe for
 * SDK users because every field telnyx 7.24.0 can send is declared, including the SDK-only ones
 * the OpenAPI snapshot lacks (dial route_to_mobile/diversion, ai_assistant_add_messages
 * trigger_response), and it turns a misspelt `client_state` into an error instead of silence.
 * A deployment facing newer clients can pass `unknownFields: 'strip'` to drop them instead.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { errors as apiErrors, fieldError } from '../errors.js';
import type { ErrorItem } from '../errors.js';
import { hasAction, requestSchemas } from './catalogue.js';
import type { RequestSchema, SchemaName } from './catalogue.js';
import { isBase64 } from './common.js';
import type { JsonSchema } from './common.js';

export type ValidationResult =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; errors: ErrorItem[] };

export interface ValidateOptions {
  /** 'reject' (default): 422 per unknown top-level field. 'strip': drop them from the returned copy. */
  unknownFields?: 'reject' | 'strip';
}

const ajv = new Ajv({
  allErrors: true,
  // parentSchema on each error lets us word range and pattern failures from the schema itself.
  verbose: true,
  strict: true,
  strictTypes: false,
  // if/then branches require fields that are declared on the enclosing schema, not in the branch.
  strictRequired: false,
  allowUnionTypes: true,
  useDefaults: false,
  coerceTypes: false,
});
ajv.addKeyword({ keyword: 'x-detail', schemaType: 'string' });
ajv.addFormat('base64', { type: 'string', validate: isBase64 });

interface Compiled extends RequestSchema {
  check: ValidateFunction;
}

const compiled = new Map<string, Compiled>(
  Object.entries(requestSchemas).map(([name, entry]) => [name, { ...entry, check: ajv.compile(entry.schema) }]),
);

/**
 * Checks `body` against the named schema. On success `value` is a copy of the body with the
 * schema's top-level defaults filled in; the caller's object is never touched. An absent body
 * (`undefined`) counts as `{}`, because the SDK sends no body for parameterless calls.
 */
export function validateRequest(name: SchemaName, body: unknown, options: ValidateOptions = {}): ValidationResult {
  const entry = compiled.get(name);
  if (!entry) throw new Error(`No request schema named '${name}'`);
  const input = body === undefined ? {} : body;
  if (!isPlainObject(input)) return { ok: false, errors: [fieldError.type('', 'object')] };

  const value = structuredClone(input);
  // SDKs that serialise every field send `"language": null` for what the caller did not set: an
  // explicit null means "not given" unless the field itself may be null.
  const properties = entry.schema.properties ?? {};
  for (const [key, field] of Object.entries(value)) {
    if (field === null && !acceptsNull(properties[key])) delete value[key];
  }
  if (options.unknownFields === 'strip') {
    const known = entry.schema.properties ?? {};
    for (const key of Object.keys(value)) if (!Object.hasOwn(known, key)) delete value[key];
  }
  if (!entry.check(value)) return { ok: false, errors: toErrorItems(entry.check.errors ?? []) };

  for (const [key, dflt] of Object.entries(entry.defaults)) {
    if (!Object.hasOwn(value, key)) value[key] = structuredClone(dflt);
  }
  return { ok: true, value };
}

/** What the HTTP routes consume (structurally the RequestValidator of src/api/validation.ts). */
export interface SchemaRequestValidator {
  hasAction(name: string, method: 'POST' | 'PUT'): boolean;
  /** The checked copy with defaults; throws the 422 ApiError listing every bad field. */
  validate(schemaName: string, body: unknown): Record<string, unknown>;
}

export function createRequestValidator(options: ValidateOptions = {}): SchemaRequestValidator {
  return {
    hasAction,
    validate(schemaName: string, body: unknown): Record<string, unknown> {
      if (!Object.hasOwn(requestSchemas, schemaName)) throw new Error(`No request schema named '${schemaName}'`);
      const result = validateRequest(schemaName as SchemaName, body, options);
      if (!result.ok) throw apiErrors.validation(result.errors);
      return result.value;
    },
  };
}

function acceptsNull(schema: unknown): boolean {
  if (!isPlainObject(schema)) return false;
  const type = schema['type'];
  if (type === 'null' || (Array.isArray(type) && type.includes('null')) || schema['nullable'] === true) return true;
  return ['anyOf', 'oneOf'].some((k) => Array.isArray(schema[k]) && (schema[k] as unknown[]).some(acceptsNull));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Maps Ajv errors to error items: one each, except a failed anyOf/oneOf, which yields one for its field. */
export function toErrorItems(list: readonly ErrorObject[], fallbackDetail?: string): ErrorItem[] {
  const unions = list.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const outermost = unions.filter((u) => !unions.some((o) => o !== u && isUnder(u, o)));
  const claimed = new Set<ErrorObject>();
  const replaced = new Map<ErrorObject, ErrorItem[]>();
  for (const union of outermost) {
    const inner = list.filter((e) => isUnder(e, union));
    for (const e of inner) claimed.add(e);
    replaced.set(union, collapseUnion(union, inner));
  }

  // A value of the wrong type also fails its enum; the type error alone says what is wrong.
  const wrongType = new Set(list.filter((e) => e.keyword === 'type' && !claimed.has(e)).map((e) => e.instancePath));
  const redundant = (e: ErrorObject) => (e.keyword === 'enum' || e.keyword === 'const') && wrongType.has(e.instancePath);

  const items: ErrorItem[] = [];
  for (const e of list) {
    const replacement = replaced.get(e);
    if (replacement) items.push(...replacement);
    else if (!claimed.has(e) && !redundant(e)) {
      const item = toErrorItem(e, fallbackDetail);
      if (item) items.push(item);
    }
  }
  return items;
}

function isUnder(e: ErrorObject, parent: ErrorObject): boolean {
  return e.schemaPath.startsWith(`${parent.schemaPath}/`);
}

/**
 * Reports the branch whose JSON type fits the value (so `loop: 0` says "out of range" rather
 * than "must be a string"); if no branch fits, one type error naming every accepted type.
 */
function collapseUnion(union: ErrorObject, inner: ErrorObject[]): ErrorItem[] {
  const pointer = union.instancePath;
  const branches = Array.isArray(union.schema) ? (union.schema as JsonSchema[]) : [];
  const detail = detailOf(union) ?? undefined;
  for (let i = 0; i < branches.length; i++) {
    const own = inner.filter((e) => e.schemaPath.startsWith(`${union.schemaPath}/${i}/`));
    const wrongType = own.some((e) => e.keyword === 'type' && e.instancePath === pointer);
    if (wrongType) continue;
    if (own.length === 0) return [fieldError.invalid(pointer, detail ?? 'The value matches more than one accepted form.')];
    return toErrorItems(own, detail);
  }
  const names = [...new Set(branches.flatMap(typeNames))];
  return [fieldError.type(pointer, names.length > 0 ? names.join(' or ') : 'a supported type')];
}

function typeNames(schema: JsonSchema): string[] {
  const types = schema.type === undefined ? [] : [schema.type].flat();
  const itemType = schema.items?.type;
  return types.map((t) => (t === 'array' && typeof itemType === 'string' ? `array of ${itemType}s` : t));
}

function toErrorItem(e: ErrorObject, fallbackDetail?: string): ErrorItem | null {
  const at = e.instancePath;
  const detail = detailOf(e) ?? fallbackDetail;
  const param = (key: string): unknown => (e.params as Record<string, unknown>)[key];
  switch (e.keyword) {
    case 'required': {
      const name = String(param('missingProperty'));
      return fieldError.missing(`${at}/${escapePointer(name)}`, name);
    }
    case 'additionalProperties': {
      const name = String(param('additionalProperty'));
      return fieldError.unknownField(`${at}/${escapePointer(name)}`, name);
    }
    case 'enum': {
      const allowed = param('allowedValues');
      return fieldError.enumValue(at, Array.isArray(allowed) ? allowed : []);
    }
    case 'const':
      return fieldError.enumValue(at, [param('allowedValue')]);
    case 'type': {
      const t = param('type');
      return fieldError.type(at, Array.isArray(t) ? t.join(' or ') : String(t));
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return fieldError.range(at, detail ?? boundsDetail(e, 'minimum', 'maximum', 'The value must be', ''));
    case 'minLength':
    case 'maxLength':
      return fieldError.range(at, detail ?? boundsDetail(e, 'minLength', 'maxLength', 'The value must be', ' characters long'));
    case 'minItems':
    case 'maxItems':
      return fieldError.range(at, detail ?? boundsDetail(e, 'minItems', 'maxItems', 'The list must have', ' items'));
    case 'format':
      return param('format') === 'base64' ? fieldError.base64(at) : fieldError.invalid(at, detail ?? `The value ${e.message ?? 'is invalid'}.`);
    case 'pattern':
      return fieldError.invalid(at, detail ?? 'The value does not have the expected format.');
    case 'if':
      // An if/then failure is already reported by the `then` keywords that failed.
      return null;
    default:
      return fieldError.invalid(at, detail ?? `The value ${e.message ?? 'is invalid'}.`);
  }
}

function detailOf(e: ErrorObject): string | undefined {
  const parent = e.parentSchema as JsonSchema | undefined;
  return parent?.['x-detail'];
}

function boundsDetail(
  e: ErrorObject,
  minKey: 'minimum' | 'minLength' | 'minItems',
  maxKey: 'maximum' | 'maxLength' | 'maxItems',
  lead: string,
  unit: string,
): string {
  const parent = (e.parentSchema ?? {}) as JsonSchema;
  const min = parent[minKey];
  const max = parent[maxKey];
  if (min !== undefined && max !== undefined) return `${lead} between ${min} and ${max}${unit}.`;
  const one = (n: number) => (n === 1 ? unit.replace(/s( long)?$/, '$1') : unit);
  if (min !== undefined) return `${lead} at least ${min}${one(min)}.`;
  if (max !== undefined) return `${lead} at most ${max}${one(max)}.`;
  return `The value ${e.message ?? 'is out of range'}.`;
}

/** RFC 6901: a property name inside a JSON pointer escapes `~` and `/`. */
function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}
