import { randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Where media files live. Keys are Gudang's own (`originals/<sha256>`,
 * `renditions/<sha256>/<variant>`), never a client's file name. A put is all or nothing: a
 * reader never sees half a file. Local disk now; an S3-compatible driver implements the same.
 */
export interface Storage {
  put(key: string, body: Readable): Promise<void>
  /** The file and its size; undefined when there is none. */
  get(key: string): Promise<{ body: Readable, size: number } | undefined>
  delete(key: string): Promise<void>
  /** Deletes every file whose key starts with `prefix/`. */
  deleteAll(prefix: string): Promise<void>
  exists(key: string): Promise<boolean>
}

const KEY = /^[a-z0-9][\w.-]*(\/[a-z0-9][\w.-]*)*$/

/** A file on disk under `root`; a key that could reach outside it (`..`, absolute) is a bug. */
export function localStorage(root: string): Storage {
  const base = path.resolve(root)
  function pathOf(key: string): string {
    const file = path.resolve(base, key)
    if (!KEY.test(key) || !file.startsWith(base + path.sep)) throw new Error(`invalid storage key: ${key}`)
    return file
  }
  async function sizeOf(file: string): Promise<number | undefined> {
    try {
      return (await stat(file)).size
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }
  return {
    async put(key, body) {
      const file = pathOf(key)
      // Written aside, then renamed into place: atomic on one file system.
      const partial = path.join(base, '.partial', randomUUID())
      await mkdir(path.dirname(partial), { recursive: true })
      try {
        await pipeline(body, createWriteStream(partial, { flags: 'wx' }))
        await mkdir(path.dirname(file), { recursive: true })
        await rename(partial, file)
      } finally {
        await rm(partial, { force: true })
      }
    },
    async get(key) {
      const file = pathOf(key)
      const size = await sizeOf(file)
      return size === undefined ? undefined : { body: createReadStream(file), size }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true })
    },
    async deleteAll(prefix) {
      await rm(pathOf(prefix), { recursive: true, force: true })
    },
    async exists(key) {
      return await sizeOf(pathOf(key)) !== undefined
    },
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage
  }
}

async function storagePlugin(app: FastifyInstance): Promise<void> {
  app.decorate('storage', localStorage(app.config.GUDANG_UPLOADS_DIR))
}

export default fp(storagePlugin, { name: 'storage' })
