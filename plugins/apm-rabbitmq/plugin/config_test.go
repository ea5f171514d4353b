package plugin

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(map[string]string{
		configKeyAMQPURLs:       "amqp://app:s3cret@10.0.0.1:5672/, amqps://10.0.0.2/prod",
		configKeyManagementURLs: "http://10.0.0.1:15672/",
		configKeyPostgresURL:    "postgres://app:s3cret@127.0.0.1:5432/api",
	})
	must.NoError(t, err)
	must.Eq(t, []amqpNode{
		{url: "amqp://app:s3cret@10.0.0.1:5672/", addr: "10.0.0.1:5672", vhost: "/"},
		{url: "amqps://10.0.0.2/prod", addr: "10.0.0.2:5671", tls: true, vhost: "prod"},
	}, c.amqpNodes)
	must.Eq(t, "/", c.defaultVhost())
	must.Eq(t, "http://10.0.0.1:15672", c.managementURLs[0].String())
	must.Eq(t, "app", c.managementUsername)
	must.Eq(t, "s3cret", c.managementPassword)
	must.Eq(t, int32(4), c.postgresMaxConns)
	must.Eq(t, pgx.Identifier{"api_requests"}, c.requestsTable)
	must.Eq(t, pgx.Identifier{"created_at"}, c.requestsTimeColumn)
	must.Eq(t, 30*time.Second, c.settleDelay)
	must.Eq(t, 5*time.Second, c.queryTimeout)
	must.Nil(t, c.tls.config)
}

func TestParseConfigExplicitValues(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(map[string]string{
		configKeyManagementURLs:     "https://mq.internal/rabbitmq",
		configKeyManagementUsername: "monitor",
		configKeyManagementPassword: "pw",
		configKeyPostgresURL:        "host=127.0.0.1 user=app dbname=api",
		configKeyPostgresMaxConns:   "8",
		configKeyRequestsTable:      "metrics.requests",
		configKeyRequestsTimeColumn: "at",
		configKeyQueryTimeout:       "750ms",
		configKeyTLSSkipVerify:      "true",
		configKeyTLSServerName:      "mq.internal",
	})
	must.NoError(t, err)
	must.Eq(t, "https://mq.internal/rabbitmq", c.managementURLs[0].String())
	must.Eq(t, "monitor", c.managementUsername)
	must.Eq(t, int32(8), c.postgresMaxConns)
	must.Eq(t, pgx.Identifier{"metrics", "requests"}, c.requestsTable)
	must.Eq(t, pgx.Identifier{"at"}, c.requestsTimeColumn)
	must.Eq(t, 750*time.Millisecond, c.queryTimeout)
	must.True(t, c.tls.config.InsecureSkipVerify)
	must.Eq(t, "mq.internal", c.tls.config.ServerName)
	must.Eq(t, "/", c.defaultVhost())
}

func TestParseConfigIgnoresWhatTheAgentAdds(t *testing.T) {
	t.Parallel()
	m := map[string]string{
		configKeyPostgresURL:             "postgres://127.0.0.1/api",
		"nomad_address":                  "http://127.0.0.1:4646",
		"nomad_token":                    "secret-token",
		"nomad_http-auth":                "user:pass",
		"nomad_skip-verify":              "true",
		"nomad_block-query-wait-time":    "5m0s",
		"nomad_config_inherit":           "true",
		"_nomad_autoscaler_grpc_timeout": "7.5s",
	}
	_, err := parseConfig(m)
	must.NoError(t, err)
	must.Eq(t, map[string]string{configKeyPostgresURL: "postgres://127.0.0.1/api"}, pluginkit.OwnKeys(m))
}

func TestParseConfigRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      map[string]string
		wantErr []string
	}{
		{"no source at all", map[string]string{}, []string{"no source configured"}},
		{"a misspelt key", map[string]string{configKeyPostgresURL: "postgres://h/db", "postgress_max_conns": "3"},
			[]string{`unknown key "postgress_max_conns"`}},
		{"a nomad-looking key the agent never sends", map[string]string{configKeyPostgresURL: "postgres://h/db", "nomad_adress": "x"},
			[]string{`unknown key "nomad_adress"`}},
		{"an http URL in amqp_urls", map[string]string{configKeyAMQPURLs: "amqp://h/,http://u:hunter2@h2/"},
			[]string{"amqp_urls element 2: want amqp://"}},
		{"an empty element in amqp_urls", map[string]string{configKeyAMQPURLs: "amqp://h/,,amqp://h2/"},
			[]string{"amqp_urls element 2: want amqp://"}},
		{"a management URL without scheme", map[string]string{configKeyManagementURLs: "127.0.0.1:15672", configKeyManagementUsername: "u"},
			[]string{"management_urls element 1: want http[s]://"}},
		{"management credentials without management_urls", map[string]string{configKeyAMQPURLs: "amqp://h/", configKeyManagementPassword: "x"},
			[]string{"management_password is set but management_urls is empty"}},
		{"management alone without a user", map[string]string{configKeyManagementURLs: "http://h:15672"},
			[]string{"management_username is required"}},
		{"a DSN that does not parse", map[string]string{configKeyPostgresURL: "postgres://u:hunter2@h:notaport/db"},
			[]string{"postgres_url: not a valid PostgreSQL"}},
		{"a DSN naming a CA file that does not exist, named by its parameter",
			map[string]string{configKeyPostgresURL: "postgres://u:hunter2@h/db?sslmode=verify-full&sslrootcert=/nonexistent/pg-ca.pem"},
			[]string{"postgres_url: cannot read the file named by sslrootcert: no such file or directory"}},
		{"a key=value DSN naming a client key that does not exist",
			map[string]string{configKeyPostgresURL: "host=h password=hunter2 sslmode=verify-full sslcert=/nonexistent/c.pem sslkey=/nonexistent/k.pem"},
			[]string{"postgres_url: cannot read the file named by sslcert or sslkey"}},
		{"postgres settings without postgres_url", map[string]string{configKeyAMQPURLs: "amqp://h/", configKeyRequestsTable: "t"},
			[]string{"requests_table is set but postgres_url is empty"}},
		{"SQL access settings without postgres_url",
			map[string]string{configKeyAMQPURLs: "amqp://h/", configKeyFilterColumns: "model", configKeyAllowInlineSQL: "false",
				configKeySettleDelay: "1m", "sql.errors": "SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL"},
			[]string{"filter_columns is set but postgres_url is empty", "allow_inline_sql is set but postgres_url is empty",
				"settle_delay is set but postgres_url is empty", "sql.errors is set but postgres_url is empty"}},
		{"a pool size of zero", map[string]string{configKeyPostgresURL: "postgres://h/db", configKeyPostgresMaxConns: "0"},
			[]string{`postgres_max_conns "0": must be between 1 and 64`}},
		{"a table with three parts", map[string]string{configKeyPostgresURL: "postgres://h/db", configKeyRequestsTable: "a.b.c"},
			[]string{`requests_table "a.b.c": want at most 2`}},
		{"an empty time column", map[string]string{configKeyPostgresURL: "postgres://h/db", configKeyRequestsTimeColumn: ""},
			[]string{`requests_time_column "": each dot-separated part`}},
		{"a timeout without unit", map[string]string{configKeyPostgresURL: "postgres://h/db", configKeyQueryTimeout: "5"},
			[]string{`query_timeout "5": not a duration such as 5m`}},
		{"a skip_verify that is not a bool", map[string]string{configKeyAMQPURLs: "amqps://h/", configKeyTLSSkipVerify: "yes please"},
			[]string{`tls_skip_verify "yes please": not true or false`}},
		{"a missing CA file", map[string]string{configKeyAMQPURLs: "amqps://h/", configKeyTLSCAFile: "/nonexistent/ca.pem"},
			[]string{"tls_ca_file: cannot read the file: no such file or directory"}},
		{"a client cert without its key", map[string]string{configKeyAMQPURLs: "amqps://h/", configKeyTLSCertFile: "/c.pem"},
			[]string{"tls_cert_file and tls_key_file must be set together"}},
		{"several problems at once", map[string]string{configKeyPostgresURL: "postgres://h/db", configKeyPostgresMaxConns: "x", configKeyQueryTimeout: "-1s", "colour": "red"},
			[]string{`unknown key "colour"`, `postgres_max_conns "x": not a whole number`, `query_timeout "-1s": must be between 100ms and 5m`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(tc.in)
			for _, want := range tc.wantErr {
				must.ErrorContains(t, err, want)
			}
			must.StrNotContains(t, err.Error(), "hunter2")
			must.StrNotContains(t, err.Error(), "nonexistent")
		})
	}
}

// validNamedSQL is a named query that passes the SetConfig check.
const validNamedSQL = `SELECT date_bin('1 minute', created_at, $1::timestamptz), count(*) FROM api_requests WHERE created_at >= $1 AND created_at < $2 GROUP BY 1`

func TestParseConfigReadsTheSQLAccessKeys(t *testing.T) {
	t.Parallel()
	pg := "postgres://h/db"
	cases := []struct {
		name string
		in   map[string]string
		want sqlAccess
	}{
		{"by default no inline SQL, no filter column and no named query", map[string]string{configKeyPostgresURL: pg}, sqlAccess{}},
		{"inline SQL allowed", map[string]string{configKeyPostgresURL: pg, configKeyAllowInlineSQL: "true"}, sqlAccess{allowInlineSQL: true}},
		{"inline SQL explicitly refused", map[string]string{configKeyPostgresURL: pg, configKeyAllowInlineSQL: "false"}, sqlAccess{}},
		{"filter columns, spaces trimmed", map[string]string{configKeyPostgresURL: pg, configKeyFilterColumns: " model, customer "},
			sqlAccess{filterColumns: []string{"model", "customer"}}},
		{"a filter column with any character, as it is quoted", map[string]string{configKeyPostgresURL: pg, configKeyFilterColumns: `Model Name,status" OR true --`},
			sqlAccess{filterColumns: []string{"Model Name", `status" OR true --`}}},
		{"an empty filter_columns lists none", map[string]string{configKeyPostgresURL: pg, configKeyFilterColumns: ""}, sqlAccess{}},
		{"named queries, by the name after sql., SQL trimmed",
			map[string]string{configKeyPostgresURL: pg, "sql.errors_5xx": "\n " + validNamedSQL + " \n", "sql.p-95": "WITH w AS (SELECT $1::timestamptz AS t) SELECT t, 1 FROM w WHERE $2::timestamptz > t"},
			sqlAccess{namedSQL: map[string]string{"errors_5xx": validNamedSQL, "p-95": "WITH w AS (SELECT $1::timestamptz AS t) SELECT t, 1 FROM w WHERE $2::timestamptz > t"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.in)
			must.NoError(t, err)
			must.Eq(t, tc.want, c.access)
		})
	}
}

func TestParseConfigReadsTheSettleDelay(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"no delay", "0s", 0},
		{"a read replica's lag", "2m", 2 * time.Minute},
		{"the longest", "10m", 10 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(map[string]string{configKeyPostgresURL: "postgres://h/db", configKeySettleDelay: tc.value})
			must.NoError(t, err)
			must.Eq(t, tc.want, c.settleDelay)
		})
	}
}

func TestParseConfigRefusesBadSQLAccessKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		key     string
		value   string
		wantErr string
	}{
		{"allow_inline_sql that is not a bool", configKeyAllowInlineSQL, "yes", "allow_inline_sql \"yes\": not true or false"},
		{"an empty element in filter_columns", configKeyFilterColumns, "model,,customer", `filter_columns element 2 "": want a column name of 1 to 63 bytes`},
		{"a filter column too long for PostgreSQL", configKeyFilterColumns, strings.Repeat("c", 64), `filter_columns element 1 "` + strings.Repeat("c", 64) + `": want a column name`},
		{"a negative settle_delay", configKeySettleDelay, "-1s", "settle_delay \"-1s\": must be between 0s and 10m"},
		{"a settle_delay over ten minutes", configKeySettleDelay, "11m", "settle_delay \"11m\": must be between 0s and 10m"},
		{"a settle_delay without unit", configKeySettleDelay, "30", "settle_delay \"30\": not a duration"},
		{"a named query's name in upper case", "sql.Errors", validNamedSQL, `config key "sql.Errors": a named query's name must be 1 to 64 of a-z, 0-9, _ and -`},
		{"a named query's name with a dot", "sql.errors.5xx", validNamedSQL, `config key "sql.errors.5xx": a named query's name must be`},
		{"a named query without a name", "sql.", validNamedSQL, `config key "sql.": a named query's name must be`},
		{"a named query's name too long", "sql." + strings.Repeat("n", 65), validNamedSQL, "a named query's name must be 1 to 64"},
		{"an empty named query", "sql.errors", "  ", "sql.errors: the SQL empty"},
		{"a named query of comments only", "sql.errors", "-- SELECT $1, $2", "sql.errors: the SQL holds only comments"},
		{"a named query that writes", "sql.errors", "DELETE FROM api_requests WHERE created_at BETWEEN $1 AND $2 RETURNING created_at, 1",
			"sql.errors: the SQL must be a query that returns rows, starting with SELECT, WITH, VALUES, TABLE"},
		{"a named query without the window end", "sql.errors", "SELECT $1::timestamptz, 1",
			"sql.errors: the SQL must use both $1 (window start) and $2 (window end)"},
		{"a named query whose $2 is only in a string", "sql.errors", "SELECT $1::timestamptz, length('$2')",
			"sql.errors: the SQL must use both $1"},
		{"a named query with a third placeholder", "sql.errors", "SELECT $1::timestamptz, $3::int WHERE $2::timestamptz IS NOT NULL",
			"sql.errors: the SQL uses the placeholder $3, but only $1 (window start) and $2 (window end) are bound"},
		{"two statements", "sql.errors", "SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL; DELETE FROM api_requests",
			"sql.errors: the SQL holds more than one statement"},
		{"a string left open", "sql.errors", "SELECT $1::timestamptz, 'x WHERE $2::timestamptz IS NOT NULL",
			"sql.errors: the SQL a string constant is not closed"},
		{"a password pasted into a named query's key", "sql.errors", "hunter2", "sql.errors: the SQL must be a query that returns rows"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(map[string]string{configKeyPostgresURL: "postgres://h/db", tc.key: tc.value})
			must.ErrorContains(t, err, tc.wantErr)
			// A named query's SQL is not repeated (a password pasted
			// into the key included); other keys name their value.
			if strings.HasPrefix(tc.key, configKeyNamedSQLPrefix) && len(tc.value) > 3 {
				must.StrNotContains(t, err.Error(), tc.value)
			}
		})
	}
}

// TestNoSecretIsEverEchoed puts a secret-looking value into every key,
// where it is of the wrong type or simply misplaced, and into unknown keys,
// and checks that it appears in no log line, in no error of the queries
// afterwards, and in no SetConfig error for a Secret key (a URL or DSN, a
// password) or an unknown one (a password in a misspelled key); other
// keys' errors name their value, as every key's error does.
func TestNoSecretIsEverEchoed(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-P@ssw0rd_Zq9"
	var logs strings.Builder
	p := New(hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace}))
	p.now = func() time.Time { return at(t, "10:05:40") }
	t.Cleanup(p.shutdown)
	// A configuration that works without any server: the queries fail at
	// the closed port or before they need one.
	base := map[string]string{
		configKeyAMQPURLs:       "amqp://app:pw@127.0.0.1:1/",
		configKeyManagementURLs: "http://127.0.0.1:1",
		configKeyPostgresURL:    "postgres://app:pw@127.0.0.1:1/api?sslmode=disable",
		configKeyQueryTimeout:   "200ms",
	}
	queries := []string{
		"rabbitmq:ready:q", "rabbitmq:depth:q", "postgres:requests_per_minute", "postgres:requests_per_minute:model=x",
		"postgres:named:errors", "postgres:sql:SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL",
	}
	keys := append(configTable.Names(), "sql.errors", "postgres_password", "sql.S3CRET")
	values := []string{secret, "amqp://u:" + secret + "@127.0.0.1:1/", "postgres://u:" + secret + "@127.0.0.1:1/db?sslrootcert=/x/" + secret}
	var accepted []string
	for _, key := range keys {
		for _, value := range values {
			cfg := maps.Clone(base)
			cfg[key] = value
			cfg["pasword"] = secret
			err := p.SetConfig(cfg)
			must.Error(t, err, must.Sprintf("key %s", key))
			if k, known := configTable.Key(key); !known || k.Secret {
				must.StrNotContains(t, err.Error(), secret, must.Sprintf("key %s", key))
			}

			// Where the value is valid for the key (a user name, a
			// password, a table or column name, a URL with a password),
			// SetConfig accepts it; the queries must not show it either.
			delete(cfg, "pasword")
			if p.SetConfig(cfg) != nil {
				continue
			}
			accepted = append(accepted, key)
			for _, q := range queries {
				_, err := p.Query(q, sdk.TimeRange{From: at(t, "10:00"), To: at(t, "10:05:40")})
				must.Error(t, err)
				must.StrNotContains(t, err.Error(), secret, must.Sprintf("key %s, query %s", key, q))
			}
		}
	}
	t.Logf("accepted, then queried: %v", accepted)
	must.SliceContainsSubset(t, accepted, []string{configKeyAMQPURLs, configKeyManagementUsername, configKeyManagementPassword,
		configKeyRequestsTable, configKeyRequestsTimeColumn, configKeyFilterColumns, configKeyTLSServerName})
	must.StrNotContains(t, logs.String(), secret)
	must.StrNotContains(t, logs.String(), "pw@")
}

func TestParseConfigReadsTLSFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPEM, keyPEM := selfSignedPEM(t, "mq.internal")
	ca := filepath.Join(dir, "ca.pem")
	cert := filepath.Join(dir, "cert.pem")
	key := filepath.Join(dir, "key.pem")
	must.NoError(t, os.WriteFile(ca, certPEM, 0o600))
	must.NoError(t, os.WriteFile(cert, certPEM, 0o600))
	must.NoError(t, os.WriteFile(key, keyPEM, 0o600))

	c, err := parseConfig(map[string]string{
		configKeyAMQPURLs: "amqps://mq.internal/", configKeyTLSCAFile: ca, configKeyTLSCertFile: cert, configKeyTLSKeyFile: key,
	})
	must.NoError(t, err)
	must.NotNil(t, c.tls.config.RootCAs)
	must.Len(t, 1, c.tls.config.Certificates)
	must.Eq(t, "mq.internal", c.tls.forHost("mq.internal").ServerName)

	_, err = parseConfig(map[string]string{
		configKeyAMQPURLs: "amqps://mq.internal/", configKeyTLSCAFile: key, configKeyTLSCertFile: key, configKeyTLSKeyFile: cert,
	})
	must.ErrorContains(t, err, "no PEM certificate in the file")
	must.ErrorContains(t, err, "not a readable, matching PEM certificate and key")
	must.True(t, strings.Count(err.Error(), "\n") >= 1)
}

func TestSIGHUPAfterACertificateRotationIsAChange(t *testing.T) {
	t.Parallel()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	first, _ := selfSignedPEM(t, "mq.internal")
	must.NoError(t, os.WriteFile(ca, first, 0o600))
	keys := map[string]string{configKeyAMQPURLs: "amqps://mq.internal/", configKeyTLSCAFile: ca}
	before := withFileDigests(pluginkit.OwnKeys(keys))
	must.Eq(t, before, withFileDigests(pluginkit.OwnKeys(keys)))

	rotated, _ := selfSignedPEM(t, "mq.internal")
	must.NoError(t, os.WriteFile(ca, rotated, 0o600))
	must.NotEq(t, before, withFileDigests(pluginkit.OwnKeys(keys)))
}
