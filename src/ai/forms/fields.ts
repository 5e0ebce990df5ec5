/**
 * The fields of a form, from the JSON Schema of `gather_using_ai`'s `parameters`: an object
 * schema whose properties are what to collect.
 *
 * Which fields are asked: the required ones, in the order the properties are declared (a
 * required name with no property comes last, as free text). Optional properties are asked too
 * when the schema requires nothing at all (a form that asks nothing is of no use), or when the
 * caller passes `ask: 'all'`; an optional field can be skipped ("skip", "I don't know") and is
 * left out when not understood.
 *
 * What a field holds follows its schema: `enum`/`const` → one of the values; `integer`,
 * `number`, `boolean`; strings with `format: date` → ISO date, `format: email` → an address, a
 * `pattern` that accepts digits only → a digit string (phone numbers, PINs, ZIP codes), any other
 * string → free text. Objects and arrays cannot be collected by voice here: they are not asked,
 * and a required one makes the result invalid.
 */

export type JsonSchemaObject = Record<string, unknown>;

export type FieldKind = 'integer' | 'number' | 'boolean' | 'choice' | 'date' | 'email' | 'digits' | 'text' | 'unsupported';

export interface FormField {
  /** The property name, as it appears in the result. */
  name: string;
  required: boolean;
  kind: FieldKind;
  /** The property's own schema (`{}` for a required name without a property). */
  schema: JsonSchemaObject;
  /** The property's `description`, trimmed; absent when it has none. */
  description?: string;
  /** For `choice`: the allowed values, as in the schema. */
  choices?: readonly unknown[];
}

export type FormErrorCode = 'invalid_schema' | 'unsupported_language';

/** A form that cannot be run: the request should be refused (422) rather than started. */
export class FormError extends Error {
  override readonly name = 'FormError';

  constructor(readonly code: FormErrorCode, message: string) {
    super(message);
  }
}

export interface FieldOptions {
  /** `required` (default): required properties only, or all of them when none is required. `all`: every property. */
  ask?: 'required' | 'all';
}

function isObject(value: unknown): value is JsonSchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mainType(schema: JsonSchemaObject): string | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((t): t is string => typeof t === 'string' && t !== 'null');
  return undefined;
}

/** Whether a `pattern` accepts strings of digits (an optional leading +) and rejects letters. */
export function isDigitPattern(pattern: unknown): boolean {
  if (typeof pattern !== 'string') return false;
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'u');
  } catch {
    return false;
  }
  if (regex.test('abcdefghij') || regex.test('hello world')) return false;
  const sample = '1234567890'.repeat(3);
  for (let length = 1; length <= 20; length++) {
    const digits = sample.slice(0, length);
    if (regex.test(digits) || regex.test(`+${digits}`)) return true;
  }
  return false;
}

/** The kind of value a property schema describes. */
export function fieldKind(schema: JsonSchemaObject): FieldKind {
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return 'choice';
  if ('const' in schema) return 'choice';
  const type = mainType(schema);
  switch (type) {
    case 'integer': case 'number': case 'boolean':
      return type;
    case 'object': case 'array': case 'null':
      return 'unsupported';
    default:
      break;
  }
  if (type === undefined) {
    for (const key of ['anyOf', 'oneOf']) {
      const branches = schema[key];
      if (Array.isArray(branches)) {
        const branch = branches.find((b) => isObject(b) && fieldKind(b) !== 'unsupported');
        if (isObject(branch)) return fieldKind(branch);
      }
    }
  }
  const format = schema['format'];
  if (format === 'date') return 'date';
  if (format === 'email' || format === 'idn-email') return 'email';
  if (isDigitPattern(schema['pattern'])) return 'digits';
  return 'text';
}

function choicesOf(schema: JsonSchemaObject): readonly unknown[] | undefined {
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'];
  if ('const' in schema) return [schema['const']];
  return undefined;
}

/**
 * The fields to ask, in order. Throws a `FormError` when `parameters` is not an object schema
 * with properties.
 */
export function formFields(parameters: unknown, options: FieldOptions = {}): FormField[] {
  if (!isObject(parameters)) throw new FormError('invalid_schema', 'parameters must be a JSON Schema object');
  const type = parameters['type'];
  if (type !== undefined && type !== 'object') throw new FormError('invalid_schema', 'parameters must describe an object (type "object")');
  const properties = parameters['properties'] ?? {};
  if (!isObject(properties)) throw new FormError('invalid_schema', 'parameters.properties must be an object');
  const requiredList = parameters['required'] ?? [];
  if (!Array.isArray(requiredList) || !requiredList.every((r) => typeof r === 'string')) {
    throw new FormError('invalid_schema', 'parameters.required must be an array of property names');
  }
  const required = new Set<string>(requiredList);
  const askAll = options.ask === 'all' || required.size === 0;
  const names = [...Object.keys(properties), ...[...required].filter((name) => !(name in properties))];
  const fields: FormField[] = [];
  for (const name of names) {
    const isRequired = required.has(name);
    if (!isRequired && !askAll) continue;
    const raw = properties[name] ?? {};
    if (!isObject(raw) && typeof raw !== 'boolean') {
      throw new FormError('invalid_schema', `parameters.properties.${name} must be a JSON Schema`);
    }
    const schema = isObject(raw) ? raw : {};
    const description = typeof schema['description'] === 'string' && schema['description'].trim() !== '' ? schema['description'].trim() : undefined;
    const choices = choicesOf(schema);
    fields.push({
      name,
      required: isRequired,
      kind: fieldKind(schema),
      schema,
      ...(description === undefined ? {} : { description }),
      ...(choices === undefined ? {} : { choices }),
    });
  }
  if (fields.length === 0) throw new FormError('invalid_schema', 'parameters has no properties to gather');
  return fields;
}
