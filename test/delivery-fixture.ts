import type { Test } from 'tap'
import { bearer, buildWithAdmin, created, login, roleId, type SignedIn } from './helper.js'

/**
 * A small site for the delivery API's tests: authors, categories and localized articles that
 * link to them, with a component, rich text, a private field and a type the Public role may
 * not read. The Public role reads authors, categories and articles.
 */

type App = Awaited<ReturnType<typeof buildWithAdmin>>

export const MODEL = {
  components: [
    { uid: 'shared.seo', displayName: 'SEO', fields: [
      { name: 'metaTitle', type: 'string' },
      { name: 'keywords', type: 'string' },
      { name: 'internalNote', type: 'string', private: true },
    ] },
    { uid: 'blocks.quote', displayName: 'Quote', fields: [
      { name: 'text', type: 'text' },
      { name: 'by', type: 'relation', relation: 'toOne', target: 'author' },
    ] },
  ],
  types: [
    { apiId: 'author', kind: 'collection', singularName: 'Author', pluralName: 'Authors', draftAndPublish: false, fields: [
      { name: 'name', type: 'string', required: true },
      { name: 'email', type: 'email', private: true },
      { name: 'mentor', type: 'relation', relation: 'toOne', target: 'author' },
    ] },
    { apiId: 'category', kind: 'collection', singularName: 'Category', pluralName: 'Categories', draftAndPublish: false, fields: [
      { name: 'slug', type: 'uid', required: true },
      { name: 'name', type: 'string' },
    ] },
    { apiId: 'secret', kind: 'collection', singularName: 'Secret', pluralName: 'Secrets', draftAndPublish: false, fields: [
      { name: 'code', type: 'string' },
    ] },
    { apiId: 'article', kind: 'collection', singularName: 'Article', pluralName: 'Articles', localized: true, fields: [
      { name: 'title', type: 'string', required: true },
      { name: 'summary', type: 'text' },
      { name: 'body', type: 'richtext' },
      { name: 'views', type: 'integer' },
      { name: 'rating', type: 'decimal' },
      { name: 'featured', type: 'boolean' },
      { name: 'day', type: 'date' },
      { name: 'author', type: 'relation', relation: 'toOne', target: 'author', localized: false },
      { name: 'categories', type: 'relation', relation: 'toMany', target: 'category', localized: false },
      { name: 'related', type: 'relation', relation: 'toMany', target: 'secret', localized: false },
      { name: 'seo', type: 'component', component: 'shared.seo' },
      { name: 'quotes', type: 'component', component: 'blocks.quote', repeatable: true },
      { name: 'notes', type: 'text', private: true },
    ] },
    { apiId: 'home', kind: 'single', singularName: 'Home', pluralName: 'Home', fields: [
      { name: 'headline', type: 'string' },
    ] },
  ],
}

export interface Site {
  app: App
  admin: SignedIn
  authors: Record<'ann' | 'bob' | 'cyd', string>
  categories: Record<'news' | 'tech' | 'food', string>
  secret: string
}

async function send(app: App, admin: SignedIn, method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  const res = await app.inject({ method, url, headers: admin.headers, ...(payload === undefined ? {} : { payload }) })
  if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`)
  return res.statusCode === 204 ? undefined : res.json().data
}

export const ARTICLES = '/api/admin/content-types/article/entries'

/** Saves an article as a draft; `publish` publishes it too. Answers its document id. */
interface Saving {
  /** Publish it too (the default). */
  publish?: boolean
  locale?: string
  /** A new locale of this document. */
  documentId?: string
}

export async function article(site: Site, data: Record<string, unknown>, options: Saving = {}) {
  const { app, admin } = site
  const locale = options.locale === undefined ? '' : `?locale=${options.locale}`
  const entry = options.documentId === undefined
    ? await created(app, admin, `${ARTICLES}${locale}`, { data })
    : await send(app, admin, 'PUT', `${ARTICLES}/${options.documentId}${locale}`, { data })
  if (options.publish !== false) await send(app, admin, 'POST', `${ARTICLES}/${entry.documentId}/publish${locale}`)
  return entry.documentId as string
}

export async function publish(site: Site, documentId: string, locale?: string) {
  await send(site.app, site.admin, 'POST', `${ARTICLES}/${documentId}/publish${locale === undefined ? '' : `?locale=${locale}`}`)
}

export async function unpublish(site: Site, documentId: string, locale?: string) {
  await send(site.app, site.admin, 'POST', `${ARTICLES}/${documentId}/unpublish${locale === undefined ? '' : `?locale=${locale}`}`)
}

export async function remove(site: Site, documentId: string) {
  await send(site.app, site.admin, 'DELETE', `${ARTICLES}/${documentId}`)
}

export async function update(site: Site, documentId: string, data: Record<string, unknown>, locale?: string) {
  await send(site.app, site.admin, 'PUT', `${ARTICLES}/${documentId}${locale === undefined ? '' : `?locale=${locale}`}`, { data })
}

/** An API token of a kind, as request headers. */
export async function token(site: Site, kind: 'delivery' | 'preview' | 'full') {
  const data = await created(site.app, site.admin, '/api/admin/tokens', { name: `${kind} ${Math.random()}`, kind })
  return bearer(data.accessKey)
}

/** The app with the model, the locales en (default), fr and fr-CA, authors, categories, and the Public role reading. */
export async function site(t: Test, values: Record<string, unknown> = {}): Promise<Site> {
  const app = await buildWithAdmin(t, values)
  const admin = await login(app)
  // What a definition names exists before it: the quote component links to authors.
  const [seo, quote] = MODEL.components
  const [author, category, secretType, articleType, home] = MODEL.types
  for (const [url, definition] of [['components', seo], ['content-types', author], ['content-types', category],
    ['content-types', secretType], ['components', quote], ['content-types', articleType], ['content-types', home]] as const) {
    await created(app, admin, `/api/admin/${url}`, definition as object)
  }
  await created(app, admin, '/api/admin/locales', { code: 'fr', name: 'French' })
  await created(app, admin, '/api/admin/locales', { code: 'fr-CA', name: 'French (Canada)' })
  const publicRole = await roleId(app, admin, 'public')
  await send(app, admin, 'PATCH', `/api/admin/roles/${publicRole}`, {
    permissions: ['author', 'category', 'article', 'home'].map((apiId) => ({ subject: `content:${apiId}`, action: 'read' })),
  })
  const entry = async (apiId: string, data: object) => (await created(app, admin, `/api/admin/content-types/${apiId}/entries`, { data })).documentId as string
  const ann = await entry('author', { name: 'Ann', email: 'ann@example.com' })
  const bob = await entry('author', { name: 'Bob', email: 'bob@example.com', mentor: ann })
  const cyd = await entry('author', { name: 'Cyd', mentor: bob })
  const categories = {
    news: await entry('category', { slug: 'news', name: 'News' }),
    tech: await entry('category', { slug: 'tech', name: 'Tech' }),
    food: await entry('category', { slug: 'food', name: 'Food' }),
  }
  const secret = await entry('secret', { code: 'xyzzy' })
  return { app, admin, authors: { ann, bob, cyd }, categories, secret }
}
