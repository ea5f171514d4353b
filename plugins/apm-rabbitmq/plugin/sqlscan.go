package plugin

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// This file checks an operator's named query (sql.<name>) at SetConfig,
// without PostgreSQL: SetConfig must not need the server, and a named query
// that could never run should stop the agent at start rather than fail
// every evaluation. The check is lexical: it knows PostgreSQL's literals,
// quoted identifiers, comments and placeholders, not its grammar. Whether
// the tables and columns exist, the types, and the two result columns are
// left to the server, which answers at the first query.

// windowStatements are the words a named query may start with: the forms
// of a query that return rows. A write (INSERT ... RETURNING) would be
// refused by the READ ONLY transaction anyway; refusing it here tells the
// operator at start.
var windowStatements = []string{"SELECT", "WITH", "VALUES", "TABLE"}

// sqlShape is what a lexical scan tells of a statement.
type sqlShape struct {
	firstWord  string // the first word, upper case, after comments and "("
	params     []int  // the distinct $n placeholders, ascending
	statements int    // non-empty statements, separated by ";"
}

// scanSQL scans s as PostgreSQL would tokenise it: string constants
// ('...', E'...' with backslash escapes, $tag$...$tag$), quoted identifiers,
// -- and nested /* */ comments are skipped, so a "$1" or ";" inside them
// does not count. It fails only on a literal, identifier or comment left
// open. Its errors never quote s.
func scanSQL(s string) (sqlShape, error) {
	var (
		shape     sqlShape
		tokens    int    // tokens in the current statement
		beforeAny = true // no token but "(" seen yet
	)
	token := func(word string) {
		if beforeAny && word != "(" {
			shape.firstWord = strings.ToUpper(word)
			beforeAny = false
		}
		tokens++
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '-' && strings.HasPrefix(s[i:], "--"):
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return shape.finish(tokens), nil
			}
			i += end + 1
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			n, err := skipBlockComment(s[i:])
			if err != nil {
				return sqlShape{}, err
			}
			i += n
		case c == '\'':
			n, err := skipQuoted(s[i:], '\'', false)
			if err != nil {
				return sqlShape{}, errors.New("a string constant is not closed")
			}
			token("'")
			i += n
		case c == '"':
			n, err := skipQuoted(s[i:], '"', false)
			if err != nil {
				return sqlShape{}, errors.New("a quoted identifier is not closed")
			}
			token(`"`)
			i += n
		case c == '$' && i+1 < len(s) && isDigit(s[i+1]):
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			n, err := strconv.Atoi(s[i+1 : j])
			if err != nil || n > 65535 {
				return sqlShape{}, errors.New("a placeholder number is out of range")
			}
			if !slices.Contains(shape.params, n) {
				shape.params = append(shape.params, n)
			}
			token("$")
			i = j
		case c == '$':
			n, err := skipDollarQuoted(s[i:])
			if err != nil {
				return sqlShape{}, err
			}
			token("$")
			i += max(n, 1)
		case c == ';':
			if tokens > 0 {
				shape.statements++
			}
			tokens = 0
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdentPart(s[j]) {
				j++
			}
			word := s[i:j]
			i = j
			if strings.EqualFold(word, "e") && i < len(s) && s[i] == '\'' {
				// E'...': an escape string, where \' does not close it.
				n, err := skipQuoted(s[i:], '\'', true)
				if err != nil {
					return sqlShape{}, errors.New("a string constant is not closed")
				}
				i += n
			}
			token(word)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		default:
			token(string(c))
			i++
		}
	}
	return shape.finish(tokens), nil
}

// finish counts the last statement and sorts the placeholders.
func (s sqlShape) finish(tokens int) sqlShape {
	if tokens > 0 {
		s.statements++
	}
	slices.Sort(s.params)
	return s
}

// skipQuoted returns the length of the quoted run at the start of s,
// closing quotes included. A doubled quote stands for one; with
// backslashes, a backslash escapes the next byte.
func skipQuoted(s string, quote byte, backslashes bool) (int, error) {
	for i := 1; i < len(s); i++ {
		switch {
		case backslashes && s[i] == '\\':
			i++
		case s[i] == quote && i+1 < len(s) && s[i+1] == quote:
			i++
		case s[i] == quote:
			return i + 1, nil
		}
	}
	return 0, errors.New("not closed")
}

// skipBlockComment returns the length of the /* */ comment at the start of
// s. PostgreSQL nests them.
func skipBlockComment(s string) (int, error) {
	depth := 0
	for i := 0; i+1 < len(s); i++ {
		switch {
		case s[i] == '/' && s[i+1] == '*':
			depth++
			i++
		case s[i] == '*' && s[i+1] == '/':
			depth--
			i++
			if depth == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, errors.New("a /* comment is not closed")
}

// skipDollarQuoted returns the length of the $tag$...$tag$ constant at the
// start of s, or 0 when s starts with a "$" that opens none (PostgreSQL
// then reports the syntax error).
func skipDollarQuoted(s string) (int, error) {
	j := 1
	if j < len(s) && isIdentStart(s[j]) {
		for j++; j < len(s) && isIdentPart(s[j]) && s[j] != '$'; j++ {
		}
	}
	if j >= len(s) || s[j] != '$' {
		return 0, nil
	}
	delim := s[:j+1]
	end := strings.Index(s[len(delim):], delim)
	if end < 0 {
		return 0, errors.New("a dollar-quoted string constant is not closed")
	}
	return len(delim) + end + len(delim), nil
}

// isIdentStart reports whether c may start an identifier or key word.
// Bytes of multi-byte UTF-8 letters count, as they do for PostgreSQL.
func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

// isIdentPart reports whether c may continue an identifier: "$" may, so
// "a$1" is one identifier and not a placeholder.
func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// checkWindowSQL says what is wrong with a named query's SQL, or nil: it
// must be one statement that returns rows, using $1 (window start) and $2
// (window end) and no other placeholder, since the plugin binds exactly
// those two. Its errors describe the problem and never quote the SQL: it is
// a config value, and a password pasted into the wrong key must not reach
// the agent's log.
func checkWindowSQL(sql string) error {
	if strings.TrimSpace(sql) == "" {
		return errors.New("empty")
	}
	shape, err := scanSQL(sql)
	switch {
	case err != nil:
		return err
	case shape.statements == 0:
		return errors.New("holds only comments")
	case shape.statements > 1:
		return errors.New("holds more than one statement")
	case !slices.Contains(windowStatements, shape.firstWord):
		return fmt.Errorf("must be a query that returns rows, starting with %s", strings.Join(windowStatements, ", "))
	case !slices.Equal(shape.params, []int{1, 2}):
		for _, n := range shape.params {
			if n < 1 || n > 2 {
				return fmt.Errorf("uses the placeholder $%d, but only $1 (window start) and $2 (window end) are bound", n)
			}
		}
		return errors.New("must use both $1 (window start) and $2 (window end)")
	}
	return nil
}
