/**
 * How long `markdownToBlocks` takes on hostile Markdown, the kind that made the former parser
 * quadratic or overflow its stack, and on an ordinary document. Every input is at most
 * `MAX_MARKDOWN` characters, the most a request may send. It prints figures; it asserts nothing.
 *
 *   npx tsx bench/richtext.ts
 */
import { MAX_MARKDOWN, markdownToBlocks } from '../src/services/richtext.js'
const RUNS = 5

/** A document of headings, emphasis, links, lists, quotes, code, images and HTML. */
function ordinary(): string {
  const section = (i: number) => [
    `## Section ${i}`,
    `Some **bold**, *italic* and \`code\` text with [a link](https://example.com/${i}) and ~~a change~~.`,
    '- one\n- two\n  1. nested',
    '> quoted\n> text',
    '```js\nconsole.log(1)\n```',
    `![image ${i}](/uploads/${i}.png)`,
    '<div>html</div>',
    '---',
  ].join('\n\n')
  let markdown = ''
  for (let i = 0; markdown.length + section(i).length + 2 <= MAX_MARKDOWN; i++) markdown += `${section(i)}\n\n`
  return markdown
}

/** `unit` repeated `times` times (as often as `MAX_MARKDOWN` holds, by default), then `after`. */
function repeated(unit: string, times = Math.floor(MAX_MARKDOWN / unit.length), after = ''): [string, string] {
  const name = `${JSON.stringify(unit)}×${times}${after ? ` + ${JSON.stringify(after)}` : ''}`
  return [name, unit.repeat(times) + after]
}

const inputs: [string, string][] = [
  ['an ordinary document', ordinary()],
  repeated('- ', 5000, 'a'),
  repeated('- ', 24_999, 'a'),
  repeated('*a', 10_000),
  repeated('*a'),
  ['"*"×24999 + "a" + "*"×25000', '*'.repeat(24_999) + 'a' + '*'.repeat(25_000)],
  repeated('**a'),
  repeated('_a'),
  repeated('~a'),
  repeated('['),
  repeated('!['),
  repeated('[a]('),
  ['"!["×8333 + "a" + "](b)"×8333', '!['.repeat(8333) + 'a' + '](b)'.repeat(8333)],
  repeated('>', 49_999, 'a'),
  repeated('> - ', 12_499, 'a'),
  repeated('1. '),
  ['210 lines, each a list item 2 spaces deeper', Array.from({ length: 210 }, (_, i) => `${'  '.repeat(i)}- a`).join('\n')],
  repeated('`a``'),
  repeated('<a'),
  repeated('&#'),
  repeated('[a]: b\n'),
  repeated('[a]', 16_664, '\n\n[a]: b'),
]

console.log(`markdownToBlocks: the first of ${RUNS} runs, the fastest, the input's length and its blocks`)
for (const [name, markdown] of inputs) {
  if (markdown.length > MAX_MARKDOWN) throw new Error(`${name} is longer than a request may send`)
  const times: number[] = []
  let blocks = 0
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now()
    blocks = markdownToBlocks(markdown).length
    times.push(performance.now() - started)
  }
  const ms = (time: number) => `${time.toFixed(1).padStart(7)} ms`
  console.log(`${ms(times[0]!)} ${ms(Math.min(...times))} ${String(markdown.length).padStart(7)} ${String(blocks).padStart(5)}  ${name}`)
}
