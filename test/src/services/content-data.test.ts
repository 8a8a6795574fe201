import t from 'tap'
import type { FieldDefinition } from '../../../src/schemas/content-model.js'
import { changedFields, type Data, idsOf, isData, mapData } from '../../../src/services/content-data.js'

const components = new Map<string, FieldDefinition[]>([
  ['shared.link', [{ name: 'label', type: 'string' }, { name: 'page', type: 'relation', target: 'page', relation: 'toOne' }]],
  ['blocks.card', [{ name: 'title', type: 'string' }, { name: 'link', type: 'component', component: 'shared.link' }]],
])

const fields: FieldDefinition[] = [
  { name: 'title', type: 'string' },
  { name: 'link', type: 'component', component: 'shared.link' },
  { name: 'links', type: 'component', component: 'shared.link', repeatable: true },
  { name: 'blocks', type: 'dynamiczone', components: ['blocks.card', 'shared.link'] },
  { name: 'ghost', type: 'component', component: 'shared.ghost' },
]

/** Every visit, as `path field-type`, in the order of the visits. */
function visits(data: Data) {
  const seen: string[] = []
  const result = mapData(data, fields, components, (field, value, path) => {
    seen.push(`${path} ${field.type}`)
    return typeof value === 'string' ? value.toUpperCase() : value
  })
  return { seen, result }
}

t.test('mapData visits every field at any depth, inner values before the field that holds them', async (t) => {
  const data = {
    title: 'hello',
    link: { label: 'home', page: 'p1' },
    links: [{ label: 'a' }, 'not an object', { label: 'b' }],
    blocks: [
      { __component: 'blocks.card', title: 'card', link: { label: 'deep' } },
      { __component: 'shared.link', label: 'zone link' },
      { label: 'no __component' },
      'not an object',
    ],
  }
  const { seen, result } = visits(data)
  t.strictSame(seen, [
    '/title string',
    '/link/label string',
    '/link/page relation',
    '/link component',
    '/links/0/label string',
    '/links/2/label string',
    '/links component',
    '/blocks/0/title string',
    '/blocks/0/link/label string',
    '/blocks/0/link component',
    '/blocks/1/label string',
    '/blocks dynamiczone',
  ])
  t.strictSame(result, {
    title: 'HELLO',
    link: { label: 'HOME', page: 'P1' },
    links: [{ label: 'A' }, 'not an object', { label: 'B' }],
    blocks: [
      { __component: 'blocks.card', title: 'CARD', link: { label: 'DEEP' } },
      { __component: 'shared.link', label: 'ZONE LINK' },
      { label: 'no __component' },
      'not an object',
    ],
  }, 'a zone item is visited by its __component; what is no object, or names none, stays as it is')
  t.strictSame(data.link, { label: 'home', page: 'p1' }, 'the data given is not changed')
})

t.test('mapData keeps keys that are no field, a __proto__ key as a plain own property', async (t) => {
  const data = JSON.parse('{"title":"x","rogue":"kept","__proto__":{"polluted":true},"link":{"__proto__":"inner","label":"l"}}')
  const { seen, result } = visits(data)
  t.strictSame(seen, ['/title string', '/link/label string', '/link component'], 'unknown keys are not visited')
  t.strictSame(Object.keys(result), ['title', 'rogue', '__proto__', 'link'])
  t.equal(Object.getPrototypeOf(result), Object.prototype, 'the prototype did not change')
  t.ok(Object.hasOwn(result, '__proto__'))
  t.strictSame(Object.getOwnPropertyDescriptor(result, '__proto__')?.value, { polluted: true })
  t.equal((result as { polluted?: unknown }).polluted, undefined)
  const link = result.link as Data
  t.equal(Object.getPrototypeOf(link), Object.prototype)
  t.equal(Object.getOwnPropertyDescriptor(link, '__proto__')?.value, 'inner')
  t.equal(link.label, 'L')
  t.equal(({} as { polluted?: unknown }).polluted, undefined, 'Object.prototype is untouched')
})

t.test('mapData removes a field whose visit answers undefined; unknown components and odd values pass to the visit as they are', async (t) => {
  const data = { title: 'gone', ghost: { anything: 1 }, link: 'not an object', blocks: 'not a list' }
  const seen: [string, unknown][] = []
  const result = mapData(data, fields, components, (field, value, path) => {
    seen.push([path, value])
    return field.type === 'string' ? undefined : value
  })
  t.strictSame(result, { ghost: { anything: 1 }, link: 'not an object', blocks: 'not a list' })
  t.strictSame(seen, [['/title', 'gone'], ['/ghost', { anything: 1 }], ['/link', 'not an object'], ['/blocks', 'not a list']])
  t.strictSame(mapData({ a: 1 }, fields, components, () => 'x', '/base'), { a: 1 }, 'no field, no visit')
  const inner: string[] = []
  mapData({ link: { label: 'l' } }, fields, components, (_, value, path) => {
    inner.push(path)
    return value
  }, '/blocks/3')
  t.strictSame(inner, ['/blocks/3/link/label', '/blocks/3/link'], 'paths start at the path given')
})

t.test('idsOf answers the document ids a relation or media value holds', async (t) => {
  t.strictSame(idsOf('a'), ['a'])
  t.strictSame(idsOf(['a', 7, null, 'b', { id: 'c' }]), ['a', 'b'])
  t.strictSame(idsOf([]), [])
  t.strictSame(idsOf(null), [])
  t.strictSame(idsOf(undefined), [])
  t.strictSame(idsOf(42), [])
  t.strictSame(idsOf({ id: 'a' }), [])
})

t.test('isData: plain objects only', async (t) => {
  t.equal(isData({}), true)
  t.equal(isData([]), false)
  t.equal(isData(null), false)
  t.equal(isData('x'), false)
})

t.test('changedFields: the top-level fields whose values differ, sorted, whatever the order of keys', async (t) => {
  const before = { title: 'A', seo: { a: 1, b: [1, 2] }, gone: 'x', same: [{ x: 1, y: 2 }] }
  const after = { same: [{ y: 2, x: 1 }], seo: { b: [1, 2], a: 1 }, title: 'B', added: null }
  t.strictSame(changedFields(before, after), ['added', 'gone', 'title'])
  t.strictSame(changedFields({ n: 1 }, { n: '1' }), ['n'], 'values compared strictly')
  t.strictSame(changedFields({}, {}), [])
})
