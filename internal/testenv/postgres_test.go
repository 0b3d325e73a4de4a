package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestStartPostgres(t *testing.T) {
	pg := StartPostgres(t, PostgresOptions{})
	pg.Exec(t, "", "CREATE ROLE app LOGIN PASSWORD 'pw'")
	pg.CreateDatabase(t, "cal", "app")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.URL("app", "pw", "cal", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version_num").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if len(v) < 6 || v[:2] != "15" {
		t.Fatalf("server_version_num = %q, want 15xxxx", v)
	}
}

func TestStartStandby(t *testing.T) {
	pg := StartPostgres(t, PostgresOptions{})
	pg.Exec(t, "", "CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)")
	sb := pg.StartStandby(t)
	pg.Exec(t, "", "INSERT INTO t VALUES (2)")
	sb.WaitReplay(t, pg, 30*time.Second)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, sb.SuperURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	var recovery bool
	if err := conn.QueryRow(ctx, "SELECT count(*), pg_is_in_recovery() FROM t").Scan(&n, &recovery); err != nil {
		t.Fatal(err)
	}
	if n != 2 || !recovery {
		t.Fatalf("standby sees %d rows, in recovery %v; want 2, true", n, recovery)
	}
}
