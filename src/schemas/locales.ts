import { type Static, Type } from 'typebox'
import { DateTime, StrictObject } from './common.js'
import { LocaleCode } from './entries.js'

export const LocaleSchema = Type.Object(
  { code: Type.String(), name: Type.String(), isDefault: Type.Boolean(), createdAt: DateTime },
  { $id: 'Locale', title: 'Locale' },
)

const Name = Type.String({ minLength: 1, maxLength: 100 })

export const NewLocaleSchema = StrictObject({
  code: LocaleCode,
  name: Name,
  isDefault: Type.Optional(Type.Boolean({ description: 'Make it the default locale (the previous default stops being it)' })),
})
export type NewLocale = Static<typeof NewLocaleSchema>

export const LocaleChangesSchema = StrictObject({
  name: Type.Optional(Name),
  isDefault: Type.Optional(Type.Literal(true, { description: 'Make it the default (choose another locale to undo)' })),
})
export type LocaleChanges = Static<typeof LocaleChangesSchema>

export const LocaleParamsSchema = Type.Object({ code: LocaleCode })
