package plugin

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shoenig/test/must"
)

func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	must.Eq(t, maxStatementTimeout, statementTimeout(context.Background()))

	// A deadline already past must not give 0, which PostgreSQL reads as
	// "no timeout".
	spent, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	must.Eq(t, minStatementTimeout, statementTimeout(spent))

	// 80% of what is left: at most 8s of 10s, and only less by the time
	// this line takes to run.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := statementTimeout(ctx)
	must.LessEq(t, 8*time.Second, got)
	must.Greater(t, 7*time.Second, got)
}

// TestCountErrorNamesTheKeysInsteadOfTheirValues: PostgreSQL's messages
// about the per-minute count quote the table and time column, which come
// from the config and are never shown; a missing filter column comes from
// the policy and keeps PostgreSQL's words.
func TestCountErrorNamesTheKeysInsteadOfTheirValues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    *pgconn.PgError
		filter string
		want   string
	}{
		{"a missing table", &pgconn.PgError{Code: "42P01", Message: `relation "hunter2" does not exist`}, "",
			"postgresql error 42P01: the table named by requests_table does not exist, or is not on the role's search_path"},
		{"no right to read the table", &pgconn.PgError{Code: "42501", Message: `permission denied for table hunter2`}, "",
			"postgresql error 42501: permission denied: grant the plugin's role SELECT on the table named by requests_table"},
		{"a missing time column", &pgconn.PgError{Code: "42703", Message: `column "hunter2" does not exist`}, "model",
			"postgresql error 42703: the column named by requests_time_column does not exist in the table named by requests_table"},
		{"a missing filter column keeps the server's words", &pgconn.PgError{Code: "42703", Message: `column "model" does not exist`}, "model",
			`column "model" does not exist`},
		{"any other error is left to translate", &pgconn.PgError{Code: "22P02", Message: `invalid input syntax for type integer: "x"`}, "status",
			`invalid input syntax for type integer: "x"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := countError(tc.err, tc.filter)
			must.StrContains(t, got.Error(), tc.want)
			r := &pgRates{addr: "10.0.0.20:5432"}
			must.StrNotContains(t, r.translate(got, time.Second).Error(), "hunter2")
		})
	}
	must.NoError(t, countError(nil, ""))
}
