import t from 'tap'
import type { FieldDefinition } from '../../../src/schemas/content-model.js'
import { convert, migrateObject, planSteps } from '../../../src/services/model-changes.js'
import { markdownToBlocks } from '../../../src/services/richtext.js'

const ID = '0195f0a0-0000-7000-8000-000000000001'
const ID2 = '0195f0a0-0000-7000-8000-000000000002'

/** A field of a type, named after it. */
function f(type: string, options: Record<string, unknown> = {}): FieldDefinition {
  return { name: type, type, ...options } as FieldDefinition
}

const string = f('string')
const text = f('text')
const email = f('email')
const richtext = f('richtext')
const integer = f('integer')
const decimal = f('decimal')
const boolean = f('boolean')
const date = f('date')
const datetime = f('datetime')
const json = f('json')
const zone = f('dynamiczone', { components: ['shared.link'] })

t.test('convert: the same shape, and anything to JSON, keep the value as it is', async (t) => {
  t.strictSame(convert('x', string, f('string', { maxLength: 3 })), { ok: true, value: 'x' })
  t.strictSame(convert([ID], f('relation', { target: 'a', relation: 'toMany' }), f('relation', { target: 'a', relation: 'toMany', inverse: 'b' })), { ok: true, value: [ID] })
  t.strictSame(convert({ label: 'x' }, f('component', { component: 'c' }), json), { ok: true, value: { label: 'x' } })
  t.strictSame(convert([{ __component: 'c' }], zone, json), { ok: true, value: [{ __component: 'c' }] })
})

t.test('convert: to text', async (t) => {
  t.strictSame(convert('12', string, text), { ok: true, value: '12' }, 'text passes as it is: the new type judges it')
  t.strictSame(convert('not an email', string, email), { ok: true, value: 'not an email' })
  t.strictSame(convert(12, integer, string), { ok: true, value: '12' })
  t.strictSame(convert(2.5, decimal, text), { ok: true, value: '2.5' })
  t.strictSame(convert(false, boolean, string), { ok: true, value: 'false' })
  t.strictSame(convert('2026-11-21', date, datetime), { ok: true, value: '2026-11-21T00:00:00.000Z' })
  t.strictSame(convert('2026-11-21', date, string), { ok: true, value: '2026-11-21' })
  t.strictSame(convert('2026-11-21T00:00:00.000Z', datetime, date), { ok: true, value: '2026-11-21' })
  t.strictSame(convert('2026-11-21T00:00Z', datetime, date), { ok: true, value: '2026-11-21' })
  t.strictSame(convert('2026-11-21T00:00:00-00:00', datetime, date), { ok: true, value: '2026-11-21' })
  t.strictSame(convert('2026-11-21T10:30:00.000Z', datetime, date), { ok: false, message: 'has a time of day' })
  t.strictSame(convert('2026-11-21T00:00:00+02:00', datetime, date), { ok: false, message: 'has a time of day' })
  t.strictSame(convert('2026-11-21T10:30:00.000Z', datetime, string), { ok: true, value: '2026-11-21T10:30:00.000Z' })
  t.strictSame(convert([{ type: 'paragraph' }], richtext, string), { ok: false, message: 'a richtext value is no text' })
  t.strictSame(convert({ a: 1 }, json, text), { ok: false, message: 'a json value is no text' })
  t.strictSame(convert(ID, f('media'), string), { ok: true, value: ID })
})

t.test('convert: text to rich text reads it as Markdown', async (t) => {
  const markdown = 'Hello **world**\n\nA second paragraph'
  t.strictSame(convert(markdown, text, richtext), { ok: true, value: markdownToBlocks(markdown) })
  t.strictSame(convert('', string, richtext), { ok: true, value: markdownToBlocks('') })
  t.strictSame(convert(12, integer, richtext), { ok: false, message: 'a integer value is no text' })
})

t.test('convert: to numbers', async (t) => {
  t.strictSame(convert('12', string, integer), { ok: true, value: 12 })
  t.strictSame(convert(' -12 ', string, integer), { ok: true, value: -12 })
  t.strictSame(convert('1e3', text, integer), { ok: true, value: 1000 })
  t.strictSame(convert('2.50', string, decimal), { ok: true, value: 2.5 })
  t.strictSame(convert('-3.5E-1', string, decimal), { ok: true, value: -0.35 })
  t.strictSame(convert(7, integer, decimal), { ok: true, value: 7 })
  t.strictSame(convert(7, decimal, integer), { ok: true, value: 7 })
  t.strictSame(convert(7.5, decimal, integer), { ok: false, message: 'is not a whole number' })
  t.strictSame(convert('7.5', string, integer), { ok: false, message: 'is not a whole number' })
  t.strictSame(convert('9007199254740993', string, integer), { ok: false, message: 'is not a whole number' })
  t.strictSame(convert('twelve', string, integer), { ok: false, message: 'is not a number' })
  t.strictSame(convert('', string, decimal), { ok: false, message: 'is not a number' })
  t.strictSame(convert('0x10', string, integer), { ok: false, message: 'is not a number' })
  t.strictSame(convert('1e400', string, decimal), { ok: false, message: 'is not a number' })
  t.strictSame(convert(true, boolean, integer), { ok: false, message: 'is not a number' })
})

t.test('convert: to a boolean, from the words true and false', async (t) => {
  t.strictSame(convert('true', string, boolean), { ok: true, value: true })
  t.strictSame(convert('false', text, boolean), { ok: true, value: false })
  t.strictSame(convert('yes', string, boolean), { ok: false, message: 'is neither true nor false' })
  t.strictSame(convert(1, integer, boolean), { ok: false, message: 'is neither true nor false' })
})

t.test('convert: JSON values convert like the values they are', async (t) => {
  t.strictSame(convert('plain', json, string), { ok: true, value: 'plain' })
  t.strictSame(convert(12, json, string), { ok: true, value: '12' })
  t.strictSame(convert('12', json, integer), { ok: true, value: 12 })
  t.strictSame(convert(12, json, integer), { ok: true, value: 12 })
  t.strictSame(convert(true, json, boolean), { ok: true, value: true })
  t.strictSame(convert('true', json, boolean), { ok: true, value: true })
  t.strictSame(convert('# Title', json, richtext), { ok: true, value: markdownToBlocks('# Title') })
  t.strictSame(convert(ID, json, f('media')), { ok: true, value: ID }, 'an id passes: the new type judges it')
  t.strictSame(convert([ID], json, f('media')), { ok: false, message: 'a json value does not convert to media one' })
  t.strictSame(convert({ a: 1 }, json, integer), { ok: false, message: 'is not a number' })
})

t.test('convert: one and many of the same thing', async (t) => {
  const one = f('media')
  const many = f('media', { multiple: true })
  t.strictSame(convert(ID, one, many), { ok: true, value: [ID] })
  t.strictSame(convert([ID], many, one), { ok: true, value: ID })
  t.strictSame(convert([], many, one), { ok: true, value: null }, 'an empty list is no value')
  t.strictSame(convert([ID, ID2], many, one), { ok: false, message: 'holds 2 values; only one fits' })
  t.strictSame(convert([ID], one, many), { ok: true, value: [ID] }, 'stored data that does not fit its old field: a list stays a list')
  t.strictSame(convert(ID, many, one), { ok: true, value: ID }, 'and one value stays one')

  const toOne = f('relation', { target: 'author', relation: 'toOne' })
  const toMany = f('relation', { target: 'author', relation: 'toMany' })
  t.strictSame(convert(ID, toOne, toMany), { ok: true, value: [ID] })
  t.strictSame(convert([ID2], toMany, toOne), { ok: true, value: ID2 })
  t.strictSame(convert(ID, toOne, f('relation', { target: 'page', relation: 'toMany' })), {
    ok: false, message: 'a relation toOne author value does not convert to relation toMany page',
  })
  t.strictSame(convert(ID, toOne, one), { ok: false, message: 'a relation toOne author value does not convert to media one' })

  const single = f('component', { component: 'shared.link' })
  const repeatable = f('component', { component: 'shared.link', repeatable: true })
  t.strictSame(convert({ label: 'x' }, single, repeatable), { ok: true, value: [{ label: 'x' }] })
  t.strictSame(convert([{ label: 'x' }], repeatable, single), { ok: true, value: { label: 'x' } })
  t.strictSame(convert([{ label: 'x' }, { label: 'y' }], repeatable, single), { ok: false, message: 'holds 2 values; only one fits' })
  t.strictSame(convert({ label: 'x' }, single, f('component', { component: 'shared.other' })), {
    ok: false, message: 'a component shared.link one value does not convert to component shared.other one',
  })
  t.strictSame(convert([{ __component: 'shared.link' }], zone, repeatable), {
    ok: false, message: 'a dynamiczone value does not convert to component shared.link many',
  })
  t.strictSame(convert({ label: 'x' }, single, zone), { ok: false, message: 'a component shared.link one value does not convert to dynamiczone' })
})

t.test('planSteps: added, renamed, retyped, changed and removed fields, in the new order and then the removals', async (t) => {
  const current: FieldDefinition[] = [
    { name: 'title', type: 'string', required: true },
    { name: 'views', type: 'string' },
    { name: 'category', type: 'enumeration', values: ['a', 'b'] },
    { name: 'summary', type: 'text' },
    { name: 'author', type: 'relation', target: 'author', relation: 'toOne' },
    { name: 'old', type: 'integer' },
  ]
  const next: FieldDefinition[] = [
    { name: 'subtitle', type: 'string' },
    { name: 'headline', type: 'text', required: true, maxLength: 10 },
    { name: 'views', type: 'integer', min: 0 },
    { name: 'category', type: 'enumeration', values: ['a', 'c'], default: 'a' },
    { name: 'summary', type: 'text' },
    { name: 'author', type: 'relation', target: 'author', relation: 'toMany', inverse: 'posts' },
  ]
  const { steps, migration, problems } = planSteps(current, next, { title: 'headline' })
  t.strictSame(problems, [])
  t.strictSame(steps, [
    { action: 'add', field: 'subtitle', type: 'string' },
    { action: 'rename', field: 'headline', from: 'title' },
    { action: 'retype', field: 'headline', from: 'string', to: 'text' },
    { action: 'change', field: 'headline', options: ['maxLength'] },
    { action: 'retype', field: 'views', from: 'string', to: 'integer' },
    { action: 'change', field: 'views', options: ['min'] },
    { action: 'change', field: 'category', options: ['default', 'values'] },
    { action: 'retype', field: 'author', from: 'relation toOne author', to: 'relation toMany author' },
    { action: 'change', field: 'author', options: ['inverse'] },
    { action: 'remove', field: 'old', type: 'integer' },
  ])
  t.strictSame([...migration.current], ['title', 'views', 'category', 'summary', 'author', 'old'])
  t.strictSame(migration.moves.map((m) => [m.field.name, m.source?.name]), [
    ['subtitle', undefined], ['headline', 'title'], ['views', 'views'], ['category', 'category'], ['summary', 'summary'], ['author', 'author'],
  ])
  t.strictSame(planSteps(current, current).steps, [], 'no change, no step')
  t.strictSame(planSteps([], [string]).steps, [{ action: 'add', field: 'string', type: 'string' }])
})

t.test('planSteps: renames that cannot be', async (t) => {
  const current: FieldDefinition[] = [{ name: 'title', type: 'string' }, { name: 'body', type: 'text' }]
  const next: FieldDefinition[] = [{ name: 'headline', type: 'string' }, { name: 'body', type: 'text' }, { name: 'title', type: 'string' }]
  const { problems, steps } = planSteps(current, next, { ghost: 'headline', title: 'nowhere', body: 'headline' })
  t.strictSame(problems, [
    { path: '/changes/rename/ghost', message: 'there is no field "ghost" to rename' },
    { path: '/changes/rename/title', message: 'the new definition has no field "nowhere"' },
    { path: '/changes/rename/body', message: '"body" is still in the new definition: rename it or keep it' },
  ])
  t.strictSame(steps, [{ action: 'add', field: 'headline', type: 'string' }], 'a refused rename moves nothing')
  const taken = planSteps(current, [{ name: 'body', type: 'text' }], { title: 'body' })
  t.strictSame(taken.problems, [{ path: '/changes/rename/title', message: '"body" is already a field: remove it first' }])
  const twice = planSteps(current, [{ name: 'name', type: 'string' }], { title: 'name', body: 'name' })
  t.strictSame(twice.problems, [{ path: '/changes/rename/body', message: '"title" is renamed to "name" too' }])
})

t.test('migrateObject moves, converts and drops values; keys that are no field stay', async (t) => {
  const current: FieldDefinition[] = [
    { name: 'title', type: 'string' },
    { name: 'views', type: 'string' },
    { name: 'score', type: 'string' },
    { name: 'gone', type: 'text' },
    { name: 'tags', type: 'relation', target: 'tag', relation: 'toMany' },
    { name: 'empty', type: 'string' },
  ]
  const next: FieldDefinition[] = [
    { name: 'headline', type: 'string' },
    { name: 'views', type: 'integer' },
    { name: 'score', type: 'integer' },
    { name: 'tags', type: 'relation', target: 'tag', relation: 'toOne' },
    { name: 'empty', type: 'string' },
    { name: 'added', type: 'string' },
  ]
  const { migration } = planSteps(current, next, { title: 'headline' })
  const accepts = () => true
  const data = JSON.parse('{"__component":"blocks.x","title":"Hello","views":"12","score":"high","gone":"bye","tags":[],"empty":null,"rogue":1,"__proto__":"p"}')
  const failing = migrateObject(data, migration, new Set(), accepts)
  t.strictSame(failing.failures, [{ field: 'score', message: 'is not a number', value: 'high' }])
  t.strictSame(failing.data, JSON.parse('{"__component":"blocks.x","rogue":1,"__proto__":"p","headline":"Hello","views":12}'),
    'what does not convert is a failure (the change is refused); a list of none becomes no value')
  t.equal(Object.getPrototypeOf(failing.data), Object.prototype)
  t.strictSame(Object.keys(failing.data), ['__component', 'rogue', '__proto__', 'headline', 'views'])

  const cleared = migrateObject(data, migration, new Set(['score', 'views']), accepts)
  t.strictSame(cleared.failures, [])
  t.strictSame(cleared.data, JSON.parse('{"__component":"blocks.x","rogue":1,"__proto__":"p","headline":"Hello","views":12}'))

  const seen: [string, unknown][] = []
  const picky = migrateObject({ views: '12', title: 'x' }, migration, new Set(['views', 'headline']), (field, value) => {
    seen.push([field.name, value])
    return field.name !== 'views'
  })
  t.strictSame(picky, { data: { headline: 'x' }, failures: [] }, 'cleared: a converted value the field does not accept goes too')
  t.strictSame(seen, [['headline', 'x'], ['views', 12]])
  t.strictSame(migrateObject({}, migration, new Set(), accepts), { data: {}, failures: [] })
})
