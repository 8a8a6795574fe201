-- CreateEnum
CREATE TYPE "content_type_kind" AS ENUM ('collection', 'single');

-- CreateTable
CREATE TABLE "content_types" (
    "id" UUID NOT NULL,
    "api_id" TEXT NOT NULL,
    "kind" "content_type_kind" NOT NULL,
    "singular_name" TEXT NOT NULL,
    "plural_name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "draft_and_publish" BOOLEAN NOT NULL DEFAULT true,
    "localized" BOOLEAN NOT NULL DEFAULT false,
    "fields" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "content_types_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "content_type_versions" (
    "id" UUID NOT NULL,
    "content_type_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "definition" JSONB NOT NULL,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "content_type_versions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "components" (
    "id" UUID NOT NULL,
    "uid" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "fields" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "components_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "content_types_api_id_key" ON "content_types"("api_id");

-- CreateIndex
CREATE UNIQUE INDEX "content_type_versions_content_type_id_version_key" ON "content_type_versions"("content_type_id", "version");

-- CreateIndex
CREATE UNIQUE INDEX "components_uid_key" ON "components"("uid");

-- AddForeignKey
ALTER TABLE "content_type_versions" ADD CONSTRAINT "content_type_versions_content_type_id_fkey" FOREIGN KEY ("content_type_id") REFERENCES "content_types"("id") ON DELETE CASCADE ON UPDATE CASCADE;
