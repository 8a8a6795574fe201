import { Type } from 'typebox'
import { DateTime, EmailSchema, PasswordSchema, StrictObject } from './common.js'
import { UserSchema } from './users.js'

export const LoginSchema = StrictObject({
  email: EmailSchema,
  // Any length is checked against the hash: the policy applies when a password is set.
  password: Type.String({ minLength: 1, maxLength: 256 }),
})

export const RefreshTokenBodySchema = StrictObject({ refreshToken: Type.String({ minLength: 1, maxLength: 200 }) })

export const SessionTokensSchema = Type.Object(
  {
    accessToken: Type.String({ description: 'A JWT; send as Authorization: Bearer <accessToken>' }),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
    refreshToken: Type.String({ description: 'Use once with POST /auth/refresh' }),
    refreshTokenExpiresAt: DateTime,
    user: Type.Ref('User'),
  },
  { $id: 'SessionTokens', title: 'SessionTokens' },
)

export const MeSchema = Type.Object({
  ...UserSchema.properties,
  role: Type.Object({
    ...UserSchema.properties.role.properties,
    permissions: Type.Array(
      Type.Object({
        subject: Type.String(),
        action: Type.String(),
        ownOnly: Type.Boolean(),
        fields: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'null: every field' }),
      }),
    ),
  }),
})

export const PasswordChangeSchema = StrictObject({
  currentPassword: Type.String({ minLength: 1, maxLength: 256 }),
  newPassword: PasswordSchema,
})
