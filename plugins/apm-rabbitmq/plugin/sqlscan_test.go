package plugin

import (
	"slices"
	"strings"
	"testing"

	"github.com/shoenig/test/must"
)

func TestScanSQL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		sql  string
		want sqlShape
	}{
		{"a plain select", "SELECT $1::timestamptz, count(*) FROM t WHERE at < $2",
			sqlShape{firstWord: "SELECT", params: []int{1, 2}, statements: 1}},
		{"key words in any case, after comments and parentheses", "-- per minute\n/* outer /* nested */ */ ((select $2, $1))",
			sqlShape{firstWord: "SELECT", params: []int{1, 2}, statements: 1}},
		{"a placeholder used twice counts once", "WITH w AS (SELECT $1) SELECT $1, $2 FROM w",
			sqlShape{firstWord: "WITH", params: []int{1, 2}, statements: 1}},
		{"$ inside an identifier is not a placeholder", "SELECT a$1, $2 FROM t",
			sqlShape{firstWord: "SELECT", params: []int{2}, statements: 1}},
		{"placeholders inside strings, identifiers and comments do not count",
			`SELECT '$1', "$2", E'\'$3', $$ $4 $$, $tag$ $5; $tag$ -- $6` + "\n/* $7 */ FROM t",
			sqlShape{firstWord: "SELECT", statements: 1}},
		{"a doubled quote stays inside the string", "SELECT 'it''s $1', $2",
			sqlShape{firstWord: "SELECT", params: []int{2}, statements: 1}},
		{"a trailing semicolon and empty statements add none", "SELECT $1, $2 ; ; -- done",
			sqlShape{firstWord: "SELECT", params: []int{1, 2}, statements: 1}},
		{"a second statement counts", "SELECT $1, $2; DELETE FROM t",
			sqlShape{firstWord: "SELECT", params: []int{1, 2}, statements: 2}},
		{"a semicolon in a string does not end the statement", "SELECT ';', $1, $2",
			sqlShape{firstWord: "SELECT", params: []int{1, 2}, statements: 1}},
		{"placeholders come sorted, high numbers too", "VALUES ($10, $2, $1)",
			sqlShape{firstWord: "VALUES", params: []int{1, 2, 10}, statements: 1}},
		{"a word after a symbol is not the first word", "+ SELECT 1",
			sqlShape{firstWord: "+", statements: 1}},
		{"nothing", " \n\t", sqlShape{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scanSQL(tc.sql)
			must.NoError(t, err)
			must.Eq(t, tc.want, got)
		})
	}
}

func TestScanSQLRefusesWhatIsLeftOpen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		sql     string
		wantErr string
	}{
		{"a string", "SELECT 'abc, $1, $2", "a string constant is not closed"},
		{"an escape string ending in an escaped quote", `SELECT E'abc\', $1, $2`, "a string constant is not closed"},
		{"a quoted identifier", `SELECT "abc, $1, $2`, "a quoted identifier is not closed"},
		{"a block comment", "SELECT $1, $2 /* note", "a /* comment is not closed"},
		{"a nested block comment", "SELECT $1, $2 /* a /* b */", "a /* comment is not closed"},
		{"a dollar-quoted string", "SELECT $body$ abc $1, $2", "a dollar-quoted string constant is not closed"},
		{"a placeholder number PostgreSQL would not take", "SELECT $99999999999999999999", "a placeholder number is out of range"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scanSQL(tc.sql)
			must.EqError(t, err, tc.wantErr)
		})
	}
}

// FuzzScanSQL checks that the scanner never panics, that what it reports is
// well formed, and that checkWindowSQL never repeats any part of the SQL
// longer than the fixed words of its own messages.
func FuzzScanSQL(f *testing.F) {
	for _, seed := range []string{
		validNamedSQL, "SELECT $1, $2; DELETE FROM t", "SELECT 'a''b', E'\\'', $$x$$, $t$y$t$", "/* /* */ */ WITH x AS (VALUES ($1)) TABLE x",
		"SELECT a$1, $2", "$", "$$", "'", `"`, "--", "/*", "$1$2", "E'", "SELECT $0",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		shape, err := scanSQL(sql)
		if err == nil {
			must.True(t, slices.IsSorted(shape.params))
			must.Eq(t, len(shape.params), len(slices.Compact(slices.Clone(shape.params))))
			must.True(t, shape.statements >= 0 && shape.statements <= strings.Count(sql, ";")+1)
		}
		if err := checkWindowSQL(sql); err != nil && len(strings.TrimSpace(sql)) > 12 {
			must.StrNotContains(t, err.Error(), strings.TrimSpace(sql))
		}
	})
}
