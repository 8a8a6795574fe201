import { Type } from 'typebox'
import { DateTime, EmailSchema, PasswordSchema, StrictObject, Uuid } from './common.js'

/** A user as the API shows one: never the password hash (the response schema drops it). */
export const UserSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    displayName: Type.String(),
    isActive: Type.Boolean(),
    role: Type.Object({ id: Type.String(), key: Type.Union([Type.String(), Type.Null()]), name: Type.String() }),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'User', title: 'User' },
)

const DisplayName = Type.String({ minLength: 1, maxLength: 200 })

export const NewUserSchema = StrictObject({
  email: EmailSchema,
  displayName: DisplayName,
  password: PasswordSchema,
  roleId: Uuid,
  isActive: Type.Optional(Type.Boolean({ default: true })),
})

export const UserChangesSchema = StrictObject({
  email: Type.Optional(EmailSchema),
  displayName: Type.Optional(DisplayName),
  password: Type.Optional(PasswordSchema),
  roleId: Type.Optional(Uuid),
  isActive: Type.Optional(Type.Boolean()),
})
