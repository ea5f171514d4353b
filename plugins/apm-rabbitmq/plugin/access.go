package plugin

import (
	"errors"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Who may run what against PostgreSQL. The agent v0.5.0 reads scaling
// policies from Nomad jobs, so whoever may submit a job writes the queries
// this plugin runs, as its own database role. The operator, who writes the
// agent's configuration, decides what those queries may be: named SQL
// (sql.<name>), inline SQL (allow_inline_sql) and the columns a
// requests_per_minute filter may test (filter_columns).
const (
	configKeyAllowInlineSQL = "allow_inline_sql"
	configKeyFilterColumns  = "filter_columns"
	// configKeyNamedSQLPrefix starts the keys that hold named queries:
	// sql.<name> is run by the query postgres:named:<name>.
	configKeyNamedSQLPrefix = "sql."
)

// queryName is the syntax of a named query's name, in its config key and in
// postgres:named:<name>. It is narrow on purpose: a name is written in an
// HCL map key and in a policy, and must read the same in both.
var queryName = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// queryNameSyntax describes queryName in error messages.
const queryNameSyntax = "1 to 64 of a-z, 0-9, _ and -"

// sqlAccess is what the operator allows policies to run.
type sqlAccess struct {
	allowInlineSQL bool
	filterColumns  []string          // columns a requests_per_minute filter may test
	namedSQL       map[string]string // name -> SQL, from the sql.<name> keys
}

// isNamedSQLKey reports whether k is in the sql.<name> family, valid name
// or not: such a key is never "unknown", it is a named query or a bad name.
func isNamedSQLKey(k string) bool { return strings.HasPrefix(k, configKeyNamedSQLPrefix) }

// parseAccess reads allow_inline_sql, filter_columns and the sql.<name>
// keys. No error quotes a value: a named query or a column list can hold
// anything, a password pasted into the wrong key included.
func parseAccess(p *pluginkit.Parser, m map[string]string) (sqlAccess, []error) {
	var (
		a    sqlAccess
		errs []error
		err  error
	)
	a.allowInlineSQL = p.Bool(configKeyAllowInlineSQL)
	if v, ok := m[configKeyFilterColumns]; ok {
		a.filterColumns, err = parseColumnList(configKeyFilterColumns, v)
		errs = append(errs, err)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		name, ok := strings.CutPrefix(k, configKeyNamedSQLPrefix)
		if !ok {
			continue
		}
		if !queryName.MatchString(name) {
			errs = append(errs, fmt.Errorf("config key %q: a named query's name must be %s", k, queryNameSyntax))
			continue
		}
		if err := checkWindowSQL(m[k]); err != nil {
			errs = append(errs, fmt.Errorf("%s: the SQL %w", k, err))
			continue
		}
		if a.namedSQL == nil {
			a.namedSQL = map[string]string{}
		}
		a.namedSQL[name] = strings.TrimSpace(m[k])
	}
	return a, errs
}

// parseColumnList reads a comma-separated list of column names. Each is
// quoted as an identifier when used, so only the shape is checked.
func parseColumnList(key, v string) ([]string, error) {
	var (
		cols []string
		errs []error
	)
	for i, c := range splitList(v) {
		if c == "" || len(c) > maxIdentifierLen || strings.ContainsRune(c, 0) {
			errs = append(errs, fmt.Errorf("%s element %d %s: want a column name of 1 to %d bytes", key, i+1, pluginkit.Quote(c), maxIdentifierLen))
			continue
		}
		cols = append(cols, c)
	}
	return cols, errors.Join(errs...)
}

// admit applies the operator's rules to a parsed query and returns it ready
// to run: a named query gets its SQL. Refusals name the config key that
// would allow the query, never a config value.
func (a sqlAccess) admit(q query) (query, error) {
	switch q.kind {
	case queryKindSQL:
		if !a.allowInlineSQL {
			return query{}, fmt.Errorf("inline SQL is refused: a policy's SQL would run as this plugin's database role, and policies "+
				"come from whoever may submit a Nomad job; define the query as %s<name> in the agent's apm config and use "+
				"postgres:named:<name>, or set %s = \"true\" if only trusted people write policies",
				configKeyNamedSQLPrefix, configKeyAllowInlineSQL)
		}
	case queryKindNamed:
		sql, ok := a.namedSQL[q.name]
		if !ok {
			return query{}, fmt.Errorf("no named query %q: the agent's apm config has no key %s%s (it defines %s)",
				q.name, configKeyNamedSQLPrefix, q.name, a.namedKeys())
		}
		q.sql = sql
	case queryKindRequestsPerMin:
		if q.filterColumn != "" && !slices.Contains(a.filterColumns, q.filterColumn) {
			return query{}, fmt.Errorf("filter column %q is refused: it is not listed in %s in the agent's apm config",
				q.filterColumn, configKeyFilterColumns)
		}
	}
	return q, nil
}

// namedKeys lists the sql.<name> keys for an error message: keys, not
// their values.
func (a sqlAccess) namedKeys() string {
	if len(a.namedSQL) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(a.namedSQL))
	for _, name := range slices.Sorted(maps.Keys(a.namedSQL)) {
		keys = append(keys, configKeyNamedSQLPrefix+name)
	}
	return strings.Join(keys, ", ")
}
