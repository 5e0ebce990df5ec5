import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkGatherParameters, checkJsonSchema, describeIssues, validateJson, type SchemaCheck, type SchemaIssue } from '../../src/ai/llm/json-schema.js';

function issuesOf(check: SchemaCheck): SchemaIssue[] {
  assert.equal(check.ok, false, 'expected issues');
  return check.ok ? [] : check.issues;
}

const order = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Full name', minLength: 1 },
    age: { type: 'integer', minimum: 0 },
    appointment: { type: 'string', format: 'date' },
    size: { enum: ['small', 'large'] },
    items: { type: 'array', items: { type: 'object', properties: { qty: { type: 'integer' } }, required: ['qty'] } },
  },
  required: ['name'],
  additionalProperties: false,
};

describe('checkJsonSchema', () => {
  it('accepts usable schemas: draft-07, 2019-09, 2020-12, unknown keywords and formats, local references', () => {
    assert.deepEqual(checkJsonSchema(order), { ok: true });
    assert.deepEqual(checkJsonSchema({ type: 'object', properties: { when: { type: 'string', format: 'x-fuzzy-time', example: 'tomorrow', 'x-hint': 1 } } }), { ok: true });
    assert.deepEqual(checkJsonSchema({
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: { phone: { type: 'string', pattern: '^\\+[0-9]{7,15}$' } },
      type: 'object',
      properties: { phone: { $ref: '#/definitions/phone' }, anything: true },
    }), { ok: true });
    assert.deepEqual(checkJsonSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', $defs: { d: { type: 'string' } }, type: 'object', properties: { x: { $ref: '#/$defs/d' } }, prefixItems: [{}] }), { ok: true });
    assert.deepEqual(checkJsonSchema({ $schema: 'https://json-schema.org/draft/2019-09/schema', type: 'object', dependentRequired: { a: ['b'] } }), { ok: true });
    assert.deepEqual(checkJsonSchema(true), { ok: true });
  });

  it('points at a misspelt type name and lists the allowed ones', () => {
    const [issue, ...rest] = issuesOf(checkJsonSchema({ type: 'object', properties: { name: { type: 'strng' } } }, { pointer: '/parameters' }));
    assert.deepEqual(rest, []);
    assert.equal(issue?.pointer, '/parameters/properties/name/type');
    assert.equal(issue?.keyword, 'type');
    assert.match(issue?.message ?? '', /must be one of "array", "boolean", "integer", "null", "number", "object", "string", or a list of them/);
  });

  it('points at keywords with values of the wrong kind', () => {
    assert.deepEqual(issuesOf(checkJsonSchema({ type: 'object', required: 'name' })), [{ pointer: '/required', keyword: 'required', message: 'must be array' }]);
    assert.deepEqual(issuesOf(checkJsonSchema({ type: 'object', properties: { age: { type: 'integer', minimum: 'zero' } } })),
      [{ pointer: '/properties/age/minimum', keyword: 'minimum', message: 'must be number' }]);
    assert.deepEqual(issuesOf(checkJsonSchema({ type: 'object', properties: [] })), [{ pointer: '/properties', keyword: 'properties', message: 'must be object' }]);
    const [sub] = issuesOf(checkJsonSchema({ type: 'object', additionalProperties: 'no' }, { pointer: '/parameters' }));
    assert.equal(sub?.pointer, '/parameters/additionalProperties');
    assert.match(sub?.message ?? '', /must be a schema/);
  });

  it('escapes property names in pointers', () => {
    const [issue] = issuesOf(checkJsonSchema({ type: 'object', properties: { 'a/b~c': { type: 7 } } }));
    assert.equal(issue?.pointer, '/properties/a~1b~0c/type');
  });

  it('points at unresolvable references and broken patterns', () => {
    assert.deepEqual(issuesOf(checkJsonSchema({ type: 'object', properties: { a: { $ref: '#/definitions/missing' } } }, { pointer: '/parameters' })), [{
      pointer: '/parameters/properties/a/$ref',
      keyword: '$ref',
      message: 'cannot be resolved: "#/definitions/missing" (references must point inside the schema)',
    }]);
    const [remote] = issuesOf(checkJsonSchema({ type: 'object', properties: { a: { $ref: 'https://example.com/schemas/address.json' } } }));
    assert.equal(remote?.pointer, '/properties/a/$ref');
    const [pattern] = issuesOf(checkJsonSchema({ type: 'object', properties: { code: { type: 'string', pattern: '([A-Z' } } }));
    assert.equal(pattern?.pointer, '/properties/code/pattern');
    assert.match(pattern?.message ?? '', /not a valid regular expression/);
    const [patternKey] = issuesOf(checkJsonSchema({ type: 'object', patternProperties: { '^x(': { type: 'string' } } }));
    assert.equal(patternKey?.pointer, '/patternProperties/^x(');
  });

  it('rejects unsupported versions and things that are not schemas', () => {
    assert.deepEqual(issuesOf(checkJsonSchema({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' }, { pointer: '/parameters' })).map((i) => i.pointer), ['/parameters/$schema']);
    assert.deepEqual(issuesOf(checkJsonSchema('object', { pointer: '/parameters' })), [{ pointer: '/parameters', keyword: 'type', message: 'must be a JSON Schema object' }]);
    assert.equal(issuesOf(checkJsonSchema(null)).length, 1);
    assert.equal(issuesOf(checkJsonSchema([{ type: 'string' }])).length, 1);
  });

  it('checkGatherParameters wants an object schema and points under /parameters', () => {
    assert.deepEqual(checkGatherParameters(order), { ok: true });
    assert.deepEqual(checkGatherParameters({ properties: { name: { type: 'string' } } }), { ok: true }, 'type may be left out');
    assert.deepEqual(checkGatherParameters({ type: ['object', 'null'] }), { ok: true });
    assert.deepEqual(issuesOf(checkGatherParameters({ type: 'array', items: { type: 'string' } })).map((i) => i.pointer), ['/parameters/type']);
    assert.deepEqual(issuesOf(checkGatherParameters({ type: 'object', properties: { n: { type: 'int' } } })).map((i) => i.pointer), ['/parameters/properties/n/type']);
  });

  it('lets schemas reuse an $id without seeing each other', () => {
    assert.deepEqual(checkJsonSchema({ $id: 'https://example.com/form', type: 'object', required: ['a'] }), { ok: true });
    assert.deepEqual(checkJsonSchema({ $id: 'https://example.com/form', type: 'object', required: ['b'] }), { ok: true });
    assert.equal(validateJson({ $id: 'https://example.com/form', type: 'object', required: ['b'] }, { a: 1 }).ok, false);
    assert.equal(validateJson({ $id: 'https://example.com/form', type: 'object', required: ['a'] }, { a: 1 }).ok, true);
  });

  it('keeps working past its cache of compiled schemas', () => {
    for (let i = 0; i < 150; i++) {
      const schema = { type: 'object', properties: { [`f${i}`]: { type: 'integer' } }, required: [`f${i}`] };
      assert.equal(validateJson(schema, { [`f${i}`]: i }).ok, true);
      assert.equal(validateJson(schema, {}).ok, false);
    }
    assert.equal(validateJson(order, { name: 'again' }).ok, true);
  });
});

describe('validateJson', () => {
  it('accepts a conforming value', () => {
    assert.deepEqual(validateJson(order, { name: 'Ada', age: 36, appointment: '2024-02-29', size: 'small', items: [{ qty: 2 }] }), { ok: true });
  });

  it('reports every problem with a pointer into the value', () => {
    const issues = issuesOf(validateJson(order, { age: -1, appointment: '2023-02-30', size: 'huge', items: [{ qty: 1 }, {}], extra: true }));
    assert.deepEqual(issues.map((i) => `${i.pointer} ${i.keyword}`).sort(), [
      '/age minimum',
      '/appointment format',
      '/extra additionalProperties',
      '/items/1/qty required',
      '/name required',
      '/size enum',
    ]);
    const size = issues.find((i) => i.pointer === '/size');
    assert.equal(size?.message, 'must be one of "small", "large"');
    assert.equal(issues.find((i) => i.pointer === '/name')?.message, 'is required');
  });

  it('checks a few common formats and ignores unknown ones', () => {
    const schema = {
      type: 'object',
      properties: {
        email: { type: 'string', format: 'email' },
        at: { type: 'string', format: 'date-time' },
        time: { type: 'string', format: 'time' },
        id: { type: 'string', format: 'uuid' },
        spoken: { type: 'string', format: 'spoken-number' },
      },
    };
    assert.equal(validateJson(schema, { email: 'ada@example.com', at: '2024-05-01T10:30:00Z', time: '10:30', id: '123e4567-e89b-12d3-a456-426614174000', spoken: 'forty two' }).ok, true);
    const issues = issuesOf(validateJson(schema, { email: 'ada at example', at: 'tomorrow', time: '25:00', id: 'nope' }));
    assert.deepEqual(issues.map((i) => i.pointer).sort(), ['/at', '/email', '/id', '/time']);
  });

  it('prefixes pointers, and describes issues in one line for the model', () => {
    const issues = issuesOf(validateJson(order, { name: 7 }, { pointer: '/result' }));
    assert.deepEqual(issues, [{ pointer: '/result/name', keyword: 'type', message: 'must be string' }]);
    assert.equal(describeIssues(issues), '/result/name: must be string');
    assert.equal(describeIssues(issuesOf(validateJson({ type: 'object' }, 3))), '(root): must be object');
  });

  it('reports an unusable schema instead of validating', () => {
    const issues = issuesOf(validateJson({ type: 'object', properties: { a: { $ref: '#/nowhere' } } }, {}));
    assert.equal(issues[0]?.keyword, '$ref');
  });
});
