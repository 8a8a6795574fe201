// TEMPORARY STUB (written by the lead so the tree compiles): helper-7 replaces this whole file.
export type Block = { type: string, [key: string]: unknown }
export function markdownToBlocks(markdown: string): Block[] {
  return markdown === '' ? [] : [{ type: 'paragraph', children: [{ type: 'text', text: markdown }] }]
}
