import MarkdownIt, { type StateBlock, type StateInline, type Token } from 'markdown-it'

/**
 * Rich text is stored as Strapi 5's "Blocks" JSON, so front ends can use the renderers made for
 * it (`@strapi/blocks-react-renderer` and its ports). Editors may send Markdown instead:
 * `markdownToBlocks` turns CommonMark, plus GFM's `~~strikethrough~~` (or `~this~`), into blocks,
 * parsed by markdown-it. Markdown can say more than blocks can hold; what it does then:
 * - Raw HTML, inline or as a block, is kept as its literal text, never as markup. GFM's tables and
 *   task lists are not parsed: their pipes and `[ ]` stay text too.
 * - Thematic breaks (`---`) and link definitions hold no text and make no block.
 * - Blocks hold only inline content in quotes and list items: there, the text of each inner block
 *   (paragraph, code, nested quote...) is one line, lines are joined by `\n`. A list nested in a list
 *   item follows that item inside its list, as Strapi's editor stores it, down to `MAX_LIST_DEPTH`
 *   levels; deeper ones become lines of their item.
 * - Quotes and lists nested past `MAX_NESTING` levels (a list and its item count two) are not parsed
 *   further: the lines left in the deepest one are kept as text, their Markdown markers included.
 * - An image that is a paragraph's own child becomes an image block, splitting the paragraph around
 *   it. Anywhere else (a heading, a quote, a link's text) it is a link to the image, its text the alt
 *   text; inside a link, just the alt text. Markdown gives an image only `url`,
 *   `alternativeText` (alt) and `caption` (title), none of the media library's other fields.
 * - A soft line break is a space, as Markdown renders it; a hard one is `\n` in the text.
 * - Links to `javascript:`, `vbscript:` or `data:` URLs (Strapi refuses them too), or to addresses
 *   that do not parse, keep only their text. Images keep any URL: an `<img>` runs no script. Link titles and ordered lists' start numbers have no place in blocks and are dropped.
 * - Empty or blank Markdown is no blocks at all (`[]`), so a required rich text field stays empty.
 *
 * The conversion runs inside requests, on whatever an editor sends: markdown-it takes time about
 * linear in its input even when hostile (`bench/richtext.ts` measures it), its nesting is bounded and
 * nothing here recurses, so no input exhausts the stack.
 */

/**
 * The longest Markdown a field may be given: it is converted on save, in the request. Longer
 * text comes as blocks. (Every hostile input this long converts in under 0.3 s: bench/richtext.ts.)
 */
export const MAX_MARKDOWN = 50_000

/** Inline text; a modifier appears only when true. Markdown has no underline, but stored blocks may. */
export interface TextNode {
  type: 'text'
  text: string
  bold?: boolean
  italic?: boolean
  underline?: boolean
  strikethrough?: boolean
  code?: boolean
}

export interface LinkNode {
  type: 'link'
  url: string
  children: TextNode[]
}

export type InlineNode = TextNode | LinkNode

export interface ParagraphBlock {
  type: 'paragraph'
  children: InlineNode[]
}

export interface HeadingBlock {
  type: 'heading'
  level: 1 | 2 | 3 | 4 | 5 | 6
  children: InlineNode[]
}

export interface QuoteBlock {
  type: 'quote'
  children: InlineNode[]
}

export interface CodeBlock {
  type: 'code'
  language?: string
  children: TextNode[]
}

export interface ListItemNode {
  type: 'list-item'
  children: InlineNode[]
}

export interface ListBlock {
  type: 'list'
  format: 'ordered' | 'unordered'
  children: (ListItemNode | ListBlock)[]
}

export interface ImageBlock {
  type: 'image'
  image: { url: string, alternativeText: string | null, caption: string | null }
  children: [{ type: 'text', text: '' }]
}

/** A top-level node of a rich text value. */
export type Block = ParagraphBlock | HeadingBlock | QuoteBlock | CodeBlock | ListBlock | ImageBlock

/** How deep lists nest as lists; every level is one more level of JSON for storage and renderers. */
export const MAX_LIST_DEPTH = 16

/**
 * How deep markdown-it nests blocks (a list counts two levels, with its item), and links and images
 * inline. It parses each level in a call of its own, so this bound keeps the stack short. It is
 * markdown-it's default; its CommonMark preset's 20 would stop lists at 9 levels.
 */
export const MAX_NESTING = 100

type Marks = Pick<TextNode, 'bold' | 'italic' | 'strikethrough' | 'code'>
type Mark = 'bold' | 'italic' | 'strikethrough'

const MODIFIERS = ['bold', 'italic', 'underline', 'strikethrough', 'code'] as const
const MARK_TAGS: ReadonlyMap<string, Mark> = new Map([['strong', 'bold'], ['em', 'italic'], ['s', 'strikethrough']])
const UNSAFE_PROTOCOLS = new Set(['javascript:', 'vbscript:', 'data:'])
const SPACE_AT_START = /^[ \t\n]+/
const SPACE_AT_END = /[ \t\n]+$/
const TILDE = 0x7e
/** The delimiter marker of a single tilde: no character's code, so it pairs only with its like. */
const SINGLE_TILDE = -TILDE

/**
 * GFM strikes through text between single tildes too, where markdown-it reads only pairs: a lone
 * tilde is a delimiter of its own kind here, and a run of three or more is text, as in GFM.
 */
function tildes(state: StateInline, silent: boolean): boolean {
  if (silent || state.src.charCodeAt(state.pos) !== TILDE) return false
  const scanned = state.scanDelims(state.pos, true)
  if (scanned.length === 2) return false
  if (scanned.length > 2) {
    state.pending += state.src.slice(state.pos, state.pos + scanned.length)
  } else {
    state.push('text', '', 0).content = '~'
    const { can_open: open, can_close: close } = scanned
    state.delimiters.push({ marker: SINGLE_TILDE, length: 0, token: state.tokens.length - 1, end: -1, open, close })
  }
  state.pos += scanned.length
  return true
}

/** Single tildes that markdown-it paired become strikethrough tokens, as its own rule makes. */
function singleTildes(state: StateInline): void {
  const lists = [state.delimiters]
  for (const meta of state.tokens_meta) if (meta?.delimiters) lists.push(meta.delimiters)
  for (const delimiters of lists) {
    for (const opener of delimiters) {
      if (opener.marker !== SINGLE_TILDE || opener.end === -1) continue
      const ends = [[opener, 's_open', 1], [delimiters[opener.end]!, 's_close', -1]] as const
      for (const [delimiter, type, nesting] of ends) {
        Object.assign(state.tokens[delimiter.token]!, { type, tag: 's', nesting, markup: '~', content: '' })
      }
    }
  }
}

/**
 * Where markdown-it would stop at `MAX_NESTING` and drop the rest of a container, its remaining
 * lines become paragraphs instead, one for each run of lines. A list opens two levels before it
 * parses its items, so this comes two levels early: markdown-it never reaches its own limit.
 */
function beyondNesting(state: StateBlock, startLine: number, endLine: number): boolean {
  if (state.level < MAX_NESTING - 2) return false
  let next = startLine + 1
  while (next < endLine && !state.isEmpty(next) && state.sCount[next]! >= state.blkIndent) next++
  state.push('paragraph_open', 'p', 1).map = [startLine, next]
  const content = state.push('inline', '', 0)
  content.content = state.getLines(startLine, next, state.blkIndent, false).trim()
  content.map = [startLine, next]
  content.children = []
  state.push('paragraph_close', 'p', -1)
  state.line = next
  return true
}

// Raw HTML is parsed (`html: true`) so that it keeps CommonMark's block structure; nothing here
// renders HTML, an HTML token becomes its literal text.
const parser = new MarkdownIt('commonmark', { html: true, maxNesting: MAX_NESTING }).enable('strikethrough')
parser.block.ruler.before('code', 'beyond_nesting', beyondNesting)
parser.inline.ruler.before('strikethrough', 'single_tilde', tildes)
parser.inline.ruler2.after('strikethrough', 'single_tilde', singleTildes)
// Links keep their address as written, and `isSafeUrl` judges them: markdown-it's own check would
// leave an unsafe link as its Markdown source rather than its text.
parser.validateLink = () => true
parser.normalizeLink = (url) => url
parser.normalizeLinkText = (url) => url

function text(value: string, marks: Marks = {}): TextNode {
  return { type: 'text', text: value, ...marks }
}

function attribute(token: Token, name: string): string {
  return String(token.attrGet(name) ?? '')
}

/** Whether a link may point there: relative addresses may, script and data URLs may not. */
function isSafeUrl(url: string): boolean {
  try {
    return !UNSAFE_PROTOCOLS.has(new URL(url, 'https://gudang.invalid/').protocol)
  } catch {
    return false
  }
}

/** Adjacent texts with the same modifiers merged, empty ones dropped. */
function merged<T extends InlineNode>(nodes: readonly T[]): T[] {
  const result: T[] = []
  for (const node of nodes) {
    const last = result.at(-1)
    if (node.type === 'text' && node.text === '') continue
    if (node.type === 'text' && last?.type === 'text' && MODIFIERS.every((m) => last[m] === node[m])) {
      result[result.length - 1] = { ...last, text: last.text + node.text }
    } else {
      result.push(node)
    }
  }
  return result
}

/** Strapi's blocks always hold a node: an empty one holds an empty text. */
function orEmpty<T extends InlineNode>(nodes: T[]): (T | TextNode)[] {
  return nodes.length > 0 ? nodes : [text('')]
}

/** A link, or only its text when its URL is unsafe. Links cannot hold links: an inner one gives its text. */
function link(url: string, children: InlineNode[], into: InlineNode[]): void {
  if (!isSafeUrl(url)) {
    for (const child of children) into.push(child)
    return
  }
  const texts = children.flatMap((node) => node.type === 'text' ? [node] : node.children)
  into.push({ type: 'link', url, children: orEmpty(merged(texts)) })
}

/** An image's alt text: the text of its description, markup left out. Walked without recursion. */
function altText(image: Token): string {
  let alt = ''
  const stack = [image]
  for (let token = stack.pop(); token; token = stack.pop()) {
    if (token.type === 'image') {
      for (let i = token.children!.length - 1; i >= 0; i--) stack.push(token.children![i]!)
    } else if (token.type === 'softbreak' || token.type === 'hardbreak') {
      alt += '\n'
    } else {
      // Text, code and HTML give their content; markup tokens have none.
      alt += token.content
    }
  }
  return alt
}

/**
 * The inline nodes of an inline token's children, in one pass: markdown-it gives them flat, with
 * open and close tokens for emphasis and links. An image outside marks and links goes to
 * `ownImage` if given, with the nodes before it; what it returns are the nodes after the last one.
 */
function inline(tokens: readonly Token[], ownImage?: (image: Token, before: InlineNode[]) => void): InlineNode[] {
  let out: InlineNode[] = []
  const links: { url: string, children: InlineNode[] }[] = []
  const open: Record<Mark, number> = { bold: 0, italic: 0, strikethrough: 0 }
  const marks = (): Marks => {
    const active: Marks = {}
    for (const mark of MARK_TAGS.values()) if (open[mark] > 0) active[mark] = true
    return active
  }
  for (const token of tokens) {
    const mark = MARK_TAGS.get(token.tag)
    if (mark) {
      open[mark] += token.nesting
      continue
    }
    const into = links.at(-1)?.children ?? out
    switch (token.type) {
      case 'code_inline':
        into.push(text(token.content, { ...marks(), code: true }))
        break
      case 'softbreak':
        into.push(text(' ', marks()))
        break
      case 'hardbreak':
        into.push(text('\n', marks()))
        break
      case 'link_open':
        links.push({ url: attribute(token, 'href'), children: [] })
        break
      case 'link_close': {
        const { url, children } = links.pop()!
        link(url, children, links.at(-1)?.children ?? out)
        break
      }
      case 'image': {
        const url = attribute(token, 'src')
        const alt = text(altText(token) || url, marks())
        if (links.length > 0) {
          into.push(alt)
        } else if (ownImage && open.bold + open.italic + open.strikethrough === 0) {
          ownImage(token, out)
          out = []
        } else {
          link(url, [alt], out)
        }
        break
      }
      default:
        // Text, and inline HTML as text, whose line endings are soft breaks.
        into.push(text(token.content.replace(/\n/g, ' '), marks()))
    }
  }
  return out
}

/** A code or HTML block's text, without the line ending markdown-it leaves at its end. */
function blockText(token: Token): string {
  return token.content.replace(/\n$/, '')
}

/** A leaf block as one line of inline content; container and break tokens give none. */
function line(token: Token): InlineNode[] {
  switch (token.type) {
    case 'inline':
      return merged(inline(token.children!))
    case 'fence':
    case 'code_block':
      return merged([text(blockText(token), { code: true })])
    case 'html_block':
      return [text(blockText(token))]
    default:
      return []
  }
}

/** Lines as the inline content of one block, joined by `\n`. */
function joined(lines: readonly InlineNode[][]): InlineNode[] {
  const result: InlineNode[] = []
  for (const content of lines) {
    if (content.length === 0) continue
    if (result.length > 0) result.push(text('\n'))
    for (const node of content) result.push(node)
  }
  return orEmpty(merged(result))
}

/** Index of the token that closes the one at `open`: the next token at its level. */
function closing(tokens: readonly Token[], open: number): number {
  const { level } = tokens[open]!
  let index = open + 1
  while (tokens[index]!.level !== level) index++
  return index
}

function format(token: Token): ListBlock['format'] {
  return token.type === 'ordered_list_open' ? 'ordered' : 'unordered'
}

/** A list being built: the lines of its open item, and the lists nested in that item. */
interface OpenList {
  block: ListBlock
  lines: InlineNode[][]
  nested: ListBlock[]
  /** Lists open below `MAX_LIST_DEPTH`, whose leaves are lines of this list's item. */
  flattened: number
}

/** The list from `tokens[start]` to its closing token `end`, walked with a stack of open lists. */
function list(tokens: readonly Token[], start: number, end: number): ListBlock {
  const root: ListBlock = { type: 'list', format: format(tokens[start]!), children: [] }
  const open: OpenList[] = [{ block: root, lines: [], nested: [], flattened: 0 }]
  for (let index = start + 1; index < end; index++) {
    const token = tokens[index]!
    const current = open.at(-1)!
    switch (token.type) {
      case 'bullet_list_open':
      case 'ordered_list_open':
        if (open.length < MAX_LIST_DEPTH) {
          const block: ListBlock = { type: 'list', format: format(token), children: [] }
          current.nested.push(block)
          open.push({ block, lines: [], nested: [], flattened: 0 })
        } else {
          current.flattened++
        }
        break
      case 'bullet_list_close':
      case 'ordered_list_close':
        if (current.flattened > 0) current.flattened--
        else open.pop()
        break
      case 'blockquote_open': {
        // A quote is lines of its item, lists in it too.
        const quoteEnd = closing(tokens, index)
        for (const leaf of tokens.slice(index + 1, quoteEnd)) current.lines.push(line(leaf))
        index = quoteEnd
        break
      }
      case 'list_item_close':
        if (current.flattened > 0) break
        current.block.children.push({ type: 'list-item', children: joined(current.lines) })
        for (const nested of current.nested) current.block.children.push(nested)
        current.lines = []
        current.nested = []
        break
      default:
        current.lines.push(line(token))
    }
  }
  return root
}

function image(token: Token): ImageBlock {
  return {
    type: 'image',
    image: { url: attribute(token, 'src'), alternativeText: altText(token) || null, caption: attribute(token, 'title') || null },
    children: [{ type: 'text', text: '' }],
  }
}

/** Inline content without the white space left at its edges, outside code. */
function trimmed(nodes: InlineNode[]): InlineNode[] {
  return merged(merged(nodes).map((node, index, all) => {
    if (node.type !== 'text' || node.code) return node
    let value = node.text
    if (index === 0) value = value.replace(SPACE_AT_START, '')
    if (index === all.length - 1) value = value.replace(SPACE_AT_END, '')
    return { ...node, text: value }
  }))
}

/** A paragraph, split around the images it holds, which become image blocks. */
function paragraph(tokens: readonly Token[], into: Block[]): void {
  const flush = (nodes: InlineNode[]) => {
    const content = trimmed(nodes)
    if (content.length > 0) into.push({ type: 'paragraph', children: content })
  }
  flush(inline(tokens, (token, before) => {
    flush(before)
    into.push(image(token))
  }))
}

/** Markdown (CommonMark and GFM strikethrough) as rich text blocks; see the top of this file. */
export function markdownToBlocks(markdown: string): Block[] {
  // markdown-it reads CR and CRLF as line endings, and resolves link references itself.
  const tokens = parser.parse(markdown, {})
  const blocks: Block[] = []
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!
    switch (token.type) {
      case 'inline': {
        // The content of a top-level paragraph or heading, which opened just before.
        const opener = tokens[index - 1]!
        if (opener.type === 'paragraph_open') {
          paragraph(token.children!, blocks)
        } else {
          const level = Number(opener.tag.slice(1)) as HeadingBlock['level']
          blocks.push({ type: 'heading', level, children: orEmpty(merged(inline(token.children!))) })
        }
        break
      }
      case 'blockquote_open': {
        const end = closing(tokens, index)
        blocks.push({ type: 'quote', children: joined(tokens.slice(index + 1, end).map(line)) })
        index = end
        break
      }
      case 'bullet_list_open':
      case 'ordered_list_open': {
        const end = closing(tokens, index)
        blocks.push(list(tokens, index, end))
        index = end
        break
      }
      case 'fence': {
        const language = parser.utils.unescapeAll(token.info).trim().split(/\s+/)[0]
        blocks.push({ type: 'code', ...(language ? { language } : {}), children: [text(blockText(token))] })
        break
      }
      case 'code_block':
        blocks.push({ type: 'code', children: [text(blockText(token))] })
        break
      case 'html_block':
        blocks.push({ type: 'paragraph', children: [text(blockText(token))] })
        break
      // Thematic breaks hold no text; definitions make no token.
    }
  }
  return blocks
}
