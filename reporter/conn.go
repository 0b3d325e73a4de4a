package reporter

import (
	"context"

	"github.com/calctl/calctl/internal/database"
	"github.com/jackc/pgx/v5"
)

// AppName is the application_name of calctl's counting sessions.
const AppName = "calctl-report"

// Connect opens one connection to Cal.com's database through
// internal/database (Cal.com/Prisma URL forms, TLS, password-free errors).
func Connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	return database.Connect(ctx, dsn, database.Options{AppName: AppName})
}
