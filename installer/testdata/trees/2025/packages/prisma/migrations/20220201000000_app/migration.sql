-- Fixture migration: an App table the app store seed fills.
CREATE TABLE "App" (
    "slug" TEXT NOT NULL,
    "dirName" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "App_pkey" PRIMARY KEY ("slug")
);
