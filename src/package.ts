import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** The folder holding package.json, whether this runs from src/ (tsx, tap) or dist/src/. */
function findPackageRoot(start: string): string {
  let dir = start
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    /* c8 ignore next: package.json ships with every copy of Gudang */
    if (parent === dir) throw new Error(`No package.json above ${start}`)
    dir = parent
  }
  return dir
}

export const packageRoot = findPackageRoot(import.meta.dirname)
export const version: string = JSON.parse(
  readFileSync(path.join(packageRoot, 'package.json'), 'utf8'),
).version
export const prismaSchemaPath = path.join(packageRoot, 'prisma', 'schema.prisma')
export const migrationsDir = path.join(packageRoot, 'prisma', 'migrations')
