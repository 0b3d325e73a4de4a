// Fixture: the check of cal.com@00a8d02:apps/web/next.config.js that matters
// to a build (the stand-in `next build` enforces the same).
require("dotenv").config({ path: "../../.env" });
if (!process.env.NEXTAUTH_SECRET) throw new Error("Please set NEXTAUTH_SECRET");
if (!process.env.CALENDSO_ENCRYPTION_KEY) throw new Error("Please set CALENDSO_ENCRYPTION_KEY");
module.exports = {};
