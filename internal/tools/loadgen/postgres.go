package loadgen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresSink inserts request rows with COPY, the fastest way to load many
// rows: a compressed day writes tens of thousands of rows per second.
type PostgresSink struct {
	pool    *pgxpool.Pool
	table   pgx.Identifier
	columns []string
	timeout time.Duration
}

// TableSpec names the requests table and its columns. ModelColumn may be
// empty when the table has no per-model column.
type TableSpec struct {
	Table       string
	TimeColumn  string
	ModelColumn string
}

// DefaultTable is the table of scripts/schema.sql.
var DefaultTable = TableSpec{Table: "api_requests", TimeColumn: "created_at", ModelColumn: "model"}

// NewPostgresSink connects a small pool. The DSN never appears in errors.
func NewPostgresSink(ctx context.Context, dsn string, spec TableSpec) (*PostgresSink, error) {
	if spec.Table == "" || spec.TimeColumn == "" {
		return nil, fmt.Errorf("requests table %q and time column %q must both be set", spec.Table, spec.TimeColumn)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("parse PostgreSQL DSN: invalid (value not shown: it may hold a password)")
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	cols := []string{spec.TimeColumn}
	if spec.ModelColumn != "" {
		cols = append(cols, spec.ModelColumn)
	}
	return &PostgresSink{pool: pool, table: pgx.Identifier{spec.Table}, columns: cols, timeout: 30 * time.Second}, nil
}

// InsertRequests implements RequestSink.
func (s *PostgresSink) InsertRequests(ctx context.Context, rows []Request) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	withModel := len(s.columns) == 2
	src := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		if withModel {
			return []any{rows[i].At, rows[i].Model}, nil
		}
		return []any{rows[i].At}, nil
	})
	n, err := s.pool.CopyFrom(ctx, s.table, s.columns, src)
	if err != nil {
		return fmt.Errorf("copy into %s: %w", s.table.Sanitize(), err)
	}
	if n != int64(len(rows)) {
		return fmt.Errorf("copy into %s: %d of %d rows written", s.table.Sanitize(), n, len(rows))
	}
	return nil
}

// Close releases the pool.
func (s *PostgresSink) Close() { s.pool.Close() }
