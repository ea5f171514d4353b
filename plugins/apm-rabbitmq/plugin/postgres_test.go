package plugin

import (
	"context"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	must.Eq(t, maxQueryTimeout, statementTimeout(context.Background()))

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
