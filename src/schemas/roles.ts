import { Type } from 'typebox'
import { ACTIONS } from '../services/access-control.js'
import { DateTime, StrictObject } from './common.js'

export const PermissionSchema = StrictObject({
  subject: Type.String({
    description: '`*`, `content:*`, `content:<api id>`, `media`, `users`, `roles`, `tokens` or `settings`',
    examples: ['content:article'],
  }),
  action: Type.Enum(ACTIONS),
  ownOnly: Type.Optional(Type.Boolean({ default: false, description: 'Only rows the caller created (content, media, tokens)' })),
  fields: Type.Optional(
    Type.Union([Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true }), Type.Null()], {
      description: 'Content fields the caller may read (read) or write (create, update); null: every field',
    }),
  ),
})

export const RoleSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    key: Type.Union([Type.String(), Type.Null()], { description: 'administrator, editor, author or public for the built-in roles' }),
    name: Type.String(),
    description: Type.String(),
    permissions: Type.Array(
      Type.Object({
        subject: Type.String(),
        action: Type.String(),
        ownOnly: Type.Boolean(),
        fields: Type.Union([Type.Array(Type.String()), Type.Null()]),
      }),
    ),
    holders: Type.Object({ users: Type.Integer(), tokens: Type.Integer() }, { description: 'Who has this role' }),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'Role', title: 'Role' },
)

const Name = Type.String({ minLength: 1, maxLength: 100 })
const Description = Type.String({ maxLength: 1000 })
const Permissions = Type.Array(PermissionSchema, { maxItems: 1000 })

export const NewRoleSchema = StrictObject({
  name: Name,
  description: Type.Optional(Description),
  permissions: Permissions,
})

export const RoleChangesSchema = StrictObject({
  name: Type.Optional(Name),
  description: Type.Optional(Description),
  permissions: Type.Optional(Permissions),
})
