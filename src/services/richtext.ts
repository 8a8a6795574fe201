import type { Definition, Image, ImageReference, List, ListItem, Paragraph, PhrasingContent, RootContent } from 'mdast'
import { fromMarkdown } from 'mdast-util-from-markdown'
import { gfmStrikethroughFromMarkdown } from 'mdast-util-gfm-strikethrough'
import { toString } from 'mdast-util-to-string'
import { gfmStrikethrough } from 'micromark-extension-gfm-strikethrough'

/**
 * Rich text is stored as Strapi 5's "Blocks" JSON, so front ends can use the renderers made for
 * it (`@strapi/blocks-react-renderer` and its ports). Editors may send Markdown instead:
 * `markdownToBlocks` turns CommonMark, plus GFM's `~~strikethrough~~`, into blocks. Markdown can say
 * more than blocks can hold; what it does then:
 * - Raw HTML, inline or as a block, is kept as its literal text, never as markup. GFM's tables and
 *   task lists are not parsed: their pipes and `[ ]` stay text too.
 * - Thematic breaks (`---`) and link definitions hold no text and make no block.
 * - Blocks hold only inline content in quotes and list items: there, the text of each inner block
 *   (paragraph, code, nested quote...) is one line, lines are joined by `\n`. A list nested in a list
 *   item follows that item inside its list, as Strapi's editor stores it, down to `MAX_LIST_DEPTH`
 *   levels; deeper ones become lines of their item.
 * - An image that is a paragraph's own child becomes an image block, splitting the paragraph around
 *   it. Anywhere else (a heading, a quote, a link's text) it is a link to the image, its text the alt
 *   text; inside a link, just the alt text. Markdown gives an image only `url`,
 *   `alternativeText` (alt) and `caption` (title), none of the media library's other fields.
 * - A soft line break is a space, as Markdown renders it; a hard one is `\n` in the text.
 * - Links to `javascript:`, `vbscript:` or `data:` URLs (Strapi refuses them too), or to addresses
 *   that do not parse, keep only their text. Images keep any URL: an `<img>` runs no script. Link titles and ordered lists' start numbers have no place in blocks and are dropped.
 * - Empty or blank Markdown is no blocks at all (`[]`), so a required rich text field stays empty.
 */

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

type Marks = Pick<TextNode, 'bold' | 'italic' | 'strikethrough' | 'code'>
type Definitions = ReadonlyMap<string, Pick<Definition, 'url' | 'title'>>

const MODIFIERS = ['bold', 'italic', 'underline', 'strikethrough', 'code'] as const
const UNSAFE_PROTOCOLS = new Set(['javascript:', 'vbscript:', 'data:'])
const SPACE_AT_START = /^[ \t\n]+/
const SPACE_AT_END = /[ \t\n]+$/

function text(value: string, marks: Marks = {}): TextNode {
  return { type: 'text', text: value, ...marks }
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

/** What a reference names. micromark makes a reference only of a label that is defined. */
function resolve(definitions: Definitions, node: { identifier: string }) {
  /* c8 ignore next */
  return definitions.get(node.identifier) ?? { url: '', title: null }
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

/**
 * Appends the inline nodes of Markdown's phrasing content to `into`. It recurses only where Markdown
 * nests emphasis or links, one call a level.
 */
function inline(definitions: Definitions, nodes: readonly PhrasingContent[], into: InlineNode[], marks: Marks = {}) {
  for (const node of nodes) {
    switch (node.type) {
      case 'strong':
        inline(definitions, node.children, into, { ...marks, bold: true })
        break
      case 'emphasis':
        inline(definitions, node.children, into, { ...marks, italic: true })
        break
      case 'delete':
        inline(definitions, node.children, into, { ...marks, strikethrough: true })
        break
      case 'inlineCode':
        // CommonMark turns a code span's line endings into spaces.
        into.push(text(node.value.replace(/\n/g, ' '), { ...marks, code: true }))
        break
      case 'break':
        into.push(text('\n', marks))
        break
      case 'link':
      case 'linkReference': {
        const children: InlineNode[] = []
        inline(definitions, node.children, children, marks)
        link(node.type === 'link' ? node.url : resolve(definitions, node).url, children, into)
        break
      }
      case 'image':
      case 'imageReference': {
        const url = node.type === 'image' ? node.url : resolve(definitions, node).url
        link(url, [text(node.alt || url, marks)], into)
        break
      }
      default:
        // Text, and inline HTML as text. A soft line break renders as a space.
        into.push(text(toString(node).replace(/\n/g, ' '), marks))
    }
  }
}

/** The leaf blocks inside container blocks, in order, found without recursion: quotes nest cheaply. */
function leaves(nodes: readonly RootContent[]): RootContent[] {
  const found: RootContent[] = []
  const stack = [...nodes].reverse()
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.type === 'blockquote' || node.type === 'list' || node.type === 'listItem') {
      for (const child of [...node.children].reverse()) stack.push(child)
    } else {
      found.push(node)
    }
  }
  return found
}

/** Blocks as inline content, for the blocks that hold nothing else: a line each, joined by `\n`. */
function lines(definitions: Definitions, nodes: readonly RootContent[]): InlineNode[] {
  const result: InlineNode[] = []
  for (const node of leaves(nodes)) {
    const line: InlineNode[] = []
    if (node.type === 'paragraph' || node.type === 'heading') inline(definitions, node.children, line)
    else if (node.type === 'code') line.push(text(node.value, { code: true }))
    else line.push(text(toString(node)))
    const content = merged(line)
    if (content.length === 0) continue
    if (result.length > 0) result.push(text('\n'))
    for (const node of content) result.push(node)
  }
  return orEmpty(merged(result))
}

function listItem(definitions: Definitions, item: ListItem, depth: number): (ListItemNode | ListBlock)[] {
  const content: RootContent[] = []
  const nested: ListBlock[] = []
  for (const child of item.children) {
    if (child.type === 'list' && depth < MAX_LIST_DEPTH) nested.push(list(definitions, child, depth + 1))
    else content.push(child)
  }
  return [{ type: 'list-item', children: lines(definitions, content) }, ...nested]
}

function list(definitions: Definitions, node: List, depth: number): ListBlock {
  return {
    type: 'list',
    format: node.ordered ? 'ordered' : 'unordered',
    children: node.children.flatMap((item) => listItem(definitions, item, depth)),
  }
}

function image(definitions: Definitions, node: Image | ImageReference): ImageBlock {
  const { url, title } = node.type === 'image' ? node : resolve(definitions, node)
  return {
    type: 'image',
    image: { url, alternativeText: node.alt || null, caption: title || null },
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
function paragraph(definitions: Definitions, node: Paragraph): Block[] {
  const blocks: Block[] = []
  let run: PhrasingContent[] = []
  const flush = () => {
    const children: InlineNode[] = []
    inline(definitions, run, children)
    const content = trimmed(children)
    if (content.length > 0) blocks.push({ type: 'paragraph', children: content })
    run = []
  }
  for (const child of node.children) {
    if (child.type === 'image' || child.type === 'imageReference') {
      flush()
      blocks.push(image(definitions, child))
    } else {
      run.push(child)
    }
  }
  flush()
  return blocks
}

function blocks(definitions: Definitions, node: RootContent): Block[] {
  switch (node.type) {
    case 'paragraph':
      return paragraph(definitions, node)
    case 'heading': {
      const children: InlineNode[] = []
      inline(definitions, node.children, children)
      return [{ type: 'heading', level: node.depth, children: orEmpty(merged(children)) }]
    }
    case 'blockquote':
      return [{ type: 'quote', children: lines(definitions, node.children) }]
    case 'list':
      return [list(definitions, node, 1)]
    case 'code':
      return [{ type: 'code', ...(node.lang ? { language: node.lang } : {}), children: [text(node.value)] }]
    default: {
      // HTML blocks as text; thematic breaks and definitions hold none.
      const value = toString(node)
      return value ? [{ type: 'paragraph', children: [text(value)] }] : []
    }
  }
}

/** Markdown (CommonMark and GFM strikethrough) as rich text blocks; see the top of this file. */
export function markdownToBlocks(markdown: string): Block[] {
  // Browsers send a textarea's line breaks as CRLF; code blocks should not keep the CR.
  const root = fromMarkdown(markdown.replace(/\r\n?/g, '\n'), {
    extensions: [gfmStrikethrough()],
    mdastExtensions: [gfmStrikethroughFromMarkdown()],
  })
  const definitions = new Map<string, Definition>()
  for (const node of leaves(root.children)) {
    // CommonMark: the first definition of a label wins.
    if (node.type === 'definition' && !definitions.has(node.identifier)) definitions.set(node.identifier, node)
  }
  return root.children.flatMap((node) => blocks(definitions, node))
}
