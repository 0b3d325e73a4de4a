// Command web stands in for Cal.com's web app in calctl's end-to-end test:
// a static Go binary in a FROM scratch image (no registry is reachable, so
// no Node image can be pulled). Like Cal.com it reads DATABASE_URL and
// NEXTAUTH_SECRET from the environment calctl rendered, answers on $PORT,
// and "/" only succeeds when the database answers. `web -health` is its
// HEALTHCHECK and `web migrate` stands in for `prisma migrate deploy`,
// recording a finished row in _prisma_migrations as Prisma does.
package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "-health":
			resp, err := http.Get("http://127.0.0.1:" + port + "/healthz")
			if err != nil || resp.StatusCode != 200 {
				os.Exit(1)
			}
			os.Exit(0)
		case "migrate":
			if err := migrate(); err != nil {
				fmt.Fprintln(os.Stderr, "migrate:", err)
				os.Exit(1)
			}
			fmt.Println("1 migration applied: 20210605225044_init")
			return
		}
	}
	if len(os.Getenv("CALENDSO_ENCRYPTION_KEY")) != 32 || os.Getenv("NEXTAUTH_SECRET") == "" {
		fmt.Fprintln(os.Stderr, "CALENDSO_ENCRYPTION_KEY must be 32 characters and NEXTAUTH_SECRET set")
		os.Exit(1)
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		conn, err := connect(ctx, os.Getenv("DATABASE_URL"))
		if err != nil {
			http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		defer conn.Close(context.Background())
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`).Scan(&n); err != nil {
			http.Error(w, "not migrated: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "calcom fixture: %d migrations, public url %s\n", n, os.Getenv("NEXT_PUBLIC_WEBAPP_URL"))
	})
	fmt.Println("listening on :" + port)
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func migrate() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := connect(ctx, os.Getenv("DATABASE_DIRECT_URL"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL,
		finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
		started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0);
		INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
		VALUES ('1', 'fixture', now(), '20210605225044_init', 1) ON CONFLICT (id) DO NOTHING`)
	return err
}

// connect reads a URL as Prisma's engine does (calcom-facts.md §9 "Prisma
// and TLS"): sslaccept=strict verifies the server against the CA file in
// sslcert (pgx: verify-full with that root), any other sslaccept does not
// verify; both are Prisma's own parameters, never sent to the server.
func connect(ctx context.Context, raw string) (*pgx.Conn, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL")
	}
	q := u.Query()
	if a := q.Get("sslaccept"); a != "" && a != "accept_invalid_certs" && q.Get("sslcert") != "" && q.Get("sslkey") == "" {
		q.Set("sslmode", "verify-full")
		q.Set("sslrootcert", q.Get("sslcert"))
	}
	q.Del("sslaccept")
	if q.Get("sslkey") == "" {
		q.Del("sslcert")
	}
	u.RawQuery = q.Encode()
	return pgx.Connect(ctx, u.String())
}
