import { Type } from 'typebox'

export const LivenessSchema = Type.Object({ status: Type.Literal('ok') }, { title: 'Liveness' })

export const CheckStateSchema = Type.Enum(['ok', 'failing'])

export const ReadinessSchema = Type.Object(
  {
    status: Type.Literal('ok'),
    checks: Type.Object({ database: CheckStateSchema, migrations: CheckStateSchema }),
  },
  { title: 'Readiness' },
)
