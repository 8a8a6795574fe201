import t, { type Test } from 'tap'
import { MAX_LIST_DEPTH, MAX_NESTING, markdownToBlocks, type Block, type InlineNode, type ListBlock } from '../../../src/services/richtext.js'

const text = (value: string, marks: Record<string, true> = {}) => ({ type: 'text', text: value, ...marks })
const paragraph = (...children: object[]) => ({ type: 'paragraph', children })
const item = (...children: object[]) => ({ type: 'list-item', children })

/** What Strapi's own blocks validator asks of a value, so that Strapi's renderers can draw it. */
function strapiProblems(blocks: readonly Block[]): string[] {
  const problems: string[] = []
  const texts = (nodes: readonly object[], at: string) => nodes.forEach((node, i) => {
    if (!('type' in node) || node.type !== 'text' || !('text' in node) || typeof node.text !== 'string') {
      problems.push(`${at}/${i} is no text`)
    } else if (Object.entries(node).some(([key, value]) => !['type', 'text'].includes(key) && value !== true)) {
      problems.push(`${at}/${i} has a modifier that is not true`)
    }
  })
  const inlines = (nodes: readonly InlineNode[], at: string, least = 1) => {
    if (nodes.length < least) problems.push(`${at} is empty`)
    nodes.forEach((node, i) => {
      if (node.type === 'link') {
        if (/^\s*(javascript|vbscript|data):/i.test(node.url)) problems.push(`${at}/${i} links to a script`)
        texts(node.children, `${at}/${i}`)
      } else {
        texts([node], at)
      }
    })
  }
  const list = (node: Extract<Block, { type: 'list' }>, at: string) => {
    if (node.children.length === 0) problems.push(`${at} is empty`)
    node.children.forEach((child, i) =>
      child.type === 'list' ? list(child, `${at}/${i}`) : inlines(child.children, `${at}/${i}`, 0))
  }
  blocks.forEach((block, i) => {
    const at = `/${i}`
    switch (block.type) {
      case 'list': return list(block, at)
      case 'code': return texts(block.children, at)
      case 'image': return block.image.url === '' ? problems.push(`${at} has no url`) : texts(block.children, at)
      case 'heading': if (![1, 2, 3, 4, 5, 6].includes(block.level)) problems.push(`${at} has level ${block.level}`)
    }
    inlines(block.children, at)
  })
  return problems
}

/** The blocks, checked against Strapi's rules on the way. */
function convert(t: Test, markdown: string): Block[] {
  const blocks = markdownToBlocks(markdown)
  t.same(strapiProblems(blocks), [], 'Strapi would take these blocks')
  return blocks
}

t.test('empty or blank Markdown is no blocks, so a required rich text field stays empty', async (t) => {
  t.same(convert(t, ''), [])
  t.same(convert(t, ' \n\n\t\n'), [])
  t.same(convert(t, '---\n\n[unused]: https://example.com'), [], 'nor are a thematic break and a definition')
})

t.test('headings of every level, ATX and setext', async (t) => {
  t.same(convert(t, '# One\n## Two\n### Three\n#### Four\n##### Five\n###### Six'), [1, 2, 3, 4, 5, 6].map((level) =>
    ({ type: 'heading', level, children: [text(['One', 'Two', 'Three', 'Four', 'Five', 'Six'][level - 1]!)] })))
  t.same(convert(t, 'Title\n=====\n\nSub *title*\n---'), [
    { type: 'heading', level: 1, children: [text('Title')] },
    { type: 'heading', level: 2, children: [text('Sub '), text('title', { italic: true })] },
  ])
  t.same(convert(t, '#'), [{ type: 'heading', level: 1, children: [text('')] }], 'an empty one holds an empty text')
  t.same(convert(t, '####### seven'), [paragraph(text('####### seven'))])
})

t.test('paragraphs carry bold, italic, code, strikethrough and links; texts with the same modifiers merge', async (t) => {
  t.same(convert(t, 'Plain **bold *both*** _it_ `code` ~~gone~~ ~also~ and [a **link**](https://example.com "title").'), [
    paragraph(
      text('Plain '),
      text('bold ', { bold: true }),
      text('both', { bold: true, italic: true }),
      text(' '),
      text('it', { italic: true }),
      text(' '),
      text('code', { code: true }),
      text(' '),
      text('gone', { strikethrough: true }),
      text(' '),
      text('also', { strikethrough: true }),
      text(' and '),
      { type: 'link', url: 'https://example.com', children: [text('a '), text('link', { bold: true })] },
      text('.'),
    ),
  ])
  t.same(convert(t, '**`x`** *a&amp;b* \\*not\\*'), [
    paragraph(text('x', { bold: true, code: true }), text(' '), text('a&b', { italic: true }), text(' *not*')),
  ], 'entities and escapes are decoded')
  t.same(convert(t, 'one\ntwo  \nthree\\\nfour `co\nde`'), [paragraph(text('one two\nthree\nfour '), text('co de', { code: true }))],
    'a soft line break is a space, a hard one a line break')
  t.same(convert(t, 'x ~~~not~~~ ~one~~ two ~a ~~b~~ c~'), [paragraph(text('x ~~~not~~~ ~one~~ two '), text('a b c', { strikethrough: true }))],
    'strikethrough is between one tilde or two, the same number on each side, as in GFM')
  t.same(convert(t, 'First\n\nSecond'), [paragraph(text('First')), paragraph(text('Second'))])
  t.same(convert(t, 'a\r\nb\r\n\r\nc\rd'), [paragraph(text('a b')), paragraph(text('c d'))], 'CRLF and CR are line endings')
})

t.test('links: references resolve, links inside links give their text, empty ones hold an empty text', async (t) => {
  t.same(convert(t, '[full][Ref] [collapsed][] [ref]\n\n[ref]: https://one.example "One"\n[REF]: https://two.example\n[collapsed]: /c'), [
    paragraph(
      { type: 'link', url: 'https://one.example', children: [text('full')] },
      text(' '),
      { type: 'link', url: '/c', children: [text('collapsed')] },
      text(' '),
      { type: 'link', url: 'https://one.example', children: [text('ref')] },
    ),
  ], 'the first definition of a label wins')
  t.same(convert(t, '[see <https://inner.example> now](https://outer.example)'), [
    paragraph({ type: 'link', url: 'https://outer.example', children: [text('see https://inner.example now')] }),
  ])
  t.same(convert(t, '<https://auto.example> [](#top)'), [paragraph(
    { type: 'link', url: 'https://auto.example', children: [text('https://auto.example')] },
    text(' '),
    { type: 'link', url: '#top', children: [text('')] },
  )])
  t.same(convert(t, '[mail](mailto:a@example.com) [page](page.html) [root](/docs)').flatMap((b) =>
    'children' in b ? b.children.map((c) => c.type === 'link' ? c.url : '') : []).filter(Boolean),
  ['mailto:a@example.com', 'page.html', '/docs'], 'relative and mail addresses stay links')
})

t.test('links to scripts and data, and addresses that do not parse, keep only their text', async (t) => {
  t.same(convert(t, '[a](javascript:alert(1)) [b](<JavaScript:alert(1)>) [c](vbscript:x) [d](data:text/html,x)'), [
    paragraph(text('a b c d')),
  ])
  t.same(convert(t, '[*bad*](<https://exa mple.com>)'), [paragraph(text('bad', { italic: true }))])
  t.same(convert(t, '# ![logo](javascript:x)'), [{ type: 'heading', level: 1, children: [text('logo')] }])
})

t.test('unordered and ordered lists; nested lists follow their item inside the list, as Strapi stores them', async (t) => {
  t.same(convert(t, '- one\n- two **bold**\n  - two.a\n    1. deep\n  - two.b\n- three'), [{
    type: 'list',
    format: 'unordered',
    children: [
      item(text('one')),
      item(text('two '), text('bold', { bold: true })),
      {
        type: 'list',
        format: 'unordered',
        children: [
          item(text('two.a')),
          { type: 'list', format: 'ordered', children: [item(text('deep'))] },
          item(text('two.b')),
        ],
      },
      item(text('three')),
    ],
  }])
  t.same(convert(t, '3. three\n4. four\n\n* other'), [
    { type: 'list', format: 'ordered', children: [item(text('three')), item(text('four'))] },
    { type: 'list', format: 'unordered', children: [item(text('other'))] },
  ], 'the start number has no place in blocks')
  t.same(convert(t, '- first\n\n  second `x`\n\n  ```\n  code\n  ```\n- [ ] task\n- - nested only'), [{
    type: 'list',
    format: 'unordered',
    children: [
      item(text('first\nsecond '), text('x', { code: true }), text('\n'), text('code', { code: true })),
      item(text('[ ] task')),
      item(text('')),
      { type: 'list', format: 'unordered', children: [item(text('nested only'))] },
    ],
  }], 'an item\'s blocks are its lines')
  t.same(convert(t, '- a\n  > q\n  > - r\n  >   - s\n- b'), [{
    type: 'list',
    format: 'unordered',
    children: [item(text('a\nq\nr\ns')), item(text('b'))],
  }], 'a list in a quote in an item is lines of the item, as the quote is')
})

t.test(`lists nest as lists down to ${MAX_LIST_DEPTH} levels, deeper ones become lines of their item`, async (t) => {
  const markdown = Array.from({ length: MAX_LIST_DEPTH + 2 }, (_, i) => `${'  '.repeat(i)}- item ${i + 1}`).join('\n')
  // Each level holds its first item, then the list nested in it.
  const firstItems = (node: Block | ListBlock['children'][number] | undefined): string[] => {
    if (node?.type !== 'list') return []
    const [first, next] = node.children
    return [first?.type === 'list-item' ? first.children.map((c) => c.type === 'text' ? c.text : '').join('') : '', ...firstItems(next)]
  }
  const seen = firstItems(convert(t, markdown)[0])
  t.equal(seen.length, MAX_LIST_DEPTH)
  t.equal(seen[0], 'item 1')
  t.equal(seen.at(-1), `item ${MAX_LIST_DEPTH}\nitem ${MAX_LIST_DEPTH + 1}\nitem ${MAX_LIST_DEPTH + 2}`)
})

t.test('quotes hold inline content: each inner block is a line', async (t) => {
  t.same(convert(t, '> To be\n> or not\n>\n> # Heading\n>\n> - a\n> - b\n>\n> > inner\n>\n> ```\n> x\n> ```\n>\n> ---\n> <br>'), [{
    type: 'quote',
    children: [text('To be or not\nHeading\na\nb\ninner\n'), text('x', { code: true }), text('\n<br>')],
  }])
  t.same(convert(t, '>'), [{ type: 'quote', children: [text('')] }])
  t.same(convert(t, '> #\n> ***'), [{ type: 'quote', children: [text('')] }], 'blocks without text make no line')
  t.same(convert(t, `${'>'.repeat(MAX_NESTING - 2)} deep`), [{ type: 'quote', children: [text('deep')] }], 'quotes nest deep')
})

t.test(`quotes and lists nested beyond ${MAX_NESTING} levels keep what they hold as text`, async (t) => {
  // markdown-it would drop it. A list level counts two: the list and its item.
  t.same(convert(t, `${'>'.repeat(MAX_NESTING)} deep\n>\n> next`), [
    { type: 'quote', children: [text('>> deep\nnext')] },
  ], 'the markers past the limit stay text')
  const indent = ' '.repeat(MAX_NESTING + 20)
  const blocks = convert(t, `${'- '.repeat(MAX_NESTING / 2 + 10)}a\n${indent}b\n\n${indent}c\nd`)
  t.same(blocks.map((block) => block.type), ['list', 'paragraph'])
  t.same(blocks[1], paragraph(text('d')), 'a line less indented than the deep items ends them')
  let deepest = blocks[0]
  for (let level = 1; level < MAX_LIST_DEPTH; level++) deepest = deepest?.type === 'list' ? deepest.children[1] as ListBlock : undefined
  t.same(deepest, { type: 'list', format: 'unordered', children: [item(text(`${'- '.repeat(11)}a b\nc`))] },
    'the deep item\'s lines go on, each run of them a line')
})

t.test('code blocks keep their text and language', async (t) => {
  t.same(convert(t, '```ts twoslash\nconst a = 1\n\n  indented <b>\n```'), [
    { type: 'code', language: 'ts', children: [text('const a = 1\n\n  indented <b>')] },
  ], 'the info string\'s first word is the language')
  t.same(convert(t, '    indented code\r\n    second line\n\n~~~\n~~~'), [
    { type: 'code', children: [text('indented code\nsecond line')] },
    { type: 'code', children: [text('')] },
  ], 'without one, there is no language')
})

t.test('images: a paragraph\'s own become image blocks and split it; elsewhere they are links', async (t) => {
  const image = (url: string, alternativeText: string | null, caption: string | null) =>
    ({ type: 'image', image: { url, alternativeText, caption }, children: [text('')] })
  t.same(convert(t, '![A cat](https://img.example/cat.png "Our cat")'), [image('https://img.example/cat.png', 'A cat', 'Our cat')])
  t.same(convert(t, 'Before **it** ![](/a.png)\nafter ![b][pic] ![c](data:image/png;base64,AA==)\n\n[pic]: /b.png "B"'), [
    paragraph(text('Before '), text('it', { bold: true })),
    image('/a.png', null, null),
    paragraph(text('after')),
    image('/b.png', 'b', 'B'),
    image('data:image/png;base64,AA==', 'c', null),
  ], 'the white space around an image goes with it')
  t.same(convert(t, '`code ` ![x](/x.png) [link ](/l)'), [
    paragraph(text('code ', { code: true })),
    image('/x.png', 'x', null),
    paragraph({ type: 'link', url: '/l', children: [text('link ')] }),
  ], 'but not the space inside code and links')
  t.same(convert(t, '[![build](/badge.svg)](https://ci.example) *![em](/e.png)*\n\n## ![logo](/logo.png) Title\n### ![](/x.png)\n#### ![pic]\n\n[pic]: /p.png'), [
    paragraph(
      { type: 'link', url: 'https://ci.example', children: [text('build')] },
      text(' '),
      { type: 'link', url: '/e.png', children: [text('em', { italic: true })] },
    ),
    { type: 'heading', level: 2, children: [{ type: 'link', url: '/logo.png', children: [text('logo')] }, text(' Title')] },
    { type: 'heading', level: 3, children: [{ type: 'link', url: '/x.png', children: [text('/x.png')] }] },
    { type: 'heading', level: 4, children: [{ type: 'link', url: '/p.png', children: [text('pic')] }] },
  ], 'a link\'s image gives its alt text; another image is a link to it, the alt text or address its text')
  t.same(convert(t, '![a *b* `c` <d>  \ne ![f](/f.png)](/a.png)'), [image('/a.png', 'a b c <d>\ne f', null)],
    'the alt text is the description\'s text, images in it included')
})

t.test('HTML is kept as plain text, never as markup', async (t) => {
  t.same(convert(t, '<script>alert(1)</script>\n\n<div class="x">\n*not emphasis*\n</div>\n\n<!-- note -->'), [
    paragraph(text('<script>alert(1)</script>')),
    paragraph(text('<div class="x">\n*not emphasis*\n</div>')),
    paragraph(text('<!-- note -->')),
  ])
  t.same(convert(t, 'a <b>bold?</b> <img src=x onerror="alert(1)">\nand <!-- two\nlines -->'), [
    paragraph(text('a <b>bold?</b> <img src=x onerror="alert(1)"> and <!-- two lines -->')),
  ])
  t.same(convert(t, '- <em>x</em>\n\n  <p>block</p>'), [{ type: 'list', format: 'unordered', children: [item(text('<em>x</em>\n<p>block</p>'))] }])
})

t.test('a large document converts', async (t) => {
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
  const markdown = Array.from({ length: 1000 }, (_, i) => section(i)).join('\n\n')
  t.ok(markdown.length > 200_000)
  const blocks = convert(t, markdown)
  t.equal(blocks.length, 1000 * 7)
  t.same(blocks.slice(7, 14).map((b) => b.type), ['heading', 'paragraph', 'list', 'quote', 'code', 'image', 'paragraph'])
})

t.test('hostile Markdown converts, its nesting bounded, without overflowing the stack', async (t) => {
  // Each is at most the 50,000 characters a request may send; bench/richtext.ts prints their times.
  const nested = convert(t, `${'- '.repeat(5000)}a`)
  t.equal(nested.length, 1)
  let deepest: Block | ListBlock['children'][number] | undefined = nested[0]
  for (let level = 1; level < MAX_LIST_DEPTH; level++) {
    t.match(deepest, { type: 'list', children: [item(text(''))] })
    deepest = deepest?.type === 'list' ? deepest.children[1] : undefined
  }
  t.equal(deepest?.type === 'list' && deepest.children.length, 1, `lists nest ${MAX_LIST_DEPTH} deep`)
  t.match(deepest, { type: 'list', children: [{ type: 'list-item', children: [{ type: 'text', text: /^(- )+a$/ }] }] })

  const alternate = (count: number, marks: Record<string, true>) =>
    Array.from({ length: count }, (_, i) => i % 2 ? text('a') : text('a', marks))
  t.same(convert(t, '*a'.repeat(10_000)), [paragraph(...alternate(10_000, { italic: true }))])
  t.same(convert(t, '**a'.repeat(16_667).slice(0, 50_000)), [paragraph(...alternate(16_665, { bold: true }), text('a**'))])
  t.same(convert(t, `${'*'.repeat(24_999)}a${'*'.repeat(25_000)}`), [paragraph(text('a', { bold: true, italic: true }), text('*'))])
  for (const literal of ['['.repeat(50_000), '[a]('.repeat(12_500), '!['.repeat(25_000), '<a'.repeat(25_000)]) {
    t.same(convert(t, literal), [paragraph(text(literal))], `${literal.slice(0, 4)}… stays text`)
  }
  t.same(convert(t, `${'!['.repeat(8333)}a${'](b)'.repeat(8333)}`).map((block) => block.type), ['paragraph', 'image', 'paragraph'],
    'images nest only so deep')

  t.match(convert(t, `${'>'.repeat(50_000)}a`), [{ type: 'quote', children: [{ type: 'text', text: /^>+a$/ }] }])
  t.match(convert(t, `${'> - '.repeat(12_500)}a`), [{ type: 'quote', children: [{ type: 'text', text: /^(> - )+a$/ }] }])
})
