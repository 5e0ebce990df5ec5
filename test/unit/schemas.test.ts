/**
 * Our request schemas against the Telnyx OpenAPI spec and the telnyx 7.24.0 SDK param types:
 * same fields, required lists, JSON types, enums, limits and defaults, plus accept/reject cases
 * generated from the spec and run through the real validator.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parse } from 'yaml';
import {
  actionNames, actionSchemas, aiSdkOnlyFields, describedEnums, dialSdkOnlyFields, requestSchemas, validateRequest,
} from '../../src/api/schemas/index.js';
import type { JsonSchema, SchemaName } from '../../src/api/schemas/index.js';

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

const SPEC_URL = new URL('../../../shared/telnyx/openapi/voice-api.yml', import.meta.url);
const spec: unknown = parse(readFileSync(SPEC_URL, 'utf8'));

function lookup(ref: string): Node {
  let cur: unknown = spec;
  for (const key of ref.replace(/^#\//, '').split('/')) cur = isNode(cur) ? cur[key] : undefined;
  assert.ok(isNode(cur), `unresolvable $ref ${ref}`);
  return cur;
}

/** Follows $ref (keeping sibling keywords) and unwraps single-branch oneOf/anyOf wrappers. */
function deref(node: unknown): Node {
  let cur: Node = isNode(node) ? node : {};
  for (let guard = 0; guard < 50; guard++) {
    const { $ref, ...rest } = cur;
    if (typeof $ref === 'string') { cur = { ...lookup($ref), ...rest }; continue; }
    const wrapper = cur['oneOf'] ?? cur['anyOf'];
    if (Array.isArray(wrapper) && wrapper.length === 1 && cur['type'] === undefined) {
      const { oneOf: _o, anyOf: _a, ...others } = cur;
      cur = { ...deref(wrapper[0]), ...others };
      continue;
    }
    return cur;
  }
  throw new Error('$ref cycle');
}

function branches(node: Node): unknown[] | undefined {
  const b = node['oneOf'] ?? node['anyOf'];
  return Array.isArray(b) ? b : undefined;
}

/** The JSON types a schema admits, looking through oneOf/anyOf. */
function jsonTypes(node: unknown): string[] {
  const s = deref(node);
  const own = s['type'];
  if (typeof own === 'string') return [own];
  if (Array.isArray(own)) return [...own].map(String).sort();
  const bs = branches(s);
  return bs ? [...new Set(bs.flatMap(jsonTypes))].sort() : [];
}

function enumOf(node: unknown): unknown[] | undefined {
  const s = deref(node);
  return Array.isArray(s['enum']) ? s['enum'] : undefined;
}

const sorted = (values: readonly unknown[]): string[] => values.map((v) => JSON.stringify(v)).sort();

interface Endpoint { name: SchemaName; method: string; path: string; sdkFile: string; sdkParams: string }

const ACTION_SDK_PARAMS: Record<string, string> = {
  answer: 'ActionAnswerParams', hangup: 'ActionHangupParams', gather: 'ActionGatherParams',
  gather_stop: 'ActionStopGatherParams', gather_using_audio: 'ActionGatherUsingAudioParams',
  gather_using_speak: 'ActionGatherUsingSpeakParams', gather_using_ai: 'ActionGatherUsingAIParams',
  ai_assistant_start: 'ActionStartAIAssistantParams', ai_assistant_stop: 'ActionStopAIAssistantParams',
  ai_assistant_add_messages: 'ActionAddAIAssistantMessagesParams', playback_start: 'ActionStartPlaybackParams',
  playback_stop: 'ActionStopPlaybackParams', speak: 'ActionSpeakParams', record_start: 'ActionStartRecordingParams',
  record_stop: 'ActionStopRecordingParams', record_pause: 'ActionPauseRecordingParams',
  record_resume: 'ActionResumeRecordingParams', send_dtmf: 'ActionSendDtmfParams',
  client_state_update: 'ActionUpdateClientStateParams',
};

const ENDPOINTS: Endpoint[] = [
  { name: 'dial', method: 'post', path: '/calls', sdkFile: 'calls/calls', sdkParams: 'CallDialParams' },
  ...actionNames.map((name) => ({
    name,
    method: actionSchemas[name].method.toLowerCase(),
    path: `/calls/{call_control_id}/actions/${name}`,
    sdkFile: 'calls/actions',
    sdkParams: ACTION_SDK_PARAMS[name] ?? `missing SDK params for ${name}`,
  })),
  { name: 'application_create', method: 'post', path: '/call_control_applications', sdkFile: 'call-control-applications', sdkParams: 'CallControlApplicationCreateParams' },
  { name: 'application_update', method: 'patch', path: '/call_control_applications/{id}', sdkFile: 'call-control-applications', sdkParams: 'CallControlApplicationUpdateParams' },
];

/** Declared by telnyx 7.24.0 but not by the OpenAPI snapshot; our schemas must accept them. */
const SDK_ONLY: Record<string, readonly string[]> = { dial: dialSdkOnlyFields, ...aiSdkOnlyFields };

function specBody(e: Endpoint): Node {
  const paths = (spec as Node)['paths'];
  const op = isNode(paths) && isNode(paths[e.path]) ? (paths[e.path] as Node)[e.method] : undefined;
  assert.ok(isNode(op), `${e.name}: no ${e.method.toUpperCase()} ${e.path} in the spec`);
  const content = isNode(op['requestBody']) ? (op['requestBody'] as Node)['content'] : undefined;
  const json = isNode(content) ? content['application/json'] : undefined;
  return deref(isNode(json) ? json['schema'] : undefined);
}

const specProps = (body: Node): Record<string, unknown> => (isNode(body['properties']) ? body['properties'] : {});
const ours = (name: SchemaName): JsonSchema => requestSchemas[name].schema;
const ourProp = (name: SchemaName, field: string): JsonSchema => ours(name).properties?.[field] ?? {};

// Values the generic generator cannot guess because our schema is stricter than the spec's wording.
const FIELD_SAMPLES: Record<string, unknown> = {
  client_state: 'aGVsbG8gd29ybGQ=',
  digits: '12w#',
  send_digits_on_answer: 'ww123#',
  from_display_name: 'Front Desk',
  loop: 3,
};

/** A value the spec says is valid for this property. */
function sample(node: unknown, field: string): unknown {
  if (Object.hasOwn(FIELD_SAMPLES, field)) return FIELD_SAMPLES[field];
  const s = deref(node);
  if (s['default'] !== undefined) return s['default'];
  const e = enumOf(s);
  if (e) return e[0];
  const bs = branches(s);
  if (bs) return sample(bs[0], field);
  const type = jsonTypes(s).find((t) => t !== 'null');
  switch (type) {
    case 'string':
      if (s['format'] === 'url' || s['format'] === 'uri') return 'https://example.com/webhooks';
      if (s['format'] === 'uuid') return '3fa85f64-5717-4562-b3fc-2c963f66afa6';
      if (typeof s['pattern'] === 'string' && s['pattern'].includes('wss?')) return 'wss://example.com/relay';
      return 'sample';
    case 'integer':
    case 'number':
      return typeof s['minimum'] === 'number' ? s['minimum'] : 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    default: {
      const props = specProps(s);
      const required = Array.isArray(s['required']) ? s['required'].map(String) : [];
      return Object.fromEntries(required.map((k) => [k, sample(props[k], k)]));
    }
  }
}

/** A value whose JSON type the property does not admit. */
function wrongType(types: string[]): unknown {
  const candidates: Array<[string, unknown]> = [['boolean', true], ['string', 'wrong'], ['object', {}], ['array', []], ['integer', 7]];
  const admits = (t: string) => types.includes(t) || (t === 'integer' && types.includes('number'));
  const found = candidates.find(([t]) => !admits(t));
  assert.ok(found, `no wrong type exists for ${types.join('|')}`);
  return found[1];
}

function minimalBody(name: SchemaName, body: Node): Record<string, unknown> {
  const required = Array.isArray(body['required']) ? body['required'].map(String) : [];
  return Object.fromEntries(required.map((k) => [k, sample(specProps(body)[k], k)]));
}

function describeErrors(result: ReturnType<typeof validateRequest>): string {
  return result.ok ? 'accepted' : JSON.stringify(result.errors);
}

describe('request schemas mirror the OpenAPI spec', () => {
  it('covers exactly the actions we validate', () => {
    assert.deepEqual([...actionNames].sort(), Object.keys(ACTION_SDK_PARAMS).sort());
    assert.equal(actionSchemas.client_state_update.method, 'PUT');
  });

  for (const e of ENDPOINTS) {
    describe(e.name, () => {
      const body = specBody(e);
      const props = specProps(body);
      const extras = SDK_ONLY[e.name] ?? [];

      it('declares the same fields (plus SDK-only extras) and the same required list', () => {
        const mine = Object.keys(ours(e.name).properties ?? {}).sort();
        assert.deepEqual(mine, [...Object.keys(props), ...extras].sort(), `${e.name}: field set differs from the spec`);
        for (const extra of extras) assert.ok(!(extra in props), `${e.name}.${extra} is now in the spec; drop it from the SDK-only list`);
        const specRequired = Array.isArray(body['required']) ? body['required'].map(String).sort() : [];
        assert.deepEqual([...(ours(e.name).required ?? [])].sort(), specRequired, `${e.name}: required differs`);
      });

      it('declares the same types, enums, limits and defaults per field', () => {
        for (const [field, node] of Object.entries(props)) {
          const where = `${e.name}.${field}`;
          const mine = ourProp(e.name, field);
          assert.deepEqual(jsonTypes(mine), jsonTypes(node), `${where}: JSON types differ`);
          const specEnum = enumOf(node);
          const described = describedEnums[e.name]?.[field];
          if (specEnum) assert.deepEqual(sorted(mine.enum ?? []), sorted(specEnum), `${where}: enum differs`);
          else if (described) assert.deepEqual(sorted(mine.enum ?? []), sorted(described), `${where}: described enum differs`);
          else assert.equal(mine.enum, undefined, `${where}: enum the spec does not declare`);
          const s = deref(node);
          for (const k of ['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems'] as const) {
            if (s[k] !== undefined) assert.equal(mine[k], s[k], `${where}: ${k} differs`);
          }
          if (s['default'] !== undefined) assert.deepEqual(mine.default, s['default'], `${where}: default differs`);
        }
      });

      it('accepts a minimal body and a spec-valid value for every field', () => {
        const minimal = minimalBody(e.name, body);
        const base = validateRequest(e.name, minimal);
        assert.ok(base.ok, `${e.name}: minimal body ${JSON.stringify(minimal)} rejected: ${describeErrors(base)}`);
        for (const [field, node] of Object.entries(props)) {
          const value = describedEnums[e.name]?.[field]?.[0] ?? sample(node, field);
          const r = validateRequest(e.name, { ...minimal, [field]: value });
          assert.ok(r.ok, `${e.name}.${field}: valid value ${JSON.stringify(value)} rejected: ${describeErrors(r)}`);
        }
        for (const extra of extras) {
          const value = ourProp(e.name, extra).type === 'boolean' ? true : '+15550001111';
          const r = validateRequest(e.name, { ...minimal, [extra]: value });
          assert.ok(r.ok, `${e.name}.${extra}: SDK-only field rejected: ${describeErrors(r)}`);
        }
      });

      it('rejects bad enum values, wrong types, missing required and unknown fields, one error each', () => {
        const minimal = minimalBody(e.name, body);
        const expectOne = (patch: Record<string, unknown>, code: string, pointer: string, what: string, title?: string) => {
          const r = validateRequest(e.name, { ...minimal, ...patch });
          assert.ok(!r.ok, `${e.name}: ${what} was accepted`);
          assert.equal(r.errors.length, 1, `${e.name}: ${what} gave ${describeErrors(r)}`);
          const [err] = r.errors;
          assert.equal(err?.code, code, `${e.name}: ${what}: wrong code in ${describeErrors(r)}`);
          assert.equal(err?.source?.pointer, pointer, `${e.name}: ${what}: wrong pointer`);
          if (title) assert.equal(err?.title, title, `${e.name}: ${what}: wrong title`);
        };
        for (const [field, node] of Object.entries(props)) {
          const specEnum = enumOf(node);
          if (specEnum) {
            const bad = typeof specEnum[0] === 'number' ? 12345 : 'not-an-allowed-value';
            expectOne({ [field]: bad }, '10032', `/${field}`, `bad enum value for '${field}'`);
          }
          expectOne({ [field]: wrongType(jsonTypes(node)) }, '10015', `/${field}`, `wrong type for '${field}'`, 'Invalid parameter type');
        }
        const required = Array.isArray(body['required']) ? body['required'].map(String) : [];
        for (const field of required) {
          const rest = { ...minimal };
          delete rest[field];
          const r = validateRequest(e.name, rest);
          assert.ok(!r.ok && r.errors.length === 1, `${e.name}: missing '${field}' gave ${describeErrors(r)}`);
          assert.equal(r.errors[0]?.code, '10004', `${e.name}: missing '${field}' code`);
          assert.equal(r.errors[0]?.source?.pointer, `/${field}`, `${e.name}: missing '${field}' pointer`);
        }
        expectOne({ surely_not_a_field: 1 }, '10015', '/surely_not_a_field', 'an unknown field', 'Unknown parameter');
      });
    });
  }

  it('only enforces prose-described values that the spec description really names', () => {
    for (const [name, fields] of Object.entries(describedEnums)) {
      const e = ENDPOINTS.find((x) => x.name === name);
      assert.ok(e, `${name}: not an endpoint`);
      for (const [field, values] of Object.entries(fields)) {
        const description = String(deref(specProps(specBody(e))[field])['description'] ?? '');
        for (const v of values) assert.ok(description.includes(`\`${v}\``), `${name}.${field}: '${v}' not named in the spec`);
      }
    }
  });
});

describe('request schemas accept everything telnyx 7.24.0 can send', () => {
  const root = fileURLToPath(new URL('../../node_modules/telnyx/resources/', import.meta.url));
  const files = [...new Set(ENDPOINTS.map((e) => `${root}${e.sdkFile}.d.ts`))];
  const program = ts.createProgram(files, {
    skipLibCheck: true, noLib: true, types: [], module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  const checker = program.getTypeChecker();

  function sdkInterface(file: string, name: string): ts.InterfaceDeclaration {
    const source = program.getSourceFile(`${root}${file}.d.ts`);
    assert.ok(source, `SDK file ${file} not loaded`);
    const found = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
    assert.ok(found, `SDK interface ${name} not found in ${file}`);
    return found;
  }

  function literals(type: ts.Type): unknown[] | undefined {
    const parts = type.isUnion() ? type.types : [type];
    const values = parts.map((t) => (t.isStringLiteral() || t.isNumberLiteral() ? t.value : undefined));
    return values.every((v) => v !== undefined) ? values : undefined;
  }

  for (const e of ENDPOINTS) {
    it(`${e.name}: every ${e.sdkParams} field is declared, with compatible required and enum values`, () => {
      const decl = sdkInterface(e.sdkFile, e.sdkParams);
      const mine = ours(e.name).properties ?? {};
      const sdkRequired: string[] = [];
      for (const symbol of checker.getTypeAtLocation(decl).getProperties()) {
        const field = symbol.name;
        assert.ok(Object.hasOwn(mine, field), `${e.name}: SDK field '${field}' would be rejected as unknown`);
        if (!(symbol.flags & ts.SymbolFlags.Optional)) sdkRequired.push(field);
        const values = literals(checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(symbol, decl)));
        const allowed = mine[field]?.enum;
        if (values && allowed) {
          for (const v of values) assert.ok(allowed.includes(v), `${e.name}.${field}: SDK value ${JSON.stringify(v)} not in our enum`);
        }
      }
      assert.deepEqual(sdkRequired.sort(), [...(ours(e.name).required ?? [])].sort(), `${e.name}: required differs from the SDK`);
    });
  }
});
