package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"
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
	must.Eq(t, int32(defaultPostgresMaxConns), c.postgresMaxConns)
	must.Eq(t, pgx.Identifier{"api_requests"}, c.requestsTable)
	must.Eq(t, pgx.Identifier{"created_at"}, c.requestsTimeColumn)
	must.Eq(t, 30*time.Second, c.settleDelay)
	must.Eq(t, defaultQueryTimeout, c.queryTimeout)
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
	must.Eq(t, map[string]string{configKeyPostgresURL: "postgres://127.0.0.1/api"}, ownKeys(m))
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
			[]string{`unknown config key "postgress_max_conns"`}},
		{"a nomad-looking key the agent never sends", map[string]string{configKeyPostgresURL: "postgres://h/db", "nomad_adress": "x"},
			[]string{`unknown config key "nomad_adress"`}},
		{"an http URL in amqp_urls, without leaking its password", map[string]string{configKeyAMQPURLs: "amqp://h/,http://u:hunter2@h2/"},
			[]string{`amqp_urls element 2 "http://h2/"`}},
		{"an empty element in amqp_urls", map[string]string{configKeyAMQPURLs: "amqp://h/,,amqp://h2/"},
			[]string{`amqp_urls element 2 ""`}},
		{"a management URL without scheme", map[string]string{configKeyManagementURLs: "127.0.0.1:15672", configKeyManagementUsername: "u"},
			[]string{`management_urls element 1 "127.0.0.1:15672"`}},
		{"management credentials without management_urls", map[string]string{configKeyAMQPURLs: "amqp://h/", configKeyManagementPassword: "x"},
			[]string{"management_password is set but management_urls is empty"}},
		{"management alone without a user", map[string]string{configKeyManagementURLs: "http://h:15672"},
			[]string{"management_username is required"}},
		{"a DSN that does not parse, without echoing it", map[string]string{configKeyPostgresURL: "postgres://u:hunter2@h:notaport/db"},
			[]string{"postgres_url: not a valid PostgreSQL"}},
		{"a DSN naming a CA file that does not exist, without echoing the DSN",
			map[string]string{configKeyPostgresURL: "postgres://u:hunter2@h/db?sslmode=verify-full&sslrootcert=/nonexistent/pg-ca.pem"},
			[]string{`postgres_url: cannot read "/nonexistent/pg-ca.pem", named in the DSN: no such file or directory`}},
		{"postgres settings without postgres_url", map[string]string{configKeyAMQPURLs: "amqp://h/", configKeyRequestsTable: "t"},
			[]string{"requests_table is set but postgres_url is empty"}},
		{"a pool size of zero", map[string]string{configKeyPostgresURL: "postgres://h/db", configKeyPostgresMaxConns: "0"},
			[]string{`postgres_max_conns "0": want an integer from 1 to 64`}},
		{"a table with three parts", map[string]string{configKeyPostgresURL: "postgres://h/db", configKeyRequestsTable: "a.b.c"},
			[]string{`requests_table "a.b.c": want at most 2`}},
		{"an empty time column", map[string]string{configKeyPostgresURL: "postgres://h/db", configKeyRequestsTimeColumn: ""},
			[]string{`requests_time_column "": each part`}},
		{"a timeout without unit", map[string]string{configKeyPostgresURL: "postgres://h/db", configKeyQueryTimeout: "5"},
			[]string{`query_timeout "5": want a duration`}},
		{"a skip_verify that is not a bool", map[string]string{configKeyAMQPURLs: "amqps://h/", configKeyTLSSkipVerify: "yes please"},
			[]string{`tls_skip_verify "yes please": want true or false`}},
		{"a missing CA file", map[string]string{configKeyAMQPURLs: "amqps://h/", configKeyTLSCAFile: "/nonexistent/ca.pem"},
			[]string{`tls_ca_file "/nonexistent/ca.pem": cannot read`}},
		{"a client cert without its key", map[string]string{configKeyAMQPURLs: "amqps://h/", configKeyTLSCertFile: "/c.pem"},
			[]string{"tls_cert_file and tls_key_file must be set together"}},
		{"several problems at once", map[string]string{configKeyPostgresURL: "postgres://h/db", configKeyPostgresMaxConns: "x", configKeyQueryTimeout: "-1s", "colour": "red"},
			[]string{`unknown config key "colour"`, `postgres_max_conns "x"`, `query_timeout "-1s"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(tc.in)
			for _, want := range tc.wantErr {
				must.ErrorContains(t, err, want)
			}
			must.StrNotContains(t, err.Error(), "hunter2")
		})
	}
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
	must.ErrorContains(t, err, "not a matching PEM certificate and key")
	must.True(t, strings.Count(err.Error(), "\n") >= 1)
}

func TestSIGHUPAfterACertificateRotationIsAChange(t *testing.T) {
	t.Parallel()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	first, _ := selfSignedPEM(t, "mq.internal")
	must.NoError(t, os.WriteFile(ca, first, 0o600))
	keys := map[string]string{configKeyAMQPURLs: "amqps://mq.internal/", configKeyTLSCAFile: ca}
	before := withFileDigests(ownKeys(keys))
	must.Eq(t, before, withFileDigests(ownKeys(keys)))

	rotated, _ := selfSignedPEM(t, "mq.internal")
	must.NoError(t, os.WriteFile(ca, rotated, 0o600))
	must.NotEq(t, before, withFileDigests(ownKeys(keys)))
}
