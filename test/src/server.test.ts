import { type AddressInfo, createServer } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { openDatabase } from '../../src/infra/database.js'
import { startServer } from '../../src/server.js'
import { testConfig } from '../helper.js'

t.test('a start that cannot listen closes the database and releases its lock', async (t) => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  t.teardown(() => taken.close())
  const dataDir = path.join(t.testdir(), 'pglite')
  const config = testConfig({ GUDANG_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: (taken.address() as AddressInfo).port })

  await t.rejects(startServer(config), { code: 'EADDRINUSE' })
  // In this same process: a lock still held would refuse this.
  const database = await openDatabase(config)
  await database.close()
})
