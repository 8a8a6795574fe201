import { once } from 'node:events'
import { type AddressInfo, createServer } from 'node:net'
import { appendFile, cp, readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { packageRoot, version } from '../../src/package.js'
import { cliRunner } from '../cli-runner.js'

const { workdir, gudang, runProcess, databaseEnv, runHere } = cliRunner(t)

t.test('--help lists the commands', async (t) => {
  const { code, output } = await runHere(t, ['--help'])
  t.equal(code, 0)
  t.match(output, /Usage: gudang <command>/)
  t.match(output, /start/)
  t.match(output, /migrate create <name>/)
})

t.test('--version prints the package version', async (t) => {
  const { code, output } = await runHere(t, ['--version'])
  t.equal(code, 0)
  t.equal(output, version)
})

t.test('a missing or unknown command, or option, is a usage error', async (t) => {
  const none = await runHere(t, [])
  t.equal(none.code, 2)
  t.match(none.output, /Usage:/)
  const unknown = await runHere(t, ['fly', 'away'])
  t.equal(unknown.code, 2)
  t.match(unknown.output, /gudang: Unknown command: fly away/)
  const option = await runHere(t, ['start', '--turbo'])
  t.equal(option.code, 2)
  t.match(option.output, /Unknown option '--turbo'/)
  const badName = await runHere(t, ['migrate', 'create', 'Add Tags!'])
  t.equal(badName.code, 2)
  t.match(badName.output, /needs a name of lower-case letters/)
})

t.test('a bad configuration value stops the start, naming the variable', async (t) => {
  const { code, output } = await runProcess(['start'], { PORT: 'eighty', GUDANG_DATA_DIR: 'memory://' })
  t.equal(code, 1)
  t.equal(output.trim(), 'gudang: invalid configuration: PORT must be integer')
})

t.test('migrate applies pending migrations once', async (t) => {
  const env = await databaseEnv(t)
  const first = await runProcess(['migrate'], env)
  t.equal(first.code, 0, first.output)
  t.match(first.output, /Applied \d+ migration\(s\) to .*\n {2}\d{14}_init/)
  const second = await runProcess(['migrate'], env)
  t.equal(second.code, 0)
  t.match(second.output, /No pending migrations/)
})

t.test('start serves until SIGTERM, then closes the database and exits cleanly', async (t) => {
  const env = { ...(await databaseEnv(t)), PORT: '0', HOST: '127.0.0.1' }
  const server = gudang(['start'], env)
  t.teardown(() => {
    if (server.exitCode === null) server.kill('SIGKILL')
  })
  const url = await new Promise<string>((resolve, reject) => {
    const onOutput = () => {
      const listening = /Server listening at (http:\/\/[\d.:]+)/.exec(server.output())?.[1]
      if (listening) {
        server.stdout?.off('data', onOutput)
        resolve(listening)
      }
    }
    server.stdout?.on('data', onOutput)
    server.once('exit', () => reject(new Error(server.output())))
  })
  const ready = await fetch(`${url}/health/ready`)
  t.equal(ready.status, 200)

  server.kill('SIGTERM')
  const [code] = await once(server, 'exit')
  t.equal(code, 0)
  t.match(server.output(), /"signal":"SIGTERM".*"msg":"closing"/)

  const again = await runProcess(['migrate'], env)
  t.match(again.output, /No pending migrations/, 'the database kept its data')
})

t.test('migrate create writes the schema change as a new migration, or says there is none', async (t) => {
  const prismaDir = path.join(workdir, 'create-prisma')
  await cp(path.join(packageRoot, 'prisma'), prismaDir, { recursive: true })
  const schema = path.join(prismaDir, 'schema.prisma')
  const unchanged = await runHere(t, ['migrate', 'create', 'nothing', '--schema', schema])
  t.equal(unchanged.code, 0)
  t.match(unchanged.output, /No changes/)

  await appendFile(schema, '\nmodel Tag {\n  id   Int    @id\n  name String\n}\n')
  const changed = await runHere(t, ['migrate', 'create', 'add_tags', '--schema', schema])
  t.equal(changed.code, 0, changed.output)
  const folder = /Wrote (\S+)\/migration\.sql/.exec(changed.output)?.[1] ?? ''
  t.match(path.basename(folder), /^\d{14}_add_tags$/)
  t.match(await readFile(path.join(folder, 'migration.sql'), 'utf8'), /CREATE TABLE "Tag"/)
})

t.test('a database that cannot be reached fails the command with its reason', async (t) => {
  const { code, output } = await runProcess(['migrate'], { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' })
  t.equal(code, 1)
  t.match(output, /gudang: failed:.*Can't reach database server at `127.0.0.1:1`/s)
})

t.test('a port that is taken fails the start with exit code 1', async (t) => {
  const env = await databaseEnv(t)
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => taken.close())
  const { port } = taken.address() as AddressInfo
  const { code, output } = await runProcess(['start'], { ...env, HOST: '127.0.0.1', PORT: String(port) })
  t.equal(code, 1)
  t.match(output, /EADDRINUSE/)
  const again = await runProcess(['migrate'], env)
  t.equal(again.code, 0, again.output)
})
