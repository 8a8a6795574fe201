import { readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import t from 'tap'
import { localStorage } from '../../../src/services/storage.js'

/** The local-disk storage: all-or-nothing puts, and keys that can never name a path outside it. */

/** Every file under `dir`, relative to it, sorted. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort()
}

t.test('put, get, exists, delete and deleteAll', async (t) => {
  const root = t.testdir()
  const storage = localStorage(root)
  t.equal(await storage.exists('originals/abc'), false)
  t.equal(await storage.get('originals/abc'), undefined, 'nothing to get')

  await storage.put('originals/abc', Readable.from(['hello, ', 'world']))
  t.equal(await storage.exists('originals/abc'), true)
  const file = await storage.get('originals/abc')
  t.equal(file?.size, 12)
  t.equal(await text(file?.body as Readable), 'hello, world')

  await storage.put('originals/abc', Readable.from(['replaced']))
  t.equal(await text((await storage.get('originals/abc'))?.body as Readable), 'replaced', 'a put replaces the file whole')

  await storage.put('renditions/abc/64xauto-inside-q80.webp', Readable.from(['one']))
  await storage.put('renditions/abc/128xauto-inside-q80.webp', Readable.from(['two']))
  await storage.put('renditions/abd/64xauto-inside-q80.webp', Readable.from(['three']))
  t.same(await files(root), [
    'originals/abc',
    'renditions/abc/128xauto-inside-q80.webp',
    'renditions/abc/64xauto-inside-q80.webp',
    'renditions/abd/64xauto-inside-q80.webp',
  ], 'files under their keys, no partial file left')

  await storage.deleteAll('renditions/abc')
  t.same(await files(root), ['originals/abc', 'renditions/abd/64xauto-inside-q80.webp'], 'deleteAll takes one prefix only')
  await storage.deleteAll('renditions/none')
  await storage.delete('originals/abc')
  await storage.delete('originals/abc')
  t.equal(await storage.exists('originals/abc'), false, 'deleted; deleting again is no error')
  t.same(await files(root), ['renditions/abd/64xauto-inside-q80.webp'])
})

t.test('a put whose source fails leaves no file and no partial one', async (t) => {
  const root = t.testdir()
  const storage = localStorage(root)
  let sent = false
  const failing = new Readable({
    read() {
      if (sent) {
        this.destroy(new Error('the client went away'))
      } else {
        sent = true
        this.push(Buffer.alloc(64 * 1024, 1))
      }
    },
  })
  await t.rejects(storage.put('originals/abc', failing), { message: 'the client went away' })
  t.equal(await storage.exists('originals/abc'), false)
  t.same(await files(root), [], 'nothing, not even in .partial')

  await storage.put('originals/abc', Readable.from(['whole']))
  const broken = new Readable({
    read() {
      this.destroy(new Error('again'))
    },
  })
  await t.rejects(storage.put('originals/abc', broken))
  t.equal(await text((await storage.get('originals/abc'))?.body as Readable), 'whole', 'a failed put leaves the file it would replace')
})

t.test('a file system error other than a missing file is not hidden', async (t) => {
  const root = t.testdir()
  await writeFile(path.join(root, 'originals'), 'a file where a folder should be')
  const storage = localStorage(root)
  await t.rejects(storage.exists('originals/abc'), { code: 'ENOTDIR' })
  await t.rejects(storage.get('originals/abc'), { code: 'ENOTDIR' })
})

t.test('keys are Gudang\'s own: nothing a client names can become a path', async (t) => {
  const root = t.testdir()
  const storage = localStorage(path.join(root, 'uploads'))
  const refused = [
    '',
    '..',
    '../outside',
    'originals/../../outside',
    'originals/..',
    './originals',
    '/etc/passwd',
    path.join(root, 'outside'),
    'Originals/abc',
    'originals/ABC',
    'originals//abc',
    'originals/',
    '/',
    'originals\\..\\..\\outside',
    '.partial/abc',
    'originals/.hidden',
    'originals/a b',
    'originals/abc\u0000',
  ]
  for (const key of refused) {
    const refusal = { message: `invalid storage key: ${key}` }
    await t.rejects(storage.put(key, Readable.from(['x'])), refusal, `put ${JSON.stringify(key)}`)
    await t.rejects(storage.get(key), refusal, `get ${JSON.stringify(key)}`)
    await t.rejects(storage.exists(key), refusal, `exists ${JSON.stringify(key)}`)
    await t.rejects(storage.delete(key), refusal, `delete ${JSON.stringify(key)}`)
    await t.rejects(storage.deleteAll(key), refusal, `deleteAll ${JSON.stringify(key)}`)
  }
  t.same(await files(root), [], 'nothing written anywhere')
  await storage.put('originals/a.b-c_d/0', Readable.from(['x']))
  t.same(await files(root), ['uploads/originals/a.b-c_d/0'], 'dots, dashes and underscores inside a name are fine')
})
