package installer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/calctl/calctl/internal/database"
	"github.com/calctl/calctl/internal/secret"
	"github.com/calctl/calctl/internal/testenv"
)

// TestPendingProblemsRealPostgres builds _prisma_migrations states on a real
// cluster: none (fresh), all applied, one failed (P3009), one half-applied.
func TestPendingProblemsRealPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	url := pg.SuperURL()
	ctx := context.Background()
	if n, bad, err := PendingProblems(ctx, url); err != nil || n != 0 || len(bad) != 0 {
		t.Fatalf("fresh database: %d %v %v", n, bad, err)
	}
	pg.Exec(t, "postgres", `CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL,
		finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
		started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)`,
		`INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES
		 ('1','c',now(),'20210605225044_init',1), ('2','c',now(),'20210609194839_add_booking_uid',1)`,
		`INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at) VALUES
		 ('3','c',NULL,'20220101000000_rolled_back','old failure', now())`)
	if n, bad, err := PendingProblems(ctx, url); err != nil || n != 2 || len(bad) != 0 {
		t.Fatalf("clean history: %d %v %v", n, bad, err)
	}
	pg.Exec(t, "postgres", `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, started_at) VALUES
		('4','c',NULL,'20220811234822_add_after_meeting_ends_trigger', E'Database error code: 42883\nfunction missing', now() - interval '1 hour'),
		('5','c',NULL,'20220901000000_half',NULL, now())`)
	_, bad, err := PendingProblems(ctx, url)
	if err != nil || len(bad) != 2 {
		t.Fatalf("bad history: %v %v", bad, err)
	}
	if !bad[0].Failed || bad[0].Name != "20220811234822_add_after_meeting_ends_trigger" || bad[0].FirstError != "Database error code: 42883" || bad[1].Failed {
		t.Errorf("rows: %+v", bad)
	}
	if _, _, err := PendingProblems(ctx, pg.URL("postgres", "wrong-pass-xyz", "nodb", "")); err == nil || strings.Contains(err.Error(), "wrong-pass-xyz") {
		t.Errorf("bad URL: %v", err)
	}
}

// TestPendingProblemsExplainsConnectFailures: the migrate step's guard
// says a failed connection in database.Explain's one line (what failed,
// what to do), as every command does, with no password; the step adds no
// second, vaguer remedy.
func TestPendingProblemsExplainsConnectFailures(t *testing.T) {
	db := testenv.StartDatabaseFailures(t)
	ctx := context.Background()
	for _, fd := range db.Failing {
		t.Run(fd.Slug, func(t *testing.T) {
			_, cerr := database.Connect(ctx, fd.URL, database.Options{})
			var ex *database.Explained
			if !errors.As(cerr, &ex) {
				t.Fatalf("Connect: %v; want an explained failure", cerr)
			}
			_, _, err := PendingProblems(ctx, fd.URL)
			if err == nil || err.Error() != "read _prisma_migrations: "+ex.Error() {
				t.Errorf("PendingProblems: %v\nwant read _prisma_migrations: %s", err, ex.Error())
			}
			if err != nil && (strings.Contains(err.Error(), db.Password) || strings.Contains(err.Error(), db.WrongPassword) || strings.Contains(err.Error(), "\n")) {
				t.Errorf("not one clean line: %q", err)
			}
			// the step: the same line, and no remedy of its own
			a := &Answers{}
			a.Database.Mode, a.Database.URLEnv = DBExternal, "DATABASE_URL"
			a.ApplyDefaults()
			_, serr := migrationState(ctx, &State{Answers: a, Env: EnvSecrets{DatabaseURL: secret.Secret(fd.URL)}})
			if serr == nil || !strings.Contains(serr.Error(), ex.What) || RemedyOf(serr) != "" {
				t.Errorf("migrate step: %v (remedy %q)\nwant %s and no remedy", serr, RemedyOf(serr), ex.Error())
			}
		})
	}
}
