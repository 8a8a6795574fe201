import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { build, buildWithAdmin, created, login, onPostgres, type SignedIn, signInAs, testConfig } from '../helper.js'

type App = Awaited<ReturnType<typeof buildWithAdmin>>
type Payload = Record<string, unknown>
type Entry = Record<string, unknown> & { documentId: string, version: number, status: string }
interface Version { version: number, action: string, createdById: string | null }
interface Job {
  id: string
  action: 'publish' | 'unpublish'
  runAt: string
  status: 'pending' | 'running' | 'done' | 'failed' | 'cancelled'
  attempts: number
  error: string | null
  createdById: string | null
  createdAt: string
  finishedAt: string | null
}

const TYPES = '/api/admin/content-types'
const ARTICLES = `${TYPES}/article/entries`
const NOTES = `${TYPES}/note/entries`
const missing = '0195f0a0-0000-7000-8000-000000000001'
const HOUR = 3_600_000
/** The states a job ends in. */
const FINISHED: string[] = ['done', 'failed', 'cancelled']

/** A title is required to publish; a draft may lack it. */
const article = {
  apiId: 'article',
  kind: 'collection',
  singularName: 'Article',
  pluralName: 'Articles',
  fields: [{ name: 'title', type: 'string', required: true }, { name: 'summary', type: 'text' }],
}
/** Without draft & publish: there is nothing to schedule. */
const note = {
  apiId: 'note',
  kind: 'collection',
  singularName: 'Note',
  pluralName: 'Notes',
  draftAndPublish: false,
  fields: [{ name: 'title', type: 'string' }],
}

/** A time `ms` from now. */
function inMs(ms: number): Date {
  return new Date(Date.now() + ms)
}

/** Waits (with a real timer) until `at` has passed. */
async function until(at: Date): Promise<void> {
  await sleep(Math.max(at.getTime() - Date.now(), 0) + 20)
}

/** Asks `probe` until it answers something other than undefined; fails after `ms`. */
async function poll<T>(probe: () => Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await sleep(25)
  }
}

/** The content model on an app: `article` (draft & publish) and `note` (without). */
async function model(app: App, admin: SignedIn): Promise<void> {
  for (const type of [article, note]) await created(app, admin, TYPES, type)
}

/** Requests on an app as its administrator (or `as`). */
function client(app: App, admin: SignedIn) {
  function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, options: { payload?: object, as?: SignedIn } = {}) {
    return app.inject({ method, url, headers: (options.as ?? admin).headers, payload: options.payload })
  }

  async function create(data: Payload, url = ARTICLES): Promise<Entry> {
    const res = await call('POST', url, { payload: { data } })
    if (res.statusCode !== 201) throw new Error(`POST ${url} answered ${res.statusCode}: ${res.body}`)
    return res.json().data
  }

  async function read(documentId: string): Promise<Entry> {
    const res = await call('GET', `${ARTICLES}/${documentId}`)
    if (res.statusCode !== 200) throw new Error(`GET ${ARTICLES}/${documentId} answered ${res.statusCode}: ${res.body}`)
    return res.json().data
  }

  function schedule(documentId: string, action: 'publish' | 'unpublish', at: Date | string, as?: SignedIn) {
    const payload = { action, at: typeof at === 'string' ? at : at.toISOString() }
    return call('POST', `${ARTICLES}/${documentId}/schedule`, { payload, as })
  }

  /** Schedules (201 or the test fails) and answers the job. */
  async function scheduled(documentId: string, action: 'publish' | 'unpublish', at: Date): Promise<Job> {
    const res = await schedule(documentId, action, at)
    if (res.statusCode !== 201) throw new Error(`scheduling answered ${res.statusCode}: ${res.body}`)
    return res.json().data
  }

  async function jobs(documentId: string): Promise<Job[]> {
    const res = await call('GET', `${ARTICLES}/${documentId}/schedule`)
    if (res.statusCode !== 200) throw new Error(`GET …/schedule answered ${res.statusCode}: ${res.body}`)
    return res.json().data
  }

  async function versions(documentId: string): Promise<Version[]> {
    const res = await call('GET', `${ARTICLES}/${documentId}/versions`)
    return res.json().data.map(({ version, action, createdById }: Payload) => ({ version, action, createdById }))
  }

  return { call, create, read, schedule, scheduled, jobs, versions }
}

async function setUp(t: Test, values: Record<string, unknown> = {}) {
  const app = await buildWithAdmin(t, values)
  const admin = await login(app)
  await model(app, admin)
  return { app, admin, ...client(app, admin) }
}

t.test('a scheduled publish runs when due: done by the server, recorded without a user', async (t) => {
  const { app, admin, call, create, read, scheduled, jobs, versions } = await setUp(t)
  const entry = await create({ title: 'Hello' })
  const at = inMs(1500)
  const job = await scheduled(entry.documentId, 'publish', at)
  t.match(job, {
    action: 'publish',
    runAt: at.toISOString(),
    status: 'pending',
    attempts: 0,
    error: null,
    createdById: admin.user.id,
    finishedAt: null,
  })
  t.equal(await app.scheduler.runDue(), 0, 'not yet due')
  t.equal((await read(entry.documentId)).status, 'draft')

  await until(at)
  t.equal(await app.scheduler.runDue(), 1)
  t.match(await read(entry.documentId), { status: 'published', version: 2, updatedBy: null })
  t.same(await versions(entry.documentId), [
    { version: 2, action: 'publish', createdById: null },
    { version: 1, action: 'create', createdById: admin.user.id },
  ], 'the publish is the server\'s')
  const [done] = await jobs(entry.documentId)
  t.match(done, { id: job.id, status: 'done', attempts: 1, error: null, createdById: admin.user.id })
  t.ok(Date.parse(done?.finishedAt ?? '') >= at.getTime(), 'finished once due')

  const audit = await call('GET', '/api/admin/audit-log?action=entry.publish')
  t.equal(audit.statusCode, 200)
  t.match(audit.json().data, [{
    subject: 'content:article',
    userId: null,
    tokenId: null,
    details: { documentId: entry.documentId, locale: 'en', version: 2, changed: ['title'] },
  }])
  t.equal(audit.json().meta.total, 1)

  t.equal(await app.scheduler.runDue(), 0, 'a job runs once')
  const cancelDone = await call('DELETE', `${ARTICLES}/${entry.documentId}/schedule/${job.id}`)
  t.equal(cancelDone.statusCode, 409)
  t.equal(cancelDone.json().code, 'GUDANG_ERR_CONFLICT')
  t.equal(cancelDone.json().message, 'The job is done: only a pending job can be cancelled')
})

t.test('a scheduled unpublish runs after a scheduled publish, each in its turn', async (t) => {
  const { app, create, read, scheduled, jobs, versions, admin } = await setUp(t)
  const entry = await create({ title: 'Briefly' })
  const publishAt = inMs(1000)
  const unpublishAt = new Date(publishAt.getTime() + 100)
  // Scheduled in reverse order: they run in the order of their times.
  await scheduled(entry.documentId, 'unpublish', unpublishAt)
  await scheduled(entry.documentId, 'publish', publishAt)
  await until(unpublishAt)
  t.equal(await app.scheduler.runDue(), 2)
  t.match(await read(entry.documentId), { status: 'draft', version: 3, publishedAt: null })
  t.same(await versions(entry.documentId), [
    { version: 3, action: 'unpublish', createdById: null },
    { version: 2, action: 'publish', createdById: null },
    { version: 1, action: 'create', createdById: admin.user.id },
  ])
  t.same((await jobs(entry.documentId)).map((j) => [j.action, j.status]), [['unpublish', 'done'], ['publish', 'done']])
})

t.test('a schedule is refused in the past, for a type without draft & publish, for a missing entry, without publish permission', async (t) => {
  const { app, admin, call, create, schedule } = await setUp(t)
  const entry = await create({ title: 'Hello' })

  const past = await schedule(entry.documentId, 'publish', inMs(-60_000))
  t.equal(past.statusCode, 400)
  t.match(past.json(), {
    code: 'GUDANG_ERR_VALIDATION',
    message: 'The time is in the past: publish now instead',
    details: [{ in: 'body', path: '/at', message: 'must be in the future' }],
  })
  const notATime = await schedule(entry.documentId, 'publish', 'tomorrow')
  t.equal(notATime.statusCode, 400)
  t.equal(notATime.json().code, 'GUDANG_ERR_VALIDATION')
  t.same(notATime.json().details.map((d: { path: string }) => d.path), ['/at'])
  const badAction = await call('POST', `${ARTICLES}/${entry.documentId}/schedule`, {
    payload: { action: 'delete', at: inMs(HOUR).toISOString() },
  })
  t.equal(badAction.statusCode, 400)

  const noteEntry = await create({ title: 'Saved is published' }, NOTES)
  const noDraft = await call('POST', `${NOTES}/${noteEntry.documentId}/schedule`, {
    payload: { action: 'publish', at: inMs(HOUR).toISOString() },
  })
  t.equal(noDraft.statusCode, 409)
  t.equal(noDraft.json().code, 'GUDANG_ERR_CONFLICT')
  t.equal(noDraft.json().message, '"note" has no draft & publish: saving publishes')

  const gone = await schedule(missing, 'publish', inMs(HOUR))
  t.equal(gone.statusCode, 404)
  t.equal(gone.json().code, 'GUDANG_ERR_NOT_FOUND')
  t.equal(gone.json().message, `No "article" entry ${missing}`)
  const noType = await call('POST', `${TYPES}/gone/entries/${missing}/schedule`, {
    payload: { action: 'publish', at: inMs(HOUR).toISOString() },
  })
  t.equal(noType.statusCode, 404)
  t.equal(noType.json().code, 'GUDANG_ERR_NOT_FOUND')
  t.equal((await call('GET', `${ARTICLES}/${missing}/schedule`)).statusCode, 404)

  const author = await signInAs(app, admin, 'author')
  const denied = await schedule(entry.documentId, 'publish', inMs(HOUR), author)
  t.equal(denied.statusCode, 403)
  t.equal(denied.json().code, 'GUDANG_ERR_FORBIDDEN')
  t.equal(await app.prisma.scheduledJob.count(), 0, 'no job was made')
  const anonymous = await app.inject({
    method: 'POST',
    url: `${ARTICLES}/${entry.documentId}/schedule`,
    payload: { action: 'publish', at: inMs(HOUR).toISOString() },
  })
  t.equal(anonymous.statusCode, 401)
})

t.test('scheduling again replaces the pending job of the same action; the other action\'s stays', async (t) => {
  const { app, admin, create, scheduled, jobs } = await setUp(t)
  const entry = await create({ title: 'Hello' })
  const other = await create({ title: 'Another' })
  const first = await scheduled(entry.documentId, 'publish', inMs(HOUR))
  const unpublish = await scheduled(entry.documentId, 'unpublish', inMs(3 * HOUR))
  const elsewhere = await scheduled(other.documentId, 'publish', inMs(HOUR))
  const second = await scheduled(entry.documentId, 'publish', inMs(2 * HOUR))

  const list = await jobs(entry.documentId)
  t.same(list.map((j) => [j.id, j.action, j.status]), [
    [unpublish.id, 'unpublish', 'pending'],
    [second.id, 'publish', 'pending'],
    [first.id, 'publish', 'cancelled'],
  ], 'latest first')
  t.ok(list[2]?.finishedAt, 'the replaced job has finished')
  t.same((await jobs(other.documentId)).map((j) => [j.id, j.status]), [[elsewhere.id, 'pending']], 'another entry\'s job stays')

  const audit = await app.inject({ url: '/api/admin/audit-log?action=entry.schedule', headers: admin.headers })
  t.equal(audit.json().meta.total, 4)
  t.match(audit.json().data[0], {
    subject: 'content:article',
    userId: admin.user.id,
    details: { documentId: entry.documentId, locale: 'en', action: 'publish', at: second.runAt },
  })
})

t.test('two schedules of one entry at once: one replaces the other, one job stays pending', {
  skip: onPostgres ? false : 'needs PostgreSQL: the embedded database serves one transaction at a time',
}, async (t) => {
  const { app, create, schedule } = await setUp(t)
  for (const title of ['One', 'Two', 'Three']) {
    const entry = await create({ title })
    const answers = await Promise.all([inMs(HOUR), inMs(2 * HOUR)].map((at) => schedule(entry.documentId, 'publish', at)))
    t.same(answers.map((res) => res.statusCode), [201, 201])
    const jobs = await app.prisma.scheduledJob.findMany({ where: { documentId: entry.documentId } })
    t.same(jobs.map((j) => j.status).sort(), ['cancelled', 'pending'], `${title}: one job pending, not two`)
  }
})

t.test('a pending job can be cancelled and then does not run; an unknown job is not found', async (t) => {
  const { app, call, create, read, scheduled, jobs } = await setUp(t)
  const entry = await create({ title: 'Hello' })
  const other = await create({ title: 'Another' })
  const at = inMs(1000)
  const job = await scheduled(entry.documentId, 'publish', at)
  const othersJob = await scheduled(other.documentId, 'publish', inMs(HOUR))
  const url = `${ARTICLES}/${entry.documentId}/schedule/${job.id}`

  const cancelled = await call('DELETE', url)
  t.equal(cancelled.statusCode, 204)
  t.equal(cancelled.body, '')
  t.match(await jobs(entry.documentId), [{ id: job.id, status: 'cancelled', attempts: 0 }])
  const again = await call('DELETE', url)
  t.equal(again.statusCode, 409)
  t.equal(again.json().code, 'GUDANG_ERR_CONFLICT')
  t.equal(again.json().message, 'The job is cancelled: only a pending job can be cancelled')

  const unknown = await call('DELETE', `${ARTICLES}/${entry.documentId}/schedule/${missing}`)
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'GUDANG_ERR_NOT_FOUND')
  t.equal(unknown.json().message, `No scheduled job ${missing} for this entry`)
  const wrongEntry = await call('DELETE', `${ARTICLES}/${entry.documentId}/schedule/${othersJob.id}`)
  t.equal(wrongEntry.statusCode, 404, 'a job is cancelled through its own entry')
  t.equal((await jobs(other.documentId))[0]?.status, 'pending')
  t.equal((await call('DELETE', `${ARTICLES}/${missing}/schedule/${job.id}`)).statusCode, 404)

  await until(at)
  t.equal(await app.scheduler.runDue(), 0, 'the cancelled job does not run')
  t.match(await read(entry.documentId), { status: 'draft', version: 1 })
})

t.test('a draft that does not pass publishing fails its job, which says why', async (t) => {
  const { app, create, read, scheduled, jobs } = await setUp(t)
  const entry = await create({ summary: 'no title yet' })
  const at = inMs(1000)
  await scheduled(entry.documentId, 'publish', at)
  await until(at)
  t.equal(await app.scheduler.runDue(), 1)
  const [job] = await jobs(entry.documentId)
  t.match(job, { status: 'failed', attempts: 1, error: 'Cannot publish: /title must have required property \'title\'' })
  t.ok(job?.finishedAt)
  t.match(await read(entry.documentId), { status: 'draft', version: 1 }, 'nothing changed')
  t.equal(await app.scheduler.runDue(), 0, 'a failed job is not tried again')
})

t.test('deleting an entry cancels its pending jobs; jobs that ran stay as they are', async (t) => {
  const { app, call, create, scheduled, jobs } = await setUp(t)
  const entry = await create({ title: 'Doomed' })
  const other = await create({ title: 'Stays' })
  const at = inMs(1000)
  const ran = await scheduled(entry.documentId, 'publish', at)
  await until(at)
  t.equal(await app.scheduler.runDue(), 1)
  const unpublish = await scheduled(entry.documentId, 'unpublish', inMs(HOUR))
  const publishAgain = await scheduled(entry.documentId, 'publish', inMs(2 * HOUR))
  const othersJob = await scheduled(other.documentId, 'publish', inMs(HOUR))

  t.equal((await call('DELETE', `${ARTICLES}/${entry.documentId}`)).statusCode, 204)
  const rows = await app.prisma.scheduledJob.findMany({ where: { documentId: entry.documentId }, orderBy: { runAt: 'asc' } })
  t.same(rows.map((r) => [r.id, r.status]), [[ran.id, 'done'], [unpublish.id, 'cancelled'], [publishAgain.id, 'cancelled']])
  t.ok(rows.every((r) => r.finishedAt !== null))
  t.same((await jobs(other.documentId)).map((j) => [j.id, j.status]), [[othersJob.id, 'pending']])
  t.equal((await call('GET', `${ARTICLES}/${entry.documentId}/schedule`)).statusCode, 404)
})

t.test('a job whose instance died is claimed again once its claim expired; after 3 attempts it is given up', async (t) => {
  const { app, create, read, scheduled, jobs } = await setUp(t)
  const expired = await create({ title: 'Expired' })
  const third = await create({ title: 'Third' })
  const fourth = await create({ title: 'Fourth' })
  const held = await create({ title: 'Held' })
  const at = inMs(1000)
  for (const entry of [expired, third, fourth, held]) await scheduled(entry.documentId, 'publish', at)
  await until(at)
  // An instance claimed each job and crashed: its claim ran out, except for `held`'s.
  const crash = (entry: Entry, attempts: number, lockedUntil: Date) => app.prisma.scheduledJob.updateMany({
    where: { documentId: entry.documentId },
    data: { status: 'running', attempts, lockedUntil },
  })
  await crash(expired, 1, inMs(-1000))
  await crash(third, 2, inMs(-1000))
  await crash(fourth, 3, inMs(-1000))
  await crash(held, 1, inMs(HOUR))

  t.equal(await app.scheduler.runDue(), 3)
  t.match(await jobs(expired.documentId), [{ status: 'done', attempts: 2, error: null }])
  t.equal((await read(expired.documentId)).status, 'published')
  t.match(await jobs(third.documentId), [{ status: 'done', attempts: 3, error: null }], 'the third attempt still runs')
  t.equal((await read(third.documentId)).status, 'published')
  t.match(await jobs(fourth.documentId), [{ status: 'failed', attempts: 4, error: 'Gave up after 3 attempts' }])
  t.equal((await read(fourth.documentId)).status, 'draft')
  t.match(await jobs(held.documentId), [{ status: 'running', attempts: 1, error: null, finishedAt: null }], 'a live claim is left alone')
  t.equal((await read(held.documentId)).status, 'draft')
})

t.test('a run that stalled past its claim, taken over meanwhile, changes nothing when it wakes', async (t) => {
  const { app, call, create, read, scheduled, jobs, versions, admin } = await setUp(t)
  const entry = await create({ title: 'Hello' })
  const at = inMs(1000)
  const job = await scheduled(entry.documentId, 'publish', at)
  await until(at)

  // The first run stalls (a long pause of its instance) after claiming the job, before publishing.
  let wake = () => {}
  const stalled = new Promise<void>((resolve) => {
    wake = resolve
  })
  let stalls = 0
  const publish = app.entries.publish
  app.entries.publish = async (...args: Parameters<typeof publish>) => {
    if (stalls++ === 0) await stalled
    return publish(...args)
  }
  const slow = app.scheduler.runDue()
  await poll(async () => (stalls > 0 ? true : undefined), 'the first run to stall')
  // Its claim runs out; another run takes the job over and publishes.
  await app.prisma.scheduledJob.update({ where: { id: job.id }, data: { lockedUntil: inMs(-1000) } })
  t.equal(await app.scheduler.runDue(), 1)
  t.match(await jobs(entry.documentId), [{ status: 'done', attempts: 2, error: null }])
  // The editor goes on with the published entry.
  const edited = await call('PUT', `${ARTICLES}/${entry.documentId}`, { payload: { data: { title: 'Not yet for readers' } } })
  t.equal(edited.statusCode, 200)

  wake()
  t.equal(await slow, 1, 'the stalled run ends')
  t.match(await read(entry.documentId), { status: 'modified', version: 3, title: 'Not yet for readers' }, 'the edit is not published')
  t.same(await versions(entry.documentId), [
    { version: 3, action: 'update', createdById: admin.user.id },
    { version: 2, action: 'publish', createdById: null },
    { version: 1, action: 'create', createdById: admin.user.id },
  ])
  t.match(await jobs(entry.documentId), [{ status: 'done', attempts: 2, error: null }], 'the job is as the second run left it')
})

t.test('a run that waited longer than a transaction may (behind a long change) is tried again, not failed', async (t) => {
  const { app, create, read, scheduled, jobs, versions } = await setUp(t, { GUDANG_TRANSACTION_TIMEOUT: 500 })
  const entry = await create({ title: 'Hello' })
  const at = inMs(1000)
  await scheduled(entry.documentId, 'publish', at)
  await until(at)
  // The first publish outlasts the transaction's time (as one waiting for a content model change would).
  let runs = 0
  const publish = app.entries.publish
  app.entries.publish = async (scope, target, alongside) => publish(scope, target, async (tx) => {
    if (runs++ === 0) await sleep(800)
    await alongside?.(tx)
  })
  t.equal(await app.scheduler.runDue(), 1, 'run once, then left for later')
  t.match(await jobs(entry.documentId), [{ status: 'running', attempts: 1, error: null }])
  const waiting = await app.prisma.scheduledJob.findFirstOrThrow({ where: { documentId: entry.documentId } })
  t.ok(Number(waiting.lockedUntil) > Date.now() + 20_000, 'tried again in 30 s')
  t.match(await read(entry.documentId), { status: 'draft', version: 1 }, 'nothing was published')
  // As if the 30 s had passed.
  await app.prisma.scheduledJob.updateMany({ data: { lockedUntil: new Date(Date.now() - 1000) } })
  t.equal(await app.scheduler.runDue(), 1, 'tried again')
  t.match(await jobs(entry.documentId), [{ status: 'done', attempts: 2, error: null }])
  t.match(await read(entry.documentId), { status: 'published', version: 2 })
  t.same((await versions(entry.documentId)).map((v) => v.action), ['publish', 'create'], 'published once')
})

t.test('A scheduled publish happens once with two app instances running on one PostgreSQL', {
  skip: onPostgres ? false : 'needs PostgreSQL: two instances cannot share one embedded database',
}, async (t) => {
  const one = await buildWithAdmin(t)
  const admin = await login(one)
  await model(one, admin)
  const { create, scheduled } = client(one, admin)
  // The second instance on the first one's database; closed before that database is dropped.
  const other = buildApp(testConfig({ DATABASE_URL: one.config.DATABASE_URL }), { logger: false })
  t.teardown(() => other.close())
  await other.ready()

  const count = 12
  const entries = await Promise.all(Array.from({ length: count }, (_, i) => create({ title: `Article ${i}` })))
  const at = inMs(1000)
  for (const entry of entries) await scheduled(entry.documentId, 'publish', at)
  await until(at)

  // Both at once, each also twice over (a timer's run and a manual one): six claimers race for every job.
  const instances = [one, other, one, other, one, other]
  const ran = await Promise.all(instances.map((instance) => instance.scheduler.runDue()))
  t.equal(ran.reduce((a, b) => a + b, 0), count, `the runs ran ${ran.join(', ')} jobs: ${count} in all`)
  const documentIds = entries.map((e) => e.documentId)
  const publishes = await one.prisma.entryVersion.groupBy({
    by: ['entryId'],
    where: { action: 'publish', entry: { documentId: { in: documentIds } } },
    _count: { _all: true },
  })
  t.equal(publishes.length, count, 'every entry was published')
  t.ok(publishes.every((p) => p._count._all === 1), 'each exactly once')
  const jobs = await one.prisma.scheduledJob.findMany()
  t.same(jobs.map((j) => [j.status, j.attempts]), Array.from({ length: count }, () => ['done', 1]), 'each job claimed once')
  t.equal(await one.prisma.auditEvent.count({ where: { action: 'entry.publish' } }), count)
  t.same(await Promise.all([one.scheduler.runDue(), other.scheduler.runDue()]), [0, 0])
})

t.test('with GUDANG_SCHEDULER_INTERVAL the timer runs a due job by itself', async (t) => {
  const { create, read, scheduled, jobs } = await setUp(t, { GUDANG_SCHEDULER_INTERVAL: 50 })
  const entry = await create({ title: 'On time' })
  const job = await scheduled(entry.documentId, 'publish', inMs(1000))
  const done = await poll(async () => (await jobs(entry.documentId)).find((j) => FINISHED.includes(j.status)), 'the job to run')
  t.match(done, { id: job.id, status: 'done', attempts: 1 })
  t.match(await read(entry.documentId), { status: 'published', updatedBy: null })
})

t.test('a job due while no instance ran runs right after start; a closed app\'s timer is stopped', async (t) => {
  // One database for the instances one after the other: a PGlite data folder, or the test's PostgreSQL database.
  const database = onPostgres ? {} : { GUDANG_DATA_DIR: t.testdir() }
  const first = await buildWithAdmin(t, { GUDANG_SCHEDULER_INTERVAL: 50, ...database })
  const admin = await login(first)
  await model(first, admin)
  const { create, scheduled } = client(first, admin)
  const entry = await create({ title: 'Missed' })

  let ticks = 0
  const runDue = first.scheduler.runDue
  first.scheduler.runDue = () => {
    ticks++
    return runDue()
  }
  await poll(async () => (ticks >= 2 ? true : undefined), 'the timer to tick')
  const at = inMs(1500)
  const job = await scheduled(entry.documentId, 'publish', at)
  await first.close()
  const closedAt = Date.now()
  const ticksAtClose = ticks
  await until(new Date(at.getTime() + 200))
  t.equal(ticks, ticksAtClose, 'no tick after close')

  const { DATABASE_URL, GUDANG_DATA_DIR } = first.config
  // Its timer would run next in an hour: only the run at start can run the job.
  const second = await build(t, {
    GUDANG_SCHEDULER_INTERVAL: HOUR,
    ...(onPostgres ? { DATABASE_URL } : { GUDANG_DATA_DIR }),
  })
  await second.ready()
  const done = await poll(async () => {
    const row = await second.prisma.scheduledJob.findUniqueOrThrow({ where: { id: job.id } })
    return FINISHED.includes(row.status) ? row : undefined
  }, 'the missed job to run')
  t.match(done, { status: 'done', attempts: 1 })
  t.ok((done.finishedAt?.getTime() ?? 0) >= closedAt, 'run by the instance started later')
  const published = await second.prisma.entry.findFirstOrThrow({ where: { documentId: entry.documentId } })
  t.equal(published.publishedVersion, 2)
})

t.test('a run of the timer that fails is logged, and the timer goes on', async (t) => {
  const logs: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(chunk.toString())
      callback()
    },
  })
  const app = await build(t, { GUDANG_SCHEDULER_INTERVAL: 20 }, { logger: { level: 'error', stream } })
  let calls = 0
  app.scheduler.runDue = async () => {
    calls++
    throw new Error('the database is away')
  }
  await app.ready()
  await poll(async () => (calls >= 3 ? true : undefined), 'three runs')
  const logged = logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'the scheduler failed')
  t.ok(logged.length >= 2, 'each failure is logged')
  t.equal(logged[0].err.message, 'the database is away')
})
