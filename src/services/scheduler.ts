import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ConflictError, invalid, NotFoundError } from '../errors.js'
import type { Prisma, ScheduledJob } from '../generated/prisma/client.js'
import type { Rule } from './access-control.js'
import { audit } from './audit.js'
import type { Scope, Target } from './entries.js'

/** How long a claimed job is its instance's; after that another instance may run it again. */
const CLAIM_SECONDS = 300
/** How long a job that waited too long behind another change waits before it is tried again. */
const BUSY_RETRY_MS = 30_000
/** A job whose instance died this many times is given up. */
const MAX_ATTEMPTS = 3

/** What the scheduler may do: read any type, change any entry (it acts for whoever scheduled). */
const SERVER_RULES: Rule[] = [{ subject: '*', action: 'read', ownOnly: false, fields: [] }]

/**
 * Publishing and unpublishing at a given time. Every instance runs a timer; each due job is
 * claimed by exactly one of them (`FOR UPDATE SKIP LOCKED`), so with several instances on one
 * database a job runs once. Jobs due while no instance ran (a restart) run on the next tick.
 */
function createScheduler(app: FastifyInstance) {
  const { prisma, entries } = app

  /** Claims the next due job, or a claimed one whose instance gave no sign for CLAIM_SECONDS. */
  async function claim(): Promise<ScheduledJob | undefined> {
    const [job] = await prisma.$queryRaw<{ id: string }[]>`
      UPDATE scheduled_jobs SET status = 'running', attempts = attempts + 1,
        locked_until = now() + make_interval(secs => ${CLAIM_SECONDS})
      WHERE id = (
        SELECT id FROM scheduled_jobs
        WHERE run_at <= now() AND (status = 'pending' OR (status = 'running' AND locked_until < now()))
        ORDER BY run_at, id
        LIMIT 1
        FOR UPDATE SKIP LOCKED)
      RETURNING id`
    return job === undefined ? undefined : prisma.scheduledJob.findUniqueOrThrow({ where: { id: job.id } })
  }

  async function run(job: ScheduledJob): Promise<void> {
    // Only while the claim is still this run's: an instance that took too long finds it gone.
    const claimed = { id: job.id, status: 'running' as const, attempts: job.attempts }
    const finish = (tx: Prisma.TransactionClient, status: 'done' | 'failed', error?: string) => tx.scheduledJob.updateMany({
      where: claimed,
      data: { status, error, finishedAt: new Date(), lockedUntil: null },
    })
    if (job.attempts > MAX_ATTEMPTS) {
      await finish(prisma, 'failed', `Gave up after ${MAX_ATTEMPTS} attempts`)
      return
    }
    try {
      const type = await prisma.contentType.findUniqueOrThrow({ where: { id: job.contentTypeId } })
      const grant = { where: {}, fields: undefined }
      const scope: Scope = { apiId: type.apiId, grant, actor: {}, rules: SERVER_RULES }
      // Done in the transaction of the publish itself: both happen, or neither.
      await entries[job.action](scope, { documentId: job.documentId, locale: job.locale }, async (tx) => {
        const { count } = await finish(tx, 'done')
        if (count === 0) throw new ConflictError('Another instance has claimed the job since')
      })
    } catch (error) {
      if ((error as { code?: string }).code === 'P2028') {
        // It waited too long behind a longer change: the claim stays, shortened, so that it is
        // tried again (an attempt more) once that change has had its time.
        const lockedUntil = new Date(Date.now() + BUSY_RETRY_MS)
        await prisma.scheduledJob.updateMany({ where: claimed, data: { lockedUntil } })
        return
      }
      // The job cannot be done (the draft does not pass publishing, the entry is gone): it fails and says why.
      await finish(prisma, 'failed', (error as Error).message)
    }
  }

  let timer: NodeJS.Timeout | undefined
  let ticking: Promise<number> | undefined

  const scheduler = {
    /** Runs every due job; answers how many ran. */
    async runDue(): Promise<number> {
      let count = 0
      for (let job = await claim(); job !== undefined; job = await claim()) {
        await run(job)
        count++
      }
      return count
    },

    /** Schedules a publish or unpublish of an entry variant; a pending one of the same action is replaced. */
    async schedule(scope: Scope, target: Target, input: { action: 'publish' | 'unpublish', at: Date }) {
      if (input.at.getTime() <= Date.now()) {
        throw invalid('The time is in the past: publish now instead', [
          { in: 'body', path: '/at', message: 'must be in the future' },
        ])
      }
      const type = await app.contentModel.getType(scope.apiId, scope.rules)
      if (!type.draftAndPublish) throw new ConflictError(`"${type.apiId}" has no draft & publish: saving publishes`)
      const entry = await entries.get(scope, target)
      return prisma.$transaction(async (tx) => {
        // Two schedules of one entry take turns: the second replaces the first's job instead of adding its own.
        await tx.$queryRaw`SELECT 1 FROM entries WHERE id = ${entry.id}::uuid FOR UPDATE`
        const { documentId, locale } = entry
        const where = { documentId, locale, action: input.action, status: 'pending' as const }
        await tx.scheduledJob.updateMany({ where, data: { status: 'cancelled', finishedAt: new Date() } })
        const job = await tx.scheduledJob.create({
          data: {
            contentTypeId: type.id,
            documentId: entry.documentId,
            locale: entry.locale,
            action: input.action,
            runAt: input.at,
            createdById: scope.actor.userId,
          },
        })
        await audit(tx, {
          action: 'entry.schedule',
          subject: `content:${type.apiId}`,
          actor: scope.actor,
          details: { documentId, locale, action: input.action, at: input.at.toISOString() },
        })
        return job
      })
    },

    /** An entry variant's jobs, the next first. */
    async list(scope: Scope, target: Target) {
      const entry = await entries.get(scope, target)
      return prisma.scheduledJob.findMany({
        where: { documentId: entry.documentId, locale: entry.locale },
        orderBy: [{ runAt: 'desc' }, { id: 'desc' }],
      })
    },

    /** Cancels a pending job; one that ran, or is running, stays as it is (409). */
    async cancel(scope: Scope, target: Target, jobId: string): Promise<void> {
      const entry = await entries.get(scope, target)
      const where = { id: jobId, documentId: entry.documentId, locale: entry.locale }
      const job = await prisma.scheduledJob.findFirst({ where })
      if (job === null) throw new NotFoundError(`No scheduled job ${jobId} for this entry`)
      const { count } = await prisma.scheduledJob.updateMany({
        where: { ...where, status: 'pending' },
        data: { status: 'cancelled', finishedAt: new Date() },
      })
      if (count === 0) throw new ConflictError(`The job is ${job.status}: only a pending job can be cancelled`)
    },

    start(intervalMs: number): void {
      const tick = () => {
        ticking ??= scheduler.runDue().catch((error: unknown) => {
          app.log.error({ err: error }, 'the scheduler failed')
          return 0
        }).finally(() => {
          ticking = undefined
        })
      }
      tick()
      timer = setInterval(tick, intervalMs)
      timer.unref()
    },

    async stop(): Promise<void> {
      clearInterval(timer)
      await ticking
    },
  }
  return scheduler
}

declare module 'fastify' {
  interface FastifyInstance {
    scheduler: ReturnType<typeof createScheduler>
  }
}

async function schedulerPlugin(app: FastifyInstance): Promise<void> {
  const scheduler = createScheduler(app)
  app.decorate('scheduler', scheduler)
  const interval = app.config.GUDANG_SCHEDULER_INTERVAL
  if (interval > 0) {
    app.addHook('onReady', async () => scheduler.start(interval))
    app.addHook('onClose', async () => scheduler.stop())
  }
}

export default fp(schedulerPlugin, { name: 'scheduler', dependencies: ['prisma', 'entries', 'content-model'] })
