-- CreateEnum
CREATE TYPE "api_token_kind" AS ENUM ('delivery', 'preview', 'full', 'custom');

-- AlterTable (made NOT NULL below, once existing users have a role)
ALTER TABLE "users" ADD COLUMN     "role_id" UUID;

-- CreateTable
CREATE TABLE "roles" (
    "id" UUID NOT NULL,
    "key" TEXT,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "roles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "permissions" (
    "id" UUID NOT NULL,
    "role_id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "own_only" BOOLEAN NOT NULL DEFAULT false,
    "fields" TEXT[] DEFAULT ARRAY[]::TEXT[],

    CONSTRAINT "permissions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "refresh_tokens" (
    "id" UUID NOT NULL,
    "session_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "refresh_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "kind" "api_token_kind" NOT NULL,
    "role_id" UUID,
    "token_hash" TEXT NOT NULL,
    "hint" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "system_secrets" (
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "system_secrets_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE UNIQUE INDEX "roles_key_key" ON "roles"("key");

-- CreateIndex
CREATE UNIQUE INDEX "roles_name_key" ON "roles"("name");

-- CreateIndex
CREATE UNIQUE INDEX "permissions_role_id_subject_action_key" ON "permissions"("role_id", "subject", "action");

-- CreateIndex
CREATE INDEX "sessions_user_id_idx" ON "sessions"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "refresh_tokens_token_hash_key" ON "refresh_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "refresh_tokens_session_id_idx" ON "refresh_tokens"("session_id");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_name_key" ON "api_tokens"("name");

-- CreateIndex
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "api_tokens_role_id_idx" ON "api_tokens"("role_id");

-- CreateIndex
CREATE INDEX "api_tokens_created_by_id_idx" ON "api_tokens"("created_by_id");

-- The built-in roles (src/services/roles.ts describes them)
INSERT INTO "roles" ("id", "key", "name", "description", "updated_at") VALUES
  (gen_random_uuid(), 'administrator', 'Administrator', 'Everything, including users, roles and tokens', CURRENT_TIMESTAMP),
  (gen_random_uuid(), 'editor', 'Editor', 'All content, publishing and media', CURRENT_TIMESTAMP),
  (gen_random_uuid(), 'author', 'Author', 'Creates content; edits and deletes only their own entries; does not publish', CURRENT_TIMESTAMP),
  (gen_random_uuid(), 'public', 'Public', 'What an anonymous request may do', CURRENT_TIMESTAMP);

INSERT INTO "permissions" ("id", "role_id", "subject", "action", "own_only")
SELECT gen_random_uuid(), r."id", p."subject", p."action", p."own_only"
FROM "roles" r
JOIN (VALUES
  ('administrator', '*', 'read', false),
  ('administrator', '*', 'create', false),
  ('administrator', '*', 'update', false),
  ('administrator', '*', 'delete', false),
  ('administrator', '*', 'publish', false),
  ('editor', 'content:*', 'read', false),
  ('editor', 'content:*', 'create', false),
  ('editor', 'content:*', 'update', false),
  ('editor', 'content:*', 'delete', false),
  ('editor', 'content:*', 'publish', false),
  ('editor', 'media', 'read', false),
  ('editor', 'media', 'create', false),
  ('editor', 'media', 'update', false),
  ('editor', 'media', 'delete', false),
  ('author', 'content:*', 'read', false),
  ('author', 'content:*', 'create', false),
  ('author', 'content:*', 'update', true),
  ('author', 'content:*', 'delete', true),
  ('author', 'media', 'read', false),
  ('author', 'media', 'create', false),
  ('author', 'media', 'update', true),
  ('author', 'media', 'delete', true)
) AS p("role_key", "subject", "action", "own_only") ON p."role_key" = r."key";

-- Users made before roles existed get the least powerful role that signs in.
UPDATE "users" SET "role_id" = (SELECT "id" FROM "roles" WHERE "key" = 'author');
ALTER TABLE "users" ALTER COLUMN "role_id" SET NOT NULL;

-- CreateIndex
CREATE INDEX "users_role_id_idx" ON "users"("role_id");

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "roles"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "permissions" ADD CONSTRAINT "permissions_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "roles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "roles"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
