package loadgen

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// ApplySchema runs the SQL file at path (scripts/schema.sql: the requests
// table and its index) on the database. The file must be idempotent.
func ApplySchema(ctx context.Context, dsn, path string) error {
	sql, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL to apply %s: %w", path, err)
	}
	defer conn.Close(ctx)
	// Exec without arguments uses the simple protocol, so a file of several
	// statements runs as one batch.
	if _, err := conn.Exec(ctx, string(sql)); err != nil {
		return fmt.Errorf("apply %s: %w", path, err)
	}
	return nil
}
