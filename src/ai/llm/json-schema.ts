/**
 * JSON Schemas written by applications: `parameters` of gather_using_ai (what to collect) and the
 * parameters of tools. Two questions: is this object a JSON Schema we can use (so the API can
 * answer 422 with a pointer to the bad keyword), and does a value, typically the model's reply,
 * conform to it (so a conversation knows whether its result is `valid`, and can tell the model
 * what to fix).
 *
 * Schemas are draft-07 unless `$schema` names 2019-09 or 2020-12. Unknown keywords (`example`,
 * `x-…`) are allowed, as are unknown formats (ignored); `date`, `time`, `date-time`, `email`,
 * `uri` and `uuid` are checked. References must stay inside the schema.
 */
import { Ajv, MissingRefError } from 'ajv';
import type { AnySchema, ErrorObject, Format, Options, ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';

/** One problem, located by a JSON pointer (RFC 6901) into the schema or the value checked. */
export interface SchemaIssue {
  pointer: string;
  /** What is wrong, in words, without the pointer. */
  message: string;
  /** The JSON Schema keyword involved (`type`, `required`, `$ref`, `$schema`…). */
  keyword: string;
}

export type SchemaCheck = { ok: true } | { ok: false; issues: SchemaIssue[] };

export interface CheckSchemaOptions {
  /** Prefixed to every pointer: where the schema sits in the request (`/parameters`). Default ''. */
  pointer?: string;
  /** Also require the schema to describe an object (a `type` other than `object` is an issue). */
  requireObject?: boolean;
}

type Dialect = 'draft-07' | '2019-09' | '2020-12';

const DIALECTS: Record<string, Dialect> = {
  'http://json-schema.org/draft-07/schema': 'draft-07',
  'https://json-schema.org/draft-07/schema': 'draft-07',
  'https://json-schema.org/draft/2019-09/schema': '2019-09',
  'https://json-schema.org/draft/2020-12/schema': '2020-12',
};

// Simple, permissive checks for the formats a conversation is likely to collect.
const FORMATS: Record<string, Format> = {
  date: (s: string) => isCalendarDate(s),
  time: /^([01]\d|2[0-3]):[0-5]\d(:([0-5]\d|60)(\.\d+)?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?$/i,
  'date-time': (s: string) =>
    /^\d{4}-\d{2}-\d{2}[T ]([01]\d|2[0-3]):[0-5]\d(:([0-5]\d|60)(\.\d+)?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?$/i.test(s) && isCalendarDate(s.slice(0, 10)),
  email: /^[^\s@]+@[^\s@]+\.[^\s@]+$/,
  uri: /^[a-z][a-z0-9+.-]*:[^\s]*$/i,
  uuid: /^(urn:uuid:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
};

/** `YYYY-MM-DD` naming a day that exists (no 30 February). */
function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const AJV_OPTIONS: Options = {
  allErrors: true,
  strict: false,
  logger: false,
  // Application schemas may reuse `$id`s; none should become visible to another request.
  addUsedSchema: false,
  formats: FORMATS,
  validateFormats: true,
};

type AjvInstance = Ajv | Ajv2019 | Ajv2020;
const instances = new Map<Dialect, AjvInstance>();

function ajvFor(dialect: Dialect): AjvInstance {
  let instance = instances.get(dialect);
  if (instance === undefined) {
    instance = dialect === '2020-12' ? new Ajv2020(AJV_OPTIONS) : dialect === '2019-09' ? new Ajv2019(AJV_OPTIONS) : new Ajv(AJV_OPTIONS);
    instances.set(dialect, instance);
  }
  return instance;
}

function dialectOf(schema: Record<string, unknown>): Dialect | undefined {
  const uri = schema.$schema;
  if (uri === undefined) return 'draft-07';
  if (typeof uri !== 'string') return undefined;
  return DIALECTS[uri.replace(/#$/, '')];
}

// Compiled validators by schema text, least recently used first. Ajv keeps every schema it
// compiled until told otherwise, so evicted ones are removed from it too.
const CACHE_SIZE = 64;
const cache = new Map<string, { ajv: AjvInstance; schema: AnySchema; validate: ValidateFunction }>();

/**
 * Whether `schema` is a JSON Schema that can be used: valid against its meta-schema, with
 * resolvable references and compilable patterns. Never throws.
 */
export function checkJsonSchema(schema: unknown, options: CheckSchemaOptions = {}): SchemaCheck {
  const base = options.pointer ?? '';
  const compiled = compileSchema(schema, base);
  if (!compiled.ok) return compiled;
  if (options.requireObject && isRecord(schema)) {
    const type = schema.type;
    const types = Array.isArray(type) ? type : type === undefined ? ['object'] : [type];
    if (!types.includes('object')) {
      return { ok: false, issues: [{ pointer: `${base}/type`, keyword: 'type', message: 'must be "object": the result gathered is an object' }] };
    }
  }
  return { ok: true };
}

/** `parameters` of gather_using_ai: a JSON Schema describing an object; pointers start at `/parameters`. */
export function checkGatherParameters(parameters: unknown): SchemaCheck {
  return checkJsonSchema(parameters, { pointer: '/parameters', requireObject: true });
}

/**
 * Whether `value` conforms to `schema`; issues point into the value (prefixed by
 * `options.pointer`). A schema that is itself unusable gives its issues instead (pointing into
 * the schema), so check it first with `checkJsonSchema` where that distinction matters.
 */
export function validateJson(schema: unknown, value: unknown, options: { pointer?: string } = {}): SchemaCheck {
  const compiled = compileSchema(schema, '');
  if (!compiled.ok) return compiled;
  if (compiled.validate(value)) return { ok: true };
  return { ok: false, issues: valueIssues(compiled.validate.errors ?? [], options.pointer ?? '') };
}

/** Issues as one line, e.g. for telling the model what to correct: `/age: must be >= 0; /name: is required`. */
export function describeIssues(issues: readonly SchemaIssue[]): string {
  return issues.map((issue) => `${issue.pointer === '' ? '(root)' : issue.pointer}: ${issue.message}`).join('; ');
}

type Compiled = { ok: true; validate: ValidateFunction } | { ok: false; issues: SchemaIssue[] };

function compileSchema(schema: unknown, base: string): Compiled {
  if (typeof schema === 'boolean') schema = schema ? {} : { not: {} };
  if (!isRecord(schema)) return fail(base, 'type', 'must be a JSON Schema object');
  let key: string;
  try {
    key = JSON.stringify(schema);
  } catch {
    return fail(base, 'type', 'must be a JSON Schema object (plain JSON)');
  }
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return { ok: true, validate: hit.validate };
  }

  const dialect = dialectOf(schema);
  if (dialect === undefined) {
    return fail(`${base}/$schema`, '$schema', 'names an unsupported JSON Schema version: use draft-07, 2019-09 or 2020-12, or leave $schema out');
  }
  const ajv = ajvFor(dialect);
  // Our own copy: the caller may change theirs, and Ajv keys its cache by object.
  const own = JSON.parse(key) as Record<string, unknown>;
  const meta = ajv.validateSchema(own);
  if (meta !== true) return { ok: false, issues: metaIssues(ajv.errors ?? [], base) };
  const badPattern = findBadPattern(own, '');
  if (badPattern !== undefined) return { ok: false, issues: [{ ...badPattern, pointer: base + badPattern.pointer }] };

  let validate: ValidateFunction;
  try {
    validate = ajv.compile(own);
  } catch (error) {
    ajv.removeSchema(own);
    if (error instanceof MissingRefError) {
      const at = findRef(own, '', error.missingRef) ?? '';
      return fail(base + at, '$ref', `cannot be resolved: "${error.missingRef}" (references must point inside the schema)`);
    }
    return fail(base, 'schema', `cannot be compiled: ${(error as Error).message}`);
  }
  cache.set(key, { ajv, schema: own, validate });
  while (cache.size > CACHE_SIZE) {
    const [oldest, entry] = cache.entries().next().value as [string, { ajv: AjvInstance; schema: AnySchema }];
    cache.delete(oldest);
    entry.ajv.removeSchema(entry.schema);
  }
  return { ok: true, validate };
}

function fail(pointer: string, keyword: string, message: string): { ok: false; issues: SchemaIssue[] } {
  return { ok: false, issues: [{ pointer, keyword, message }] };
}

/**
 * Meta-schema errors, one per location: where an `anyOf` failed (such as `type`, which takes a
 * type name or a list of them), the alternatives' errors at that location become one issue,
 * naming the allowed values when there are some.
 */
function metaIssues(errors: readonly ErrorObject[], base: string): SchemaIssue[] {
  const unionPaths = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  const add = (instancePath: string, text: string): void => {
    let message = text;
    const pointer = base + instancePath;
    message = message.replace(/must be object,boolean/g, 'must be a schema (an object, or true or false)');
    const id = `${pointer}\u0000${message}`;
    if (seen.has(id)) return;
    seen.add(id);
    issues.push({ pointer, keyword: keywordAt(instancePath), message });
  };
  const listed = (values: unknown): string => (Array.isArray(values) ? values : []).map((v) => JSON.stringify(v)).join(', ');
  for (const e of errors) {
    if (unionPaths.has(e.instancePath)) {
      if (seen.has(`union\u0000${e.instancePath}`)) continue;
      seen.add(`union\u0000${e.instancePath}`);
      const here = errors.filter((i) => i.instancePath === e.instancePath && i.keyword !== 'anyOf' && i.keyword !== 'oneOf');
      const choices = here.find((i) => i.keyword === 'enum');
      const others = here.filter((i) => i !== choices).map((i) => i.message ?? 'is invalid');
      if (choices !== undefined) {
        const alternative = others.some((m) => /must be array/.test(m)) ? ', or a list of them' : others.length > 0 ? ` (or: ${others.join('; ')})` : '';
        add(e.instancePath, `must be one of ${listed((choices.params as { allowedValues?: unknown }).allowedValues)}${alternative}`);
      } else {
        add(e.instancePath, here.length > 0 ? [...new Set(here.map((i) => i.message ?? 'is invalid'))].join(', or ') : e.message ?? 'is invalid');
      }
      continue;
    }
    const message = e.keyword === 'enum' ? `must be one of ${listed((e.params as { allowedValues?: unknown }).allowedValues)}` : e.message ?? 'is invalid';
    add(e.instancePath, message);
  }
  return issues;
}

/** The keyword a meta-schema error is about: the last segment of where it points. */
function keywordAt(instancePath: string): string {
  const last = instancePath.split('/').pop() ?? '';
  return last === '' || /^\d+$/.test(last) ? 'schema' : unescapePointer(last);
}

function valueIssues(errors: readonly ErrorObject[], base: string): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  for (const e of errors) {
    const at = base + e.instancePath;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        issues.push({ pointer: `${at}/${escapePointer(String(params.missingProperty))}`, keyword: 'required', message: 'is required' });
        break;
      case 'additionalProperties':
        issues.push({ pointer: `${at}/${escapePointer(String(params.additionalProperty))}`, keyword: 'additionalProperties', message: 'is not allowed' });
        break;
      case 'enum':
        issues.push({ pointer: at, keyword: 'enum', message: `must be one of ${((params.allowedValues as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(', ')}` });
        break;
      case 'if':
        // Reported by the failing `then`/`else` keywords themselves.
        break;
      default:
        issues.push({ pointer: at, keyword: e.keyword, message: e.message ?? 'is invalid' });
    }
  }
  return issues;
}

/** Ajv compiles `pattern`s with the `u` flag; find one that does not compile before Ajv does. */
function findBadPattern(node: unknown, at: string): SchemaIssue | undefined {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) {
      const found = findBadPattern(item, `${at}/${i}`);
      if (found) return found;
    }
    return undefined;
  }
  if (!isRecord(node)) return undefined;
  for (const [key, value] of Object.entries(node)) {
    const here = `${at}/${escapePointer(key)}`;
    if (key === 'pattern' && typeof value === 'string') {
      try {
        new RegExp(value, 'u');
      } catch (error) {
        return { pointer: here, keyword: 'pattern', message: `is not a valid regular expression: ${(error as Error).message}` };
      }
    }
    if (key === 'patternProperties' && isRecord(value)) {
      for (const [pattern, sub] of Object.entries(value)) {
        const subAt = `${here}/${escapePointer(pattern)}`;
        try {
          new RegExp(pattern, 'u');
        } catch (error) {
          return { pointer: subAt, keyword: 'patternProperties', message: `is not a valid regular expression: ${(error as Error).message}` };
        }
        const found = findBadPattern(sub, subAt);
        if (found) return found;
      }
      continue;
    }
    // `const`, `enum`, `default` and `examples` hold data, not schemas.
    if (['const', 'enum', 'default', 'examples', 'example'].includes(key)) continue;
    const found = findBadPattern(value, here);
    if (found) return found;
  }
  return undefined;
}

/** Pointer to the `$ref` whose value names `ref` (or ends with it), for a resolution failure. */
function findRef(node: unknown, at: string, ref: string): string | undefined {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) {
      const found = findRef(item, `${at}/${i}`, ref);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!isRecord(node)) return undefined;
  for (const [key, value] of Object.entries(node)) {
    const here = `${at}/${escapePointer(key)}`;
    if ((key === '$ref' || key === '$dynamicRef' || key === '$recursiveRef') && typeof value === 'string') {
      if (value === ref || ref.endsWith(value) || value.endsWith(ref.replace(/#$/, ''))) return here;
    }
    const found = findRef(value, here, ref);
    if (found !== undefined) return found;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 6901: `~` and `/` inside a property name. */
export function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
