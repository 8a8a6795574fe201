-- CreateEnum
CREATE TYPE "entry_action" AS ENUM ('create', 'update', 'publish', 'unpublish', 'discard', 'restore', 'migrate');

-- CreateTable
CREATE TABLE "locales" (
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "is_default" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "locales_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "entries" (
    "id" UUID NOT NULL,
    "document_id" UUID NOT NULL,
    "content_type_id" UUID NOT NULL,
    "locale" TEXT NOT NULL,
    "draft" JSONB NOT NULL,
    "published" JSONB,
    "version" INTEGER NOT NULL DEFAULT 1,
    "published_version" INTEGER,
    "published_at" TIMESTAMPTZ(3),
    "created_by_id" UUID,
    "updated_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "entry_versions" (
    "id" UUID NOT NULL,
    "entry_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "action" "entry_action" NOT NULL,
    "data" JSONB NOT NULL,
    "changed" TEXT[],
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "entry_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "user_id" UUID,
    "token_id" UUID,
    "details" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "entries_content_type_id_locale_idx" ON "entries"("content_type_id", "locale");

-- CreateIndex
CREATE UNIQUE INDEX "entries_document_id_locale_key" ON "entries"("document_id", "locale");

-- CreateIndex
CREATE UNIQUE INDEX "entry_versions_entry_id_version_key" ON "entry_versions"("entry_id", "version");

-- CreateIndex
CREATE INDEX "audit_events_created_at_idx" ON "audit_events"("created_at");

-- CreateIndex
CREATE INDEX "audit_events_subject_idx" ON "audit_events"("subject");

-- AddForeignKey
ALTER TABLE "entries" ADD CONSTRAINT "entries_content_type_id_fkey" FOREIGN KEY ("content_type_id") REFERENCES "content_types"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "entry_versions" ADD CONSTRAINT "entry_versions_entry_id_fkey" FOREIGN KEY ("entry_id") REFERENCES "entries"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- At most one default locale (the service keeps exactly one).
CREATE UNIQUE INDEX "locales_one_default" ON "locales" ((true)) WHERE "is_default";

-- The default locale to start with.
INSERT INTO "locales" ("code", "name", "is_default") VALUES ('en', 'English', true);

-- The steps of each content-type change, beside the definition.
ALTER TABLE "content_type_versions" ADD COLUMN "changes" JSONB NOT NULL DEFAULT '[]';
