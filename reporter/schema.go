package reporter

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrNotCalcom means the database does not hold Cal.com's "Booking" table.
var ErrNotCalcom = errors.New("not a Cal.com database")

// requiredColumns are the "Booking" columns counting relies on.
var requiredColumns = []string{"id", "createdAt", "status", "fromReschedule"}

// BookingSchema is what Detect learned about the "Booking" table.
type BookingSchema struct {
	// Table is the schema-qualified table name, e.g. public."Booking".
	Table string
	// Columns maps column name to its SQL type.
	Columns map[string]string
	// Statuses are the labels of the status enum, in enum order (nil when
	// status is not an enum).
	Statuses []string
	// CreatedAtIndexed reports whether an index leads with "createdAt".
	CreatedAtIndexed bool
}

// Querier is what Detect and Counter need from a connection or transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Detect checks that the database is Cal.com's: table "Booking" on the
// search_path with columns id, "createdAt", status and "fromReschedule". Any
// other database is refused with an error wrapping ErrNotCalcom.
func Detect(ctx context.Context, q Querier) (BookingSchema, error) {
	var db, path string
	if err := q.QueryRow(ctx, `SELECT current_database(), array_to_string(current_schemas(false), ',')`).Scan(&db, &path); err != nil {
		return BookingSchema{}, fmt.Errorf("read database name: %w", err)
	}
	rows, err := q.Query(ctx, `
SELECT n.nspname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.oid = to_regclass('"Booking"')`)
	if err != nil {
		return BookingSchema{}, fmt.Errorf("read \"Booking\" columns: %w", err)
	}
	s := BookingSchema{Columns: map[string]string{}}
	var nsp string
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&nsp, &col, &typ); err != nil {
			return BookingSchema{}, fmt.Errorf("read \"Booking\" columns: %w", err)
		}
		s.Columns[col] = typ
	}
	if err := rows.Err(); err != nil {
		return BookingSchema{}, fmt.Errorf("read \"Booking\" columns: %w", err)
	}
	if len(s.Columns) == 0 {
		return BookingSchema{}, fmt.Errorf("%w: database %q has no table \"Booking\" on its search_path (%s); point --database-url (or DATABASE_URL in the config's env_file) at the database Cal.com uses, with ?schema=NAME if Cal.com's tables are not in public", ErrNotCalcom, db, path)
	}
	var missing []string
	for _, c := range requiredColumns {
		if _, ok := s.Columns[c]; !ok {
			missing = append(missing, `"`+c+`"`)
		}
	}
	if len(missing) > 0 {
		return BookingSchema{}, fmt.Errorf("%w: table \"Booking\" in database %q lacks column(s) %s; this is not Cal.com's booking table (or its migrations have not run: yarn workspace @calcom/prisma db-deploy)", ErrNotCalcom, db, strings.Join(missing, ", "))
	}
	if t := s.Columns["id"]; t != "integer" && t != "bigint" {
		return BookingSchema{}, fmt.Errorf("%w: \"Booking\".id is %s, expected an integer serial key", ErrNotCalcom, t)
	}
	if t := s.Columns["createdAt"]; !strings.HasPrefix(t, "timestamp") {
		return BookingSchema{}, fmt.Errorf("%w: \"Booking\".\"createdAt\" is %s, expected a timestamp", ErrNotCalcom, t)
	}
	s.Table = pgx.Identifier{nsp, "Booking"}.Sanitize()
	lrows, err := q.Query(ctx, `
SELECT e.enumlabel FROM pg_attribute a JOIN pg_enum e ON e.enumtypid = a.atttypid
WHERE a.attrelid = to_regclass('"Booking"') AND a.attname = 'status' ORDER BY e.enumsortorder`)
	if err != nil {
		return BookingSchema{}, fmt.Errorf("read BookingStatus labels: %w", err)
	}
	for lrows.Next() {
		var l string
		if err := lrows.Scan(&l); err != nil {
			return BookingSchema{}, fmt.Errorf("read BookingStatus labels: %w", err)
		}
		s.Statuses = append(s.Statuses, l)
	}
	if err := lrows.Err(); err != nil {
		return BookingSchema{}, fmt.Errorf("read BookingStatus labels: %w", err)
	}
	if err := q.QueryRow(ctx, `
SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE i.indrelid = to_regclass('"Booking"') AND a.attname = 'createdAt')`).Scan(&s.CreatedAtIndexed); err != nil {
		return BookingSchema{}, fmt.Errorf("read \"Booking\" indexes: %w", err)
	}
	return s, nil
}
