-- CreateTable
CREATE TABLE "content_changes" (
    "id" BIGSERIAL NOT NULL,
    "seq" BIGINT,
    "api_id" TEXT NOT NULL,
    "document_id" UUID NOT NULL,
    "locale" TEXT NOT NULL,
    "published" BOOLEAN NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "content_changes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "content_changes_seq_key" ON "content_changes"("seq");

-- CreateIndex
CREATE INDEX "entries_content_type_id_locale_created_at_id_idx" ON "entries"("content_type_id", "locale", "created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "entries_content_type_id_created_at_id_idx" ON "entries"("content_type_id", "created_at" DESC, "id");

-- CreateIndex
CREATE INDEX "entries_published_idx" ON "entries" USING GIN ("published" jsonb_path_ops);

-- Changes not yet given their place in the feed; the last change readers see.
CREATE INDEX "content_changes_unsequenced_idx" ON "content_changes"("id") WHERE "seq" IS NULL;
CREATE INDEX "content_changes_published_seq_idx" ON "content_changes"("seq") WHERE "published";
-- A document's later changes, for the sync feed's deltas.
CREATE INDEX "content_changes_document_idx" ON "content_changes"("document_id", "locale", "seq") WHERE "published";

-- Every change of an entry is logged in the transaction that makes it, whatever code makes it
-- (saves, publishing, deletions, relations unlinked, model migrations); `published` says whether
-- what readers see changed (the sync feed), any row that the delivery API's answers changed (ETags).
CREATE FUNCTION "log_content_change"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  row_ "entries";
  published_ boolean;
BEGIN
  IF TG_OP = 'DELETE' THEN
    row_ := OLD;
    published_ := OLD."published" IS NOT NULL;
  ELSIF TG_OP = 'INSERT' THEN
    row_ := NEW;
    published_ := NEW."published" IS NOT NULL;
  ELSE
    row_ := NEW;
    published_ := NEW."published" IS DISTINCT FROM OLD."published" OR NEW."published_at" IS DISTINCT FROM OLD."published_at";
  END IF;
  INSERT INTO "content_changes" ("api_id", "document_id", "locale", "published")
  SELECT "api_id", row_."document_id", row_."locale", published_ FROM "content_types" WHERE "id" = row_."content_type_id";
  RETURN NULL;
END
$$;

CREATE TRIGGER "entries_log_content_change"
AFTER INSERT OR UPDATE OR DELETE ON "entries"
FOR EACH ROW EXECUTE FUNCTION "log_content_change"();
