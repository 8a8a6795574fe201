import t from 'tap'
import { actorOf } from '../../../src/services/audit.js'

t.test('a change is recorded for the user or the API token that made it; an anonymous caller is neither', async (t) => {
  const userId = '0195f0a0-0000-7000-8000-000000000001'
  const tokenId = '0195f0a0-0000-7000-8000-000000000002'
  t.strictSame(actorOf({ kind: 'user', userId, sessionId: 'a session', rules: [], drafts: true }), { userId })
  t.strictSame(actorOf({ kind: 'token', tokenId, rules: [], drafts: false }), { tokenId })
  t.strictSame(actorOf({ kind: 'anonymous', rules: [], drafts: false }), {})
})
