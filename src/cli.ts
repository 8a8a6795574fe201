import path from 'node:path'
import { Writable } from 'node:stream'
import { createInterface } from 'node:readline/promises'
import { parseArgs } from 'node:util'
import { readFile, writeFile } from 'node:fs/promises'
import { type App, buildApp } from './app.js'
import { type Config, ConfigError, loadConfig } from './config.js'
import { ValidationError } from './errors.js'
import { openDatabase } from './infra/database.js'
import { applyMigrations, createMigration } from './infra/migrations.js'
import { migrationsDir, prismaSchemaPath, version } from './package.js'
import { EMAIL_PATTERN } from './schemas/common.js'
import { startServer } from './server.js'
import { typeDeclarations } from './services/content-declarations.js'
import { normalizeEmail } from './services/users.js'

const usage = `Usage: gudang <command> [options]

Commands:
  start                      Start the server (applies pending migrations first,
                             unless GUDANG_MIGRATE_ON_START=false)
  migrate                    Apply pending migrations to the database and exit
  migrate create <name>      Write a new migration from the changes in prisma/schema.prisma
                             (needs no database)
  model export [--out <f>]   Write the content model (types and components) as JSON
  model apply <file>         Show the plan of a model file's changes against the entries,
                             and apply it (nothing is applied if a change is blocked)
  types [--out <f>]          Write TypeScript declarations of the content types
  admin create --email <e>   Create an administrator (applies pending migrations first);
                             asks for the password unless --password is given. Stop a
                             server on the embedded database first: it holds the folder.

Options:
  --schema <file>            With migrate create: the schema to read; its migrations
                             are in the migrations/ folder beside it (default
                             prisma/schema.prisma)
  --email <email>            With admin create: the administrator's email
  --password <password>      With admin create: the password (visible to other users of
                             the machine in the process list: prefer the prompt)
  --name <display name>      With admin create: the display name (default Administrator)
  --out <file>               With model export and types: the file to write (default:
                             standard output)
  --dry-run                  With model apply: only show the plan
  -h, --help                 Show this help
  -v, --version              Show the version

Configuration comes from environment variables (and a .env file); see the README.`

/** An error whose message is all the user needs; no stack trace is printed. */
class UsageError extends Error {}

async function migrate(config: Config): Promise<void> {
  const database = await openDatabase(config)
  try {
    const applied = await applyMigrations(database.adapter, migrationsDir)
    console.log(
      applied.length > 0
        ? `Applied ${applied.length} migration(s) to ${database.description}:\n  ${applied.join('\n  ')}`
        : `No pending migrations in ${database.description}.`,
    )
  } finally {
    await database.close()
  }
}

async function create(name: string | undefined, schemaPath: string): Promise<void> {
  if (name === undefined || !/^[a-z0-9_]+$/.test(name)) {
    throw new UsageError('migrate create needs a name of lower-case letters, digits and _, e.g. add_roles')
  }
  const folder = await createMigration(path.join(path.dirname(schemaPath), 'migrations'), schemaPath, name)
  console.log(
    folder === undefined
      ? `No changes: ${schemaPath} and its migrations agree.`
      : `Wrote ${folder}/migration.sql. Review it, then run "gudang migrate" or start the server.`,
  )
}

/** Reads the password from the terminal without echoing it, or one line from a pipe. */
async function askPassword(): Promise<string> {
  const terminal = process.stdin.isTTY === true
  let muted = false
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk)
      done()
    },
  })
  const prompt = createInterface({ input: process.stdin, output, terminal })
  try {
    const ask = async (question: string) => {
      muted = false
      const answer = prompt.question(question)
      muted = true
      const line = await answer
      // The muted answer left the cursor after the prompt.
      process.stderr.write('\n')
      return line
    }
    const password = await ask('Password (12 characters or more): ')
    /* c8 ignore next 3: tests pipe the password; only a terminal is asked twice */
    if (terminal && (await ask('Repeat the password: ')) !== password) {
      throw new UsageError('The passwords differ')
    }
    return password
  } finally {
    prompt.close()
  }
}

interface AdministratorOptions {
  email?: string
  password?: string
  name?: string
}

async function createAdministrator(config: Config, { email, password, name }: AdministratorOptions) {
  if (email === undefined || !new RegExp(EMAIL_PATTERN).test(email)) {
    throw new UsageError('admin create needs --email <email>')
  }
  const secret = password ?? (await askPassword())
  if (secret.length < 12 || secret.length > 256) throw new UsageError('The password needs 12 to 256 characters')
  await withApp(config, async (app) => {
    if ((await app.prisma.user.count({ where: { email: normalizeEmail(email) } })) > 0) {
      throw new UsageError(`A user with the email ${email} exists already`)
    }
    const user = await app.users.createAdministrator(email, secret, name)
    console.log(`Created the administrator ${user.email}. Sign in with POST /auth/login.`)
  })
}

/** Runs `work` with the app ready (migrations applied) and closes it after. */
async function withApp(config: Config, work: (app: App) => Promise<void>): Promise<void> {
  // A command is no server: it runs no scheduled jobs and sends no webhook calls.
  const app = buildApp({ ...config, GUDANG_SCHEDULER_INTERVAL: 0, GUDANG_WEBHOOK_INTERVAL: 0 }, { logger: false })
  try {
    await app.ready()
    await work(app)
  } finally {
    await app.close()
  }
}

/** What a model file changes, step by step, as `model apply` prints it. */
function describe(outcome: Awaited<ReturnType<App['contentModel']['applyModel']>>): string {
  const lines: string[] = []
  for (const { kind, name, action, plan } of outcome.changes) {
    lines.push(`${kind} ${name}: ${action}`)
    for (const step of plan?.steps ?? []) {
      const what = step.action === 'rename' ? `${step.from} → ${step.field}` : step.action === 'retype' ? `${step.field}: ${step.from} → ${step.to}` : step.field
      lines.push(`  ${step.action} ${what} (${step.entries} entries)`)
    }
    for (const { reason, entries } of plan?.blocked ?? []) {
      lines.push(`  BLOCKED: ${reason}`)
      for (const e of entries) lines.push(`    ${e.documentId} ${e.locale} ${e.status} ${e.path}: ${e.message}`)
    }
  }
  if (outcome.changes.length === 0) lines.push('The model is already as the file says.')
  return `${lines.join('\n')}\n`
}

async function applyModel(config: Config, file: string, dryRun: boolean): Promise<number> {
  let model: unknown
  try {
    model = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    throw new UsageError(`Cannot read ${file}: ${(error as Error).message}`)
  }
  let code = 0
  await withApp(config, async (app) => {
    const outcome = await app.contentModel.applyModel(model, { dryRun, actor: {} })
    process.stdout.write(describe(outcome))
    const blocked = outcome.changes.some((c) => c.plan?.applicable === false)
    if (blocked) code = 1
    if (blocked) console.error('Nothing was applied: a change is blocked.')
    else if (dryRun) console.error('Dry run: nothing was applied.')
    else if (outcome.changes.length > 0) console.error('Applied.')
  })
  return code
}

/** Writes what a command made to a file, or to standard output. */
async function output(text: string, file: string | undefined): Promise<void> {
  if (file === undefined) {
    process.stdout.write(text)
    return
  }
  await writeFile(file, text)
  console.error(`Wrote ${file}`)
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'help': { type: 'boolean', short: 'h' },
        'version': { type: 'boolean', short: 'v' },
        'schema': { type: 'string', default: prismaSchemaPath },
        'email': { type: 'string' },
        'password': { type: 'string' },
        'name': { type: 'string' },
        'out': { type: 'string' },
        'dry-run': { type: 'boolean' },
      },
    })
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage}`)
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv)
  const [command, subcommand, name, ...rest] = positionals
  if (values.version) {
    console.log(version)
    return 0
  }
  if (values.help || command === undefined) {
    console.log(usage)
    return values.help ? 0 : 2
  }
  if (command === 'start' && subcommand === undefined) {
    await startServer(loadConfig())
    return 0
  }
  if (command === 'migrate' && subcommand === undefined) {
    await migrate(loadConfig())
    return 0
  }
  if (command === 'migrate' && subcommand === 'create' && rest.length === 0) {
    await create(name, path.resolve(values.schema))
    return 0
  }
  if (command === 'model' && subcommand === 'export' && name === undefined) {
    await withApp(loadConfig(), async (app) =>
      output(`${JSON.stringify(await app.contentModel.export(), null, 2)}\n`, values.out))
    return 0
  }
  if (command === 'model' && subcommand === 'apply' && name !== undefined && rest.length === 0) {
    return applyModel(loadConfig(), name, values['dry-run'] === true)
  }
  if (command === 'types' && subcommand === undefined) {
    await withApp(loadConfig(), async (app) => output(typeDeclarations(await app.contentModel.export()), values.out))
    return 0
  }
  if (command === 'admin' && subcommand === 'create' && name === undefined) {
    await createAdministrator(loadConfig(), values)
    return 0
  }
  throw new UsageError(`Unknown command: ${positionals.join(' ')}\n\n${usage}`)
}

/** Runs a command line; answers the exit code, having printed what went wrong. */
export async function run(argv: string[]): Promise<number> {
  try {
    return await main(argv)
  } catch (error) {
    // A model file that is no model, say: the message names each problem.
    if (error instanceof UsageError || error instanceof ConfigError || error instanceof ValidationError) {
      console.error(`gudang: ${error.message}`)
      return error instanceof UsageError ? 2 : 1
    }
    console.error('gudang: failed:', error)
    return 1
  }
}
