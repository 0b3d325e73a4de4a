// Command failmigrate stands in for a Cal.com release whose Prisma
// migration fails halfway, for TestUpgradeEndToEnd: `failmigrate migrate`
// applies part of a migration (a new table) and leaves the row Prisma
// leaves for a failed migration in _prisma_migrations (finished_at NULL;
// P3009 on the next deploy, calcom-facts.md §7 row 9), then exits 1. Any
// other invocation runs the stand-in web app (/web-app) unchanged.
package main

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "migrate:", err)
			os.Exit(1)
		}
		defer conn.Close(ctx)
		for _, q := range []string{
			`CREATE TABLE "NewFeature" (id serial PRIMARY KEY, note text)`,
			`INSERT INTO "NewFeature"(note) VALUES ('half applied')`,
			`INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ('failed-1', 'x', '20991231000000_new_feature', now(), 0)`,
		} {
			if _, err := conn.Exec(ctx, q); err != nil {
				fmt.Fprintln(os.Stderr, "migrate:", err)
				os.Exit(1)
			}
		}
		fmt.Fprintln(os.Stderr, "Error: P3018 A migration failed to apply: 20991231000000_new_feature")
		os.Exit(1)
	}
	args := append([]string{"/web-app"}, os.Args[1:]...)
	if err := syscall.Exec("/web-app", args, os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
