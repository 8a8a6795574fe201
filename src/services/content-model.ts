import { isDeepStrictEqual } from 'node:util'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ConflictError, invalid, listed, ModelChangeRefusedError, NotFoundError, withDetails } from '../errors.js'
import type { Prisma } from '../generated/prisma/client.js'
import {
  type ComponentDefinition,
  type ContentTypeDefinition,
  type FieldDefinition,
  type ModelFile,
  ModelFileSchema,
  type NewComponent,
  type NewContentType,
} from '../schemas/content-model.js'
import { type Rule, ruleFor } from './access-control.js'
import { type Actor, audit } from './audit.js'
import type { ModelExport } from './content-declarations.js'
import { changedFields, type Data, isData, mapData } from './content-data.js'
import {
  componentFields,
  type Components,
  createValidators,
  definitionProblems,
  entrySchema,
  inverseProblems,
  type Problem,
  type ValidationMode,
} from './content-schema.js'
import { type ChangeOptions, type Failure, migrateObject, planSteps, type Step } from './model-changes.js'

/** How many entries a plan lists for each problem; the count says how many there are. */
const LISTED = 50

type TypeVersion = { id: string, version: number }

/** The steps of a new definition: each field added. */
function added(fields: readonly FieldDefinition[]): Step[] {
  return fields.map((f) => ({ action: 'add', field: f.name, type: f.type }))
}

/** A change asked for: what it means for values, and whether only to plan it (then no actor). */
type ChangeRequest = { changes?: ChangeOptions } & ({ dryRun: true } | { dryRun?: false, actor: Actor })

/** An entry a change touches, and why. */
export interface AffectedEntry {
  documentId: string
  locale: string
  status: 'draft' | 'published'
  path: string
  message: string
}

/** A change to the model computed against the entries it touches; applied only if nothing blocks it. */
export interface Plan {
  steps: (Step & { entries: number })[]
  blocked: { reason: string, count: number, entries: AffectedEntry[] }[]
  /** Published entries the new rules would not let be published again as they are. */
  invalid: { count: number, entries: AffectedEntry[] }
  applicable: boolean
}

/** Entry writes of a type take turns with each other and with changes of its definition. */
export async function lockEntries(tx: Prisma.TransactionClient, typeId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext(${`gudang.entries:${typeId}`}))) AS locked`
}

type Transaction = Prisma.TransactionClient

/** Definitions are checked before they are stored, so what is read back is sound. */
function fieldsOf(row: { fields: Prisma.JsonValue }): FieldDefinition[] {
  return row.fields as unknown as FieldDefinition[]
}

function asJson(fields: readonly FieldDefinition[]): Prisma.InputJsonValue {
  return fields as unknown as Prisma.InputJsonValue
}

function refuse(problems: Problem[]): void {
  if (problems.length === 0) return
  throw invalid(`Invalid definition: ${listed(problems)}`, problems.map((p) => ({ in: 'body', ...p })))
}

/** The fields that point at a content type or a component. */
function pointsAt(fields: readonly FieldDefinition[], target: { type?: string, component?: string }): boolean {
  return fields.some((f) =>
    (f.type === 'relation' && f.target === target.type)
    || (f.type === 'component' && f.component === target.component)
    || (f.type === 'dynamiczone' && target.component !== undefined && f.components.includes(target.component)))
}

/**
 * The content model: content types and components, stored as data and checked when saved.
 * A change of a definition is planned against the entries it touches and applied to them in
 * the same transaction (`migrate`).
 */
function createContentModel(app: FastifyInstance) {
  const { prisma } = app
  const validators = createValidators()

  async function model(tx: Transaction) {
    const types = await tx.contentType.findMany({ select: { apiId: true, fields: true } })
    const components = await tx.component.findMany({ select: { uid: true, fields: true } })
    return {
      types,
      components,
      /** Each type's API id and fields, as the checks of inverse names read them. */
      definitions: types.map((t) => ({ apiId: t.apiId, fields: fieldsOf(t) })),
      context: {
        contentTypes: new Set(types.map((t) => t.apiId)),
        components: new Map(components.map((c) => [c.uid, fieldsOf(c)])),
      },
    }
  }

  /**
   * Changes to the model take turns (one advisory lock for all of it), so that two of them
   * cannot each pass their checks and together make a cycle or a dangling reference.
   */
  async function lockModel(tx: Transaction): Promise<void> {
    await tx.$queryRaw`SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext('gudang.content-model'))) AS locked`
  }

  /** Whether the caller may read a type: its entries, or the model as such. */
  function readable(rules: Rule[], apiId: string): boolean {
    return ruleFor(rules, `content:${apiId}`, 'read') !== undefined || ruleFor(rules, 'content-types', 'read') !== undefined
  }

  async function findType(tx: Transaction, apiId: string) {
    const type = await tx.contentType.findUnique({ where: { apiId } })
    if (type === null) throw new NotFoundError(`No content type "${apiId}"`)
    return type
  }

  /** A type the caller may not read is not found, like a missing one. */
  async function readableType(apiId: string, rules: Rule[]) {
    const type = await findType(prisma, apiId)
    if (!readable(rules, apiId)) throw new NotFoundError(`No content type "${apiId}"`)
    return type
  }

  async function findComponent(tx: Transaction, uid: string) {
    const component = await tx.component.findUnique({ where: { uid } })
    if (component === null) throw new NotFoundError(`No component "${uid}"`)
    return component
  }

  /** A type's new definition in its history and the audit log. */
  async function record(tx: Transaction, type: TypeVersion, definition: { apiId: string }, steps: Step[], by: Actor) {
    const changes = steps as unknown as Prisma.InputJsonArray
    await tx.contentTypeVersion.create({
      data: { contentTypeId: type.id, version: type.version, definition, changes, createdById: by.userId },
    })
    const action = type.version === 1 ? 'content-type.create' : 'content-type.update'
    await audit(tx, { action, subject: 'content-types', actor: by, details: { apiId: definition.apiId, version: type.version, changes } })
  }

  /** The types whose entries hold a component, at any depth. */
  function typesUsing(types: { apiId: string, fields: Prisma.JsonValue }[], components: Components, uid: string) {
    const reaches = (fields: readonly FieldDefinition[], seen: Set<string>): boolean => fields.some((f) => {
      const uids = f.type === 'component' ? [f.component] : f.type === 'dynamiczone' ? f.components : []
      const inner = (u: string) => reaches(componentFields(components, u), seen)
      return uids.some((u) => u === uid || (!seen.has(u) && (seen.add(u), inner(u))))
    })
    return types.filter((t) => reaches(fieldsOf(t), new Set())).map((t) => t.apiId)
  }

  /**
   * Computes (and with `apply`, carries out) a change of a field list against every entry it
   * touches: values move, convert or go; what cannot convert, removals not confirmed, and
   * options the entries do not fit (`blockers`) block the change.
   */
  async function migrate(
    tx: Transaction,
    change: {
      typeIds: string[]
      current: readonly FieldDefinition[]
      next: readonly FieldDefinition[]
      /** The model after the change: each type's fields and the components. */
      after: { fields: (typeId: string) => readonly FieldDefinition[], components: Components }
      /** Applies an object's migration to an entry's data of a type. */
      transform: (typeId: string, data: Data, object: (data: Data, path: string) => Data) => Data
    },
    options: ChangeOptions,
    blockers: Plan['blocked'],
    /** Who applies the change; undefined: only plan it. */
    by: Actor | undefined,
  ): Promise<Plan> {
    const { steps, migration, problems } = planSteps(change.current, change.next, options.rename)
    for (const name of Object.keys(options.convert ?? {})) {
      if (!steps.some((s) => s.action === 'retype' && s.field === name) && !change.next.some((f) => f.name === name)) {
        problems.push({ path: `/changes/convert/${name}`, message: `there is no field "${name}" in the new definition` })
      }
    }
    refuse(problems)
    for (const id of change.typeIds) await lockEntries(tx, id)
    const clear = new Set(Object.keys(options.convert ?? {}))
    const held = new Map<string, Set<string>>()
    const failed: AffectedEntry[] = []
    const invalid: AffectedEntry[] = []
    const clashes: AffectedEntry[] = []
    // Each type's schemas are built once, not once per entry.
    const built = new Map<string, Record<ValidationMode, Record<string, unknown>>>()
    const schemasOf = (typeId: string, fields: readonly FieldDefinition[]) => {
      const schemas = built.get(typeId) ?? {
        draft: entrySchema(fields, change.after.components, 'draft'),
        publish: entrySchema(fields, change.after.components, 'publish'),
      }
      built.set(typeId, schemas)
      return schemas
    }
    const holders = new Map<string, string>()
    let cursor: string | undefined
    for (;;) {
      const rows = await tx.entry.findMany({
        where: { contentTypeId: { in: change.typeIds }, ...(cursor === undefined ? {} : { id: { gt: cursor } }) },
        orderBy: { id: 'asc' },
        take: 500,
      })
      if (rows.length === 0) break
      cursor = rows[rows.length - 1]?.id
      for (const row of rows) {
        const fields = change.after.fields(row.contentTypeId)
        const schemas = schemasOf(row.contentTypeId, fields)
        const migrated: Partial<Record<'draft' | 'published', Data>> = {}
        for (const status of ['draft', 'published'] as const) {
          const data = row[status]
          if (!isData(data)) continue
          const where = { documentId: row.documentId, locale: row.locale, status }
          const object = (value: Data, path: string): Data => {
            for (const name of migration.current) {
              if (Object.hasOwn(value, name) && value[name] !== null) {
                const rowsHolding = held.get(name) ?? new Set()
                held.set(name, rowsHolding.add(row.id))
              }
            }
            const fits = (field: FieldDefinition, v: unknown) => accepts(field, v, change.after.components)
            const result = migrateObject(value, migration, clear, fits)
            result.failures.forEach((f: Failure) => failed.push({ ...where, path: `${path}/${f.field}`, message: f.message }))
            return result.data
          }
          const next = change.transform(row.contentTypeId, data, object)
          migrated[status] = next
          const draftCheck = validators.validate(schemas.draft, next)
          draftCheck.problems.forEach((p) => failed.push({ ...where, ...p }))
          // Unique values (per type, locale and status) must stay unique: a field made unique, say.
          for (const field of fields.filter((f) => f.unique === true || f.type === 'uid')) {
            if (next[field.name] === undefined) continue
            const key = JSON.stringify([row.contentTypeId, row.locale, status, field.name, next[field.name]])
            const holder = holders.get(key)
            if (holder === undefined) holders.set(key, row.documentId)
            else clashes.push({ ...where, path: `/${field.name}`, message: `has the value of ${holder} too` })
          }
          if (status === 'published' && draftCheck.valid) {
            const publishCheck = validators.validate(schemas.publish, next)
            publishCheck.problems.forEach((p) => invalid.push({ ...where, ...p }))
          }
        }
        // Compared as values: the database does not keep the order of an object's keys.
        const changed = (['draft', 'published'] as const).some((status) => !isDeepStrictEqual(migrated[status] ?? null, row[status]))
        if (by !== undefined && changed) {
          const version = row.version + 1
          const draft = migrated.draft as Data
          await tx.entryVersion.create({
            data: {
              entryId: row.id,
              version,
              action: 'migrate',
              data: draft as Prisma.InputJsonValue,
              changed: changedFields(row.draft as Data, draft),
              createdById: by.userId,
            },
          })
          await tx.entry.update({
            where: { id: row.id },
            data: {
              draft: migrated.draft as Prisma.InputJsonValue,
              ...(migrated.published === undefined ? {} : { published: migrated.published as Prisma.InputJsonValue }),
              version: row.version + 1,
              // Still published as it was: the published data moved along with the draft.
              ...(row.publishedVersion === row.version ? { publishedVersion: row.version + 1 } : {}),
            },
          })
        }
      }
    }
    const count = (name: string | undefined) => (name === undefined ? 0 : held.get(name)?.size ?? 0)
    const sourceOf = (step: Step) => (step.action === 'rename' ? step.from : step.action === 'add' ? undefined : change.current.some((f) => f.name === step.field) ? step.field : migration.moves.find((m) => m.field.name === step.field)?.source?.name)
    const planned = steps.map((step) => ({ ...step, entries: count(sourceOf(step)) }))
    const blocked = [...blockers]
    const list = (entries: AffectedEntry[]) => ({ count: entries.length, entries: entries.slice(0, LISTED) })
    if (failed.length > 0) {
      blocked.push({ reason: 'Values would not fit the new definition: convert them (changes.convert: clear) or change the entries first', ...list(failed) })
    }
    if (clashes.length > 0) {
      blocked.push({ reason: 'Unique fields would hold the same value in several entries: change the entries first', ...list(clashes) })
    }
    const confirmed = new Set(options.remove ?? [])
    for (const step of planned) {
      if (step.action === 'remove' && step.entries > 0 && !confirmed.has(step.field)) {
        blocked.push({ reason: `Field "${step.field}" holds data in ${step.entries} entries: confirm its removal (changes.remove)`, count: step.entries, entries: [] })
      }
    }
    return { steps: planned, blocked, invalid: list(invalid), applicable: blocked.length === 0 }
  }

  /** Whether a value fits a field (draft mode): `clear` drops the ones that do not. */
  function accepts(field: FieldDefinition, value: unknown, components: Components): boolean {
    return validators.validate(entrySchema([field], components, 'draft'), { [field.name]: value }).valid
  }

  /** Options of a type that its entries must fit: one locale each, drafts published, one entry. */
  async function typeBlockers(
    tx: Transaction,
    type: { id: string, kind: string, localized: boolean, draftAndPublish: boolean },
    next: ContentTypeDefinition,
  ) {
    const blocked: Plan['blocked'] = []
    const affected = (rows: { documentId: string, locale: string }[], message: string): AffectedEntry[] =>
      rows.slice(0, LISTED).map((r) => ({ documentId: r.documentId, locale: r.locale, status: 'draft', path: '/', message }))
    if (type.localized && next.localized === false) {
      const rows = await tx.$queryRaw<{ documentId: string, locale: string }[]>`
        SELECT document_id AS "documentId", locale FROM entries
        WHERE content_type_id = ${type.id}::uuid AND document_id IN (
          SELECT document_id FROM entries WHERE content_type_id = ${type.id}::uuid GROUP BY document_id HAVING count(*) > 1)
        ORDER BY document_id, locale`
      if (rows.length > 0) blocked.push({ reason: 'Entries have several locales: delete all but one of each first', count: rows.length, entries: affected(rows, 'has several locales') })
    }
    if (type.draftAndPublish && next.draftAndPublish === false) {
      const rows = await tx.entry.findMany({
        where: {
          contentTypeId: type.id,
          OR: [{ publishedVersion: null }, { NOT: { publishedVersion: { equals: tx.entry.fields.version } } }],
        },
        select: { documentId: true, locale: true },
      })
      if (rows.length > 0) blocked.push({ reason: 'Without draft & publish, saving publishes: publish or discard these drafts first', count: rows.length, entries: affected(rows, 'has an unpublished draft') })
    }
    if (type.kind === 'collection' && next.kind === 'single') {
      const documents = await tx.entry.groupBy({ by: ['documentId'], where: { contentTypeId: type.id } })
      if (documents.length > 1) blocked.push({ reason: `A single type has one entry; "${next.singularName}" has ${documents.length}`, count: documents.length, entries: [] })
    }
    return blocked
  }

  async function changeType(
    tx: Transaction,
    current: Awaited<ReturnType<typeof findType>>,
    definition: ContentTypeDefinition,
    options: ChangeRequest,
  ) {
    const { context, definitions } = await model(tx)
    const after = definitions.map((t) => (t.apiId === current.apiId ? { ...t, fields: definition.fields } : t))
    refuse([...definitionProblems(definition.fields, context), ...inverseProblems(after, current.apiId)])
    // Entry writes wait from here, so that what the option checks read holds until the change commits.
    await lockEntries(tx, current.id)
    const plan = await migrate(
      tx,
      {
        typeIds: [current.id],
        current: fieldsOf(current),
        next: definition.fields,
        after: { fields: () => definition.fields, components: context.components },
        transform: (_, data, object) => object(data, ''),
      },
      options.changes ?? {},
      await typeBlockers(tx, current, definition),
      options.dryRun === true ? undefined : options.actor,
    )
    if (options.dryRun === true) return { plan, type: current }
    if (!plan.applicable) throw withDetails(new ModelChangeRefusedError(plan.blocked.map((b) => b.reason).join('; ')), plan)
    const type = await tx.contentType.update({
      where: { id: current.id },
      data: { ...definition, fields: asJson(definition.fields), version: { increment: 1 } },
    })
    await record(tx, type, { apiId: current.apiId, ...definition }, plan.steps, options.actor)
    return { plan, type }
  }

  async function changeComponent(
    tx: Transaction,
    current: Awaited<ReturnType<typeof findComponent>>,
    definition: ComponentDefinition,
    options: ChangeRequest,
  ) {
    const { uid } = current
    const { types, context } = await model(tx)
    refuse(definitionProblems(definition.fields, context, uid))
    const users = typesUsing(types, context.components, uid)
    const rows = await tx.contentType.findMany({ where: { apiId: { in: users } }, select: { id: true, fields: true } })
    const typeFields = new Map(rows.map((t) => [t.id, fieldsOf(t)]))
    // Asked only for the types just read: each is there.
    const fieldsFor = (id: string) => typeFields.get(id) as FieldDefinition[]
    const after = new Map(context.components).set(uid, definition.fields)
    const plan = await migrate(
      tx,
      {
        typeIds: rows.map((t) => t.id),
        current: fieldsOf(current),
        next: definition.fields,
        after: { fields: fieldsFor, components: after },
        transform: (typeId, data, object) => {
          // Stored data fits its definition: a component's value is an object, or a list of them.
          const each = (item: unknown, at: string) => object(item as Data, at)
          return mapData(data, fieldsFor(typeId), context.components, (field, value, path) => {
            if (field.type === 'component' && field.component === uid) {
              return Array.isArray(value) ? value.map((item, i) => each(item, `${path}/${i}`)) : each(value, path)
            }
            if (field.type === 'dynamiczone' && Array.isArray(value)) {
              return value.map((item, i) => (isData(item) && item.__component === uid ? each(item, `${path}/${i}`) : item))
            }
            return value
          })
        },
      },
      options.changes ?? {},
      [],
      options.dryRun === true ? undefined : options.actor,
    )
    if (options.dryRun === true) return { plan, component: current }
    if (!plan.applicable) throw withDetails(new ModelChangeRefusedError(plan.blocked.map((b) => b.reason).join('; ')), plan)
    const component = await tx.component.update({
      where: { id: current.id },
      data: { ...definition, fields: asJson(definition.fields), version: { increment: 1 } },
    })
    const changes = plan.steps as unknown as Prisma.InputJsonArray
    await audit(tx, { action: 'component.update', subject: 'content-types', actor: options.actor, details: { uid, changes } })
    return { plan, component }
  }

  async function insertComponent(tx: Transaction, input: NewComponent, actor: Actor) {
    const component = await tx.component.create({ data: { ...input, fields: asJson(input.fields) } })
    const changes = added(input.fields) as unknown as Prisma.InputJsonArray
    await audit(tx, { action: 'component.create', subject: 'content-types', actor, details: { uid: input.uid, changes } })
    return component
  }

  return {
    /** The content types whose entries the caller may read. */
    async listTypes(rules: Rule[]) {
      const types = await prisma.contentType.findMany({ orderBy: { apiId: 'asc' } })
      return types.filter((type) => readable(rules, type.apiId))
    },

    getType: readableType,

    async createType(input: NewContentType, actor: Actor) {
      return prisma.$transaction(async (tx) => {
        await lockModel(tx)
        const { context, definitions } = await model(tx)
        // A type may relate to itself (a parent page, say).
        const contentTypes = new Set([...context.contentTypes, input.apiId])
        const after = [...definitions, input]
        refuse([
          ...definitionProblems(input.fields, { ...context, contentTypes }),
          ...inverseProblems(after, input.apiId),
        ])
        const type = await tx.contentType.create({ data: { ...input, fields: asJson(input.fields) } })
        await record(tx, type, input, added(input.fields), actor)
        return type
      })
    },

    /**
     * A new definition, planned against the entries: values move with renamed fields and
     * convert to new types; what cannot convert, or a removal of data not confirmed, blocks the
     * change (409 with the plan). With `dryRun` only the plan. Applied, the version goes up and
     * the old definition stays in the history with the steps taken.
     */
    async updateType(apiId: string, definition: ContentTypeDefinition, options: ChangeRequest) {
      return prisma.$transaction(async (tx) => {
        await lockModel(tx)
        return changeType(tx, await findType(tx, apiId), definition, options)
      }, { timeout: 120_000 })
    },

    /** Refused while another type relates to it. */
    async removeType(apiId: string, actor: Actor): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await lockModel(tx)
        const type = await findType(tx, apiId)
        const { types, components } = await model(tx)
        const referencedBy = [
          ...types.filter((t) => t.apiId !== apiId && pointsAt(fieldsOf(t), { type: apiId })).map((t) => t.apiId),
          ...components.filter((c) => pointsAt(fieldsOf(c), { type: apiId })).map((c) => c.uid),
        ]
        if (referencedBy.length > 0) {
          throw withDetails(new ConflictError(`Content types relate to "${apiId}": ${referencedBy.join(', ')}`), { referencedBy })
        }
        // Before counting: an entry saved meanwhile would otherwise fail the deletion (500).
        await lockEntries(tx, type.id)
        const entries = await tx.entry.count({ where: { contentTypeId: type.id } })
        if (entries > 0) {
          throw withDetails(new ConflictError(`"${apiId}" has ${entries} entries: delete them first`), { entries })
        }
        await tx.contentType.delete({ where: { id: type.id } })
        await audit(tx, { action: 'content-type.delete', subject: 'content-types', actor, details: { apiId } })
      })
    },

    async history(apiId: string) {
      const type = await findType(prisma, apiId)
      return prisma.contentTypeVersion.findMany({
        where: { contentTypeId: type.id },
        orderBy: { version: 'desc' },
        select: { version: true, definition: true, changes: true, createdById: true, createdAt: true },
      })
    },

    /** The whole model, as `gudang model export` writes it: the same model gives the same file. */
    async export(): Promise<ModelExport> {
      const types = await prisma.contentType.findMany({ orderBy: { apiId: 'asc' } })
      const components = await prisma.component.findMany({ orderBy: { uid: 'asc' } })
      return {
        components: components.map((c) => ({
          uid: c.uid,
          displayName: c.displayName,
          description: c.description,
          fields: fieldsOf(c),
        })),
        contentTypes: types.map((t) => ({
          apiId: t.apiId,
          kind: t.kind,
          singularName: t.singularName,
          pluralName: t.pluralName,
          description: t.description,
          draftAndPublish: t.draftAndPublish,
          localized: t.localized,
          fields: fieldsOf(t),
        })),
      }
    },

    async listComponents() {
      return prisma.component.findMany({ orderBy: { uid: 'asc' } })
    },

    async getComponent(uid: string) {
      return findComponent(prisma, uid)
    },

    async createComponent(input: NewComponent, actor: Actor) {
      return prisma.$transaction(async (tx) => {
        await lockModel(tx)
        const { context } = await model(tx)
        refuse(definitionProblems(input.fields, context, input.uid))
        return insertComponent(tx, input, actor)
      })
    },

    /** A new definition of a component, planned against every entry that holds it, as for a type. */
    async updateComponent(uid: string, definition: ComponentDefinition, options: ChangeRequest) {
      return prisma.$transaction(async (tx) => {
        await lockModel(tx)
        return changeComponent(tx, await findComponent(tx, uid), definition, options)
      }, { timeout: 120_000 })
    },

    /**
     * Applies a whole model (as `model export` writes it, a type or component may add
     * `changes`): creates what is new, changes what differs, planned against the entries like
     * any change; keeps what the file does not name. With `dryRun`, or when a change is blocked,
     * nothing is kept: the answer is the plan of each step.
     */
    async applyModel(input: unknown, options: { dryRun: boolean, actor: Actor }) {
      const { problems } = validators.validate(ModelFileSchema as unknown as Record<string, unknown>, input)
      refuse(problems)
      const file = input as ModelFile
      const outcome = { applied: false, changes: [] as { kind: 'component' | 'content-type', name: string, action: 'create' | 'update', plan?: Plan }[] }
      try {
        await prisma.$transaction(async (tx) => {
          await lockModel(tx)
          const { types, components, context, definitions } = await model(tx)
          const final = {
            contentTypes: new Set([...context.contentTypes, ...file.contentTypes.map((t) => t.apiId)]),
            components: new Map([...context.components, ...file.components.map((c) => [c.uid, c.fields] as const)]),
          }
          const named = new Set(file.contentTypes.map((t) => t.apiId))
          const finalTypes = [...definitions.filter((t) => !named.has(t.apiId)), ...file.contentTypes]
          refuse([
            ...file.components.flatMap((c, i) => definitionProblems(c.fields, final, c.uid).map((p) => ({ ...p, path: `/components/${i}${p.path}` }))),
            ...file.contentTypes.flatMap((t, i) => [
              ...definitionProblems(t.fields, final),
              ...inverseProblems(finalTypes, t.apiId),
            ].map((p) => ({ ...p, path: `/contentTypes/${i}${p.path}` }))),
          ])
          const known = { types: new Set(types.map((t) => t.apiId)), components: new Set(components.map((c) => c.uid)) }
          for (const { changes, ...component } of file.components.filter((c) => !known.components.has(c.uid))) {
            await insertComponent(tx, component, options.actor)
            outcome.changes.push({ kind: 'component', name: component.uid, action: 'create' })
          }
          for (const { changes, ...type } of file.contentTypes.filter((t) => !known.types.has(t.apiId))) {
            const created = await tx.contentType.create({ data: { ...type, fields: asJson(type.fields) } })
            await record(tx, created, type, added(type.fields), options.actor)
            outcome.changes.push({ kind: 'content-type', name: type.apiId, action: 'create' })
          }
          for (const { changes, uid, ...definition } of file.components.filter((c) => known.components.has(c.uid))) {
            const current = await findComponent(tx, uid)
            const { displayName, description, fields } = current
            if (isDeepStrictEqual(definition, { displayName, description, fields })) continue
            const { plan } = await changeComponent(tx, current, definition, { changes, dryRun: true })
            outcome.changes.push({ kind: 'component', name: uid, action: 'update', plan })
            if (plan.applicable) await changeComponent(tx, current, definition, { changes, actor: options.actor })
          }
          for (const { changes, apiId, ...definition } of file.contentTypes.filter((t) => known.types.has(t.apiId))) {
            const current = await findType(tx, apiId)
            const { kind, singularName, pluralName, description, draftAndPublish, localized, fields } = current
            const stored = { kind, singularName, pluralName, description, draftAndPublish, localized, fields }
            if (isDeepStrictEqual(definition, stored)) continue
            const { plan } = await changeType(tx, current, definition, { changes, dryRun: true })
            outcome.changes.push({ kind: 'content-type', name: apiId, action: 'update', plan })
            if (plan.applicable) await changeType(tx, current, definition, { changes, actor: options.actor })
          }
          if (options.dryRun === true || outcome.changes.some((c) => c.plan?.applicable === false)) throw outcome
          outcome.applied = true
        }, { timeout: 600_000 })
      } catch (error) {
        if (error !== outcome) throw error
      }
      return outcome
    },

    /** Refused while a content type or another component uses it. */
    async removeComponent(uid: string, actor: Actor): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await lockModel(tx)
        const component = await findComponent(tx, uid)
        const { types, components } = await model(tx)
        const usedBy = [
          ...types.filter((t) => pointsAt(fieldsOf(t), { component: uid })).map((t) => t.apiId),
          ...components.filter((c) => pointsAt(fieldsOf(c), { component: uid })).map((c) => c.uid),
        ]
        if (usedBy.length > 0) {
          throw withDetails(new ConflictError(`"${uid}" is used by ${usedBy.join(', ')}`), { usedBy })
        }
        await tx.component.delete({ where: { id: component.id } })
        await audit(tx, { action: 'component.delete', subject: 'content-types', actor, details: { uid } })
      })
    },

    /** Checks entry data against fields: the validator is compiled once per schema. */
    check(fields: readonly FieldDefinition[], components: Components, mode: ValidationMode, data: unknown) {
      return validators.validate(entrySchema(fields, components, mode), data)
    },

    /**
     * Checks data against a content type, as saving (draft) or publishing an entry will. A
     * validator is compiled once per schema: per version of the type and its components.
     */
    async validate(apiId: string, rules: Rule[], mode: ValidationMode, data: unknown) {
      const type = await readableType(apiId, rules)
      const components = await prisma.component.findMany({ select: { uid: true, fields: true } })
      const byUid = new Map(components.map((c) => [c.uid, fieldsOf(c)]))
      return validators.validate(entrySchema(fieldsOf(type), byUid, mode), data)
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    contentModel: ReturnType<typeof createContentModel>
  }
}

async function contentModelPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('contentModel', createContentModel(app))
}

export default fp(contentModelPlugin, { name: 'content-model', dependencies: ['prisma'] })
