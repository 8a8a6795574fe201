-- CreateEnum
CREATE TYPE "media_kind" AS ENUM ('image', 'video', 'audio', 'file');

-- CreateTable
CREATE TABLE "media" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "folder" TEXT NOT NULL DEFAULT '/',
    "kind" "media_kind" NOT NULL,
    "mime" TEXT NOT NULL,
    "ext" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,
    "width" INTEGER,
    "height" INTEGER,
    "format" TEXT,
    "placeholder" TEXT,
    "dominant_color" TEXT,
    "focal_x" DOUBLE PRECISION,
    "focal_y" DOUBLE PRECISION,
    "alternative_text" TEXT,
    "caption" TEXT,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "media_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "media_folder_created_at_id_idx" ON "media"("folder", "created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "media_created_at_id_idx" ON "media"("created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "media_hash_idx" ON "media"("hash");

-- CreateIndex
CREATE INDEX "media_updated_at_idx" ON "media"("updated_at");
