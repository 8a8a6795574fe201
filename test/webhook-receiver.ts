import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'

export interface Call {
  headers: IncomingHttpHeaders
  body: string
  json: {
    id: string
    event: string
    contentType: string | null
    locale: string | null
    events: number
    data: Record<string, unknown>
  }
}

export interface ReceiverOptions {
  /** The answer's body for the call's number; `answer <number>` by default. */
  body?: (call: number) => string
  /** Sends the status, a content-length for the whole body and half of it, then closes the connection. */
  cut?: boolean
  /** Answers only once this has settled, then after `delay`. */
  until?: Promise<unknown>
}

/**
 * A real HTTP receiver on 127.0.0.1, closed after the test: it records every call and answers
 * with the status `answer` gives for the call's number (1, 2, …), after `delay` ms.
 */
export async function receiver(
  t: Test,
  answer: (call: number) => number = () => 204,
  delay = 0,
  options: ReceiverOptions = {},
) {
  const calls: Call[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      calls.push({ headers: request.headers, body, json: JSON.parse(body) })
      const number = calls.length
      const status = answer(number)
      const text = options.body?.(number) ?? `answer ${number}`
      const reply = () => {
        if (options.cut === true) {
          response.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) })
          response.write(text.slice(0, Math.floor(text.length / 2)), () => response.socket?.destroy())
          return
        }
        response.writeHead(status, { 'content-type': 'text/plain' })
        response.end(text)
      }
      void Promise.resolve(options.until).catch(() => undefined).then(() => setTimeout(reply, delay))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/hook`, calls, port }
}

/** Asks `probe` until it answers something other than undefined; fails after `ms`. */
export async function poll<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, ms = 15_000) {
  const deadline = Date.now() + ms
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await sleep(20)
  }
}
