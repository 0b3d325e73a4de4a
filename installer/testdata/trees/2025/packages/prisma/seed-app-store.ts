// Fixture: stands for packages/prisma/seed-app-store.ts, which upserts every
// app of packages/app-store into "App". The stand-in ts-node does that for
// the apps listed here.
export const apps = ["googlecalendar", "caldavcalendar", "dailyvideo"];
