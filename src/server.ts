import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import type { Config } from './config.js'

/**
 * Starts Gudang and closes it gracefully on SIGINT/SIGTERM: Fastify stops accepting
 * connections, finishes the requests in flight, then the database is closed. A second signal,
 * or GUDANG_SHUTDOWN_TIMEOUT, ends the process at once.
 */
export async function startServer(config: Config) {
  const app = buildApp(config)
  const graceful = closeWithGrace({ delay: config.GUDANG_SHUTDOWN_TIMEOUT }, async ({ signal, err }) => {
    /* c8 ignore next: an uncaught error cannot be provoked from outside the process */
    if (err) app.log.fatal({ err }, 'closing after an uncaught error')
    else app.log.info({ signal }, 'closing')
    await app.close()
  })
  try {
    await app.listen({ port: config.PORT, host: config.HOST })
  } catch (error) {
    // A taken port, say: the database (and its lock) must not stay open behind the error,
    // and close-with-grace must not turn the failure into a clean exit.
    graceful.uninstall()
    await app.close()
    throw error
  }
  return app
}
