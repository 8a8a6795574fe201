import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ConflictError, NotFoundError, ValidationError, withDetails } from '../errors.js'
import type { Prisma } from '../generated/prisma/client.js'
import type {
  ComponentDefinition,
  ContentTypeDefinition,
  FieldDefinition,
  NewComponent,
  NewContentType,
} from '../schemas/content-model.js'
import { type Rule, ruleFor } from './access-control.js'
import type { ModelExport } from './content-declarations.js'
import { createValidators, definitionProblems, entrySchema, type Problem, type ValidationMode } from './content-schema.js'

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
  throw withDetails(
    new ValidationError(`Invalid definition: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`),
    problems.map((p) => ({ in: 'body', ...p })),
  )
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
 * Changes are not yet planned against existing entries: there are none before the entries
 * API (issue 5), which must route definition changes through a plan.
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

  function record(tx: Transaction, type: { id: string, version: number }, definition: object, userId?: string) {
    return tx.contentTypeVersion.create({
      data: { contentTypeId: type.id, version: type.version, definition, createdById: userId },
    })
  }

  return {
    /** The content types whose entries the caller may read. */
    async listTypes(rules: Rule[]) {
      const types = await prisma.contentType.findMany({ orderBy: { apiId: 'asc' } })
      return types.filter((type) => readable(rules, type.apiId))
    },

    getType: readableType,

    async createType(input: NewContentType, userId: string | undefined) {
      return prisma.$transaction(async (tx) => {
        await lockModel(tx)
        const { context } = await model(tx)
        // A type may relate to itself (a parent page, say).
        const contentTypes = new Set([...context.contentTypes, input.apiId])
        refuse(definitionProblems(input.fields, { ...context, contentTypes }))
        const type = await tx.contentType.create({ data: { ...input, fields: asJson(input.fields) } })
        await record(tx, type, input, userId)
        return type
      })
    },

    /** A new definition: the version goes up and the old one stays in the history. */
    async updateType(apiId: string, definition: ContentTypeDefinition, userId: string | undefined) {
      return prisma.$transaction(async (tx) => {
        await lockModel(tx)
        const current = await findType(tx, apiId)
        const { context } = await model(tx)
        refuse(definitionProblems(definition.fields, context))
        const type = await tx.contentType.update({
          where: { id: current.id },
          data: { ...definition, fields: asJson(definition.fields), version: { increment: 1 } },
        })
        await record(tx, type, { apiId, ...definition }, userId)
        return type
      })
    },

    /** Refused while another type relates to it. */
    async removeType(apiId: string): Promise<void> {
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
        await tx.contentType.delete({ where: { id: type.id } })
      })
    },

    async history(apiId: string) {
      const type = await findType(prisma, apiId)
      return prisma.contentTypeVersion.findMany({
        where: { contentTypeId: type.id },
        orderBy: { version: 'desc' },
        select: { version: true, definition: true, createdById: true, createdAt: true },
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

    async createComponent(input: NewComponent) {
      return prisma.$transaction(async (tx) => {
        await lockModel(tx)
        const { context } = await model(tx)
        refuse(definitionProblems(input.fields, context, input.uid))
        return tx.component.create({ data: { ...input, fields: asJson(input.fields) } })
      })
    },

    async updateComponent(uid: string, definition: ComponentDefinition) {
      return prisma.$transaction(async (tx) => {
        await lockModel(tx)
        const current = await findComponent(tx, uid)
        const { context } = await model(tx)
        refuse(definitionProblems(definition.fields, context, uid))
        return tx.component.update({
          where: { id: current.id },
          data: { ...definition, fields: asJson(definition.fields), version: { increment: 1 } },
        })
      })
    },

    /** Refused while a content type or another component uses it. */
    async removeComponent(uid: string): Promise<void> {
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
      })
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
