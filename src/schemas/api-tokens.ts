import { Type } from 'typebox'
import { DateTime, StrictObject, Uuid } from './common.js'

const Kind = Type.Enum(['delivery', 'preview', 'full', 'custom'], {
  description: 'delivery: read published content and media; preview: drafts too; full: all content and media; '
    + 'custom: what its role allows',
})

export const ApiTokenSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    description: Type.String(),
    kind: Kind,
    hint: Type.String({ description: 'The start and end of the value, to recognise it by' }),
    expiresAt: Type.Union([DateTime, Type.Null()]),
    lastUsedAt: Type.Union([DateTime, Type.Null()], { description: 'To the minute' }),
    role: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
    createdBy: Type.Union([Type.Object({ id: Type.String(), displayName: Type.String() }), Type.Null()]),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'ApiToken', title: 'ApiToken' },
)

/** A token with its value: answered once, when the token is made or regenerated. */
export const IssuedApiTokenSchema = Type.Object({
  ...ApiTokenSchema.properties,
  accessKey: Type.String({ description: 'Send as Authorization: Bearer <accessKey>. Shown only this once.' }),
})

export const NewApiTokenSchema = StrictObject({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  kind: Kind,
  roleId: Type.Optional(Type.String({ ...Uuid, description: 'The role of a custom token' })),
  expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'Unset: never expires' })),
})
