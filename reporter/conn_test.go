package reporter

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestConnConfig(t *testing.T) {
	tests := []struct {
		name, dsn  string
		searchPath string
		simple     bool
		wantErr    bool
	}{
		{"plain", "postgresql://u:p@db:5432/calendso", "", false, false},
		{"prisma schema and pool params", "postgresql://u:p@db:5432/calendso?schema=cal&connection_limit=5&pool_timeout=10&sslmode=disable", "cal", false, false},
		{"pgbouncer", "postgresql://u:p@pooler:6432/calendso?pgbouncer=true&sslmode=disable", "", true, false},
		{"keyword form", "host=db user=u password=p dbname=calendso sslmode=disable", "", false, false},
		{"garbage", "postgresql://u:s3cret@db:notaport/x", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConnConfig(tt.dsn)
			if tt.wantErr {
				if err == nil || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("err = %v, want an error without the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.RuntimeParams["search_path"] != tt.searchPath || (c.DefaultQueryExecMode == pgx.QueryExecModeSimpleProtocol) != tt.simple {
				t.Fatalf("search_path %q simple %v", c.RuntimeParams["search_path"], c.DefaultQueryExecMode == pgx.QueryExecModeSimpleProtocol)
			}
			for _, k := range []string{"schema", "connection_limit", "pool_timeout", "pgbouncer"} {
				if _, ok := c.RuntimeParams[k]; ok {
					t.Errorf("Prisma parameter %s passed to the server", k)
				}
			}
		})
	}
}
