package testenv

import (
	"context"
	"testing"

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
