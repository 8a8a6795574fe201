/**
 * The floor of the delivery bench (bench/delivery.ts starts it as its own process): a bare
 * Fastify app with the generated Prisma client over the same database and pool as the server
 * (@prisma/adapter-pg), and one route that answers one entry by id with a single query. What
 * the delivery API does on top of that is what the bench's ratios measure.
 *
 *   DATABASE_URL=postgresql://… PORT=3998 npx tsx bench/floor.ts
 */
import { PrismaPg } from '@prisma/adapter-pg'
import Fastify from 'fastify'
import { PrismaClient } from '../src/generated/prisma/client.js'

const databaseUrl = process.env.DATABASE_URL
if (databaseUrl === undefined) throw new Error('bench/floor.ts needs DATABASE_URL')
const port = Number(process.env.PORT ?? 3998)

const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) })
const app = Fastify({ logger: false })

app.get<{ Params: { id: string } }>('/floor/:id', async (request, reply) => {
  const entry = await prisma.entry.findUnique({ where: { id: request.params.id } })
  if (entry === null) return reply.status(404).send({ error: 'not found' })
  return { data: entry }
})

app.addHook('onClose', async () => {
  await prisma.$disconnect()
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0))
  })
}

await prisma.$connect()
await app.listen({ port, host: '127.0.0.1' })
console.log(`floor listening on ${port}`)
