import t from 'tap'
import { dummyPasswordHash, hashPassword, verifyPassword } from '../../../src/services/passwords.js'

t.test('a password is stored as a salted scrypt hash with its parameters, and verified', async (t) => {
  const hash = await hashPassword('correct horse battery staple')
  t.match(hash, /^scrypt\$65536\$8\$1\$[\w+/]+=*\$[\w+/]+=*$/)
  t.notMatch(hash, /horse/)
  t.not(await hashPassword('correct horse battery staple'), hash, 'every hash has its own salt')
  t.equal(await verifyPassword('correct horse battery staple', hash), true)
  t.equal(await verifyPassword('correct horse battery stapler', hash), false)
})

t.test('Unicode passwords compare in their composed form', async (t) => {
  const hash = await hashPassword('caf\u00e9 au lait, s\u2019il vous pla\u00eet')
  t.equal(await verifyPassword('cafe\u0301 au lait, s\u2019il vous pla\u00eet', hash), true)
})

t.test('a stored value that is no scrypt hash never verifies', async (t) => {
  t.equal(await verifyPassword('anything', 'bcrypt$2b$10$abc'), false)
  t.equal(await verifyPassword('anything', 'scrypt$65536$8$1$c2FsdA=='), false)
})

t.test('a stored hash with impossible parameters is an error, not a mismatch', async (t) => {
  await t.rejects(verifyPassword('anything', 'scrypt$3$8$1$c2FsdA==$a2V5'), { code: 'ERR_CRYPTO_INVALID_SCRYPT_PARAMS' })
})

t.test('the dummy hash is made once and verifies no guess', async (t) => {
  const dummy = await dummyPasswordHash()
  t.equal(await dummyPasswordHash(), dummy)
  t.equal(await verifyPassword('', dummy), false)
})
