package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calctl/calctl/backup/history"
	"github.com/calctl/calctl/internal/dotenv"
	"github.com/calctl/calctl/internal/testenv"
)

// calcomSchema is a small stand-in for Cal.com's schema with the shapes
// that matter to a dump and restore: a quoted CamelCase table, a Postgres
// enum with lowercase values, JSON, arrays, sequences, a foreign key, an
// index, and Prisma's migration table (calcom-facts.md §2).
var calcomSchema = []string{
	`CREATE TYPE "BookingStatus" AS ENUM ('cancelled','accepted','rejected','pending','awaiting_host')`,
	`CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE NOT NULL, created timestamp(3) DEFAULT now(), metadata jsonb)`,
	`CREATE TABLE "Booking" (id serial PRIMARY KEY, uid text UNIQUE NOT NULL, "userId" int REFERENCES users(id) ON DELETE CASCADE,
		"startTime" timestamp(3) NOT NULL, "endTime" timestamp(3) NOT NULL, "createdAt" timestamp(3) DEFAULT now(),
		status "BookingStatus" DEFAULT 'accepted', responses jsonb, "scheduledJobs" text[], blob bytea)`,
	`CREATE INDEX "Booking_status_idx" ON "Booking"(status)`,
	`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
		migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 0)`,
}

func seedStatements(users, bookings int) []string {
	return append(append([]string{}, calcomSchema...),
		fmt.Sprintf(`INSERT INTO users(email, metadata) SELECT 'u'||g||'@example.com', jsonb_build_object('n', g) FROM generate_series(1,%d) g`, users),
		fmt.Sprintf(`INSERT INTO "Booking"(uid, "userId", "startTime", "endTime", status, responses, "scheduledJobs", blob)
			SELECT md5(g::text), 1 + g %% %d, timestamp '2026-01-01' + g * interval '1 hour', timestamp '2026-01-01' + g * interval '90 minutes',
			(enum_range(NULL::"BookingStatus"))[1 + g %% 5], jsonb_build_object('name', 'Ä ö '||g, 'q', 'x"y'), ARRAY['a'||g, 'b'], decode(md5(g::text), 'hex')
			FROM generate_series(1,%d) g`, users, bookings),
		`INSERT INTO "_prisma_migrations"(id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('calctl-test-1', 'abc', now(), '20210101000000_init', 1) ON CONFLICT DO NOTHING`)
}

func seedCalcom(t testing.TB, pg *testenv.Postgres, db, role string, users, bookings int) {
	t.Helper()
	pg.Exec(t, db, append([]string{"SET ROLE " + role}, seedStatements(users, bookings)...)...)
}

// pgSeed writes the stand-in schema and rows through url.
func pgSeed(t testing.TB, url string, users, bookings int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range seedStatements(users, bookings) {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// tableSums returns, per table, its row count and an md5 over its rows in
// a stable order: equal sums mean equal content.
func tableSums(t testing.TB, ctx context.Context, url string) map[string]string {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tb := range tables {
		var n int64
		var sum string
		q := fmt.Sprintf(`SELECT count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM %s x`, pgx.Identifier{tb}.Sanitize())
		if err := conn.QueryRow(ctx, q).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		out[tb] = fmt.Sprintf("%d rows md5 %s", n, sum)
	}
	return out
}

func writeInstall(t testing.TB, dir string, env map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# test install\n")
	for _, k := range keys {
		line, err := dotenv.Assignment(k, env[k])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(line + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func envOf(t testing.TB, dir string) map[string]string {
	t.Helper()
	f, err := dotenv.Read(filepath.Join(dir, ".env"))
	if err != nil {
		t.Fatal(err)
	}
	return f.Map()
}

// TestBackupRestoreExternal: an install on an external PostgreSQL (the
// pm2/RDS shape; a real local cluster here): backup, verify into a local
// scratch cluster, restore into another install on another database.
// Content equal table by table, secrets equal, history recorded.
func TestBackupRestoreExternal(t *testing.T) {
	ctx := context.Background()
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{AuthMethod: "scram-sha-256", SuperPassword: "pg-super-secret-1"})
	pg.Exec(t, "", `CREATE ROLE calcom LOGIN PASSWORD 'calcom-db-pass-1'`, `CREATE ROLE calcom2 LOGIN PASSWORD 'calcom-db-pass-2'`)
	pg.CreateDatabase(t, "calendso", "calcom")
	pg.CreateDatabase(t, "calendso2", "calcom2")
	seedCalcom(t, pg, "calendso", "calcom", 50, 3000)

	base := t.TempDir()
	src, dst, out := filepath.Join(base, "src-install"), filepath.Join(base, "dst-install"), filepath.Join(base, "backups")
	srcURL := pg.URL("calcom", "calcom-db-pass-1", "calendso", "")
	dstURL := pg.URL("calcom2", "calcom-db-pass-2", "calendso2", "")
	writeInstall(t, src, map[string]string{"DATABASE_URL": srcURL, "NEXTAUTH_SECRET": "nextauth-secret-src-0123456789", "CALENDSO_ENCRYPTION_KEY": "0123456789abcdef0123456789abcdef", "NEXT_PUBLIC_WEBAPP_URL": "https://cal.example.com"})
	writeInstall(t, dst, map[string]string{"DATABASE_URL": dstURL, "NEXTAUTH_SECRET": "nextauth-secret-dst-9876543210", "CALENDSO_ENCRYPTION_KEY": "fedcba9876543210fedcba9876543210", "NEXT_PUBLIC_WEBAPP_URL": "https://new.example.com"})
	key := filepath.Join(base, "key.txt")
	code, rec, stderr := runCLI(t, nil, "backup", "keygen", "--out", key)
	if code != 0 {
		t.Fatalf("keygen: %d %s", code, stderr)
	}
	rec = strings.TrimSpace(rec)

	code, stdout, stderr := runCLI(t, nil, "backup", "--dir", src, "--out", out, "--recipient", rec, "--retain", "2")
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, stderr)
	}
	file := strings.TrimSpace(stdout)
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file %q: %v %v", file, st, err)
	}
	for _, s := range []string{"nextauth-secret-src", "calcom-db-pass-1", "0123456789abcdef0123456789abcdef"} {
		if strings.Contains(stdout+stderr, s) {
			t.Errorf("backup output leaks %q", s)
		}
		if b, _ := os.ReadFile(file); strings.Contains(string(b), s) {
			t.Errorf("backup file holds %q in clear", s)
		}
	}

	code, stdout, stderr = runCLI(t, nil, "backup", "verify", file, "--identity", key, "--scratch", "local")
	if code != 0 || !strings.HasPrefix(stdout, "OK ") {
		t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// restore without --yes and without a terminal: refused, nothing changed
	code, _, stderr = runCLI(t, nil, "restore", file, "--dir", dst, "--identity", key)
	if code == 0 || !strings.Contains(stderr, "--yes") {
		t.Errorf("restore without --yes: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr = runCLI(t, nil, "restore", file, "--dir", dst, "--identity", key, "--yes")
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{".env NEXTAUTH_SECRET: this install sha256:", ".env CALENDSO_ENCRYPTION_KEY"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("restore output lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stdout+stderr, "nextauth-secret") {
		t.Errorf("restore output leaks a secret:\n%s", stderr)
	}
	want := tableSums(t, ctx, srcURL)
	got := tableSums(t, ctx, dstURL)
	if len(want) != 3 || fmt.Sprint(want) != fmt.Sprint(got) {
		t.Errorf("restored content differs:\nwant %v\ngot  %v", want, got)
	}
	se, de := envOf(t, src), envOf(t, dst)
	for _, k := range []string{"NEXTAUTH_SECRET", "CALENDSO_ENCRYPTION_KEY"} {
		if se[k] != de[k] {
			t.Errorf("%s not restored", k)
		}
	}
	if de["DATABASE_URL"] != dstURL || de["NEXT_PUBLIC_WEBAPP_URL"] != "https://new.example.com" {
		t.Errorf("restore replaced the target's own settings")
	}

	// --retain 2: a third backup prunes the first
	time.Sleep(1100 * time.Millisecond)
	runCLI(t, nil, "backup", "--dir", src, "--out", out, "--recipient", rec, "--retain", "2")
	time.Sleep(1100 * time.Millisecond)
	code, stdout, stderr = runCLI(t, nil, "backup", "--dir", src, "--out", out, "--recipient", rec, "--retain", "2", "-o", "json")
	var res struct {
		File   string
		Pruned []string
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || len(res.Pruned) != 1 || res.Pruned[0] != file {
		t.Errorf("retain: exit %d %+v\n%s", code, res, stderr)
	}
	ev, _ := history.Read(src)
	kinds := map[string]int{}
	for _, e := range ev {
		kinds[e.Kind+" "+e.Result]++
	}
	if kinds["backup ok"] != 3 || kinds["verify ok"] != 1 {
		t.Errorf("source history %v", kinds)
	}
	if ev, _ := history.Read(dst); len(ev) != 1 || ev[0].Kind != "restore" || ev[0].Result != "ok" {
		t.Errorf("target history %+v", ev)
	}
}
