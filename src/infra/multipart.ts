import multipart from '@fastify/multipart'
import fp from 'fastify-plugin'

/**
 * Multipart bodies (uploads), read as streams by the routes that take them. The limits stop a
 * file, or the count of files and fields, mid-stream with a 413.
 */
export default fp(
  async (app) => {
    const { config } = app
    await app.register(multipart, {
      limits: {
        fileSize: config.GUDANG_MEDIA_MAX_FILE_SIZE,
        files: config.GUDANG_MEDIA_MAX_FILES,
        fields: 20,
        fieldSize: 4096,
        parts: config.GUDANG_MEDIA_MAX_FILES + 20,
      },
    })
  },
  { name: 'multipart' },
)
