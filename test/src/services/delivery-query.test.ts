import t from 'tap'
import { searchConfig } from '../../../src/services/delivery-query.js'

t.test('full-text search uses the language of the locale, plain words for others', async (t) => {
  t.equal(searchConfig('en'), 'english')
  t.equal(searchConfig('fr-CA'), 'french')
  t.equal(searchConfig('PT-br'), 'portuguese')
  t.equal(searchConfig('ja'), 'simple')
})
