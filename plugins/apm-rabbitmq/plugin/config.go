package plugin

import (
	"errors"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"io/fs"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Config keys; defaults and bounds are in configTable.
const (
	configKeyAMQPURLs           = "amqp_urls"
	configKeyManagementURLs     = "management_urls"
	configKeyManagementUsername = "management_username"
	configKeyManagementPassword = "management_password"

	configKeyPostgresURL        = "postgres_url"
	configKeyPostgresMaxConns   = "postgres_max_conns"
	configKeyRequestsTable      = "requests_table"
	configKeyRequestsTimeColumn = "requests_time_column"
	configKeyQueryTimeout       = "query_timeout"

	// configKeySettleDelay is how long after its end a minute counts as
	// complete: rows are committed a little after their created_at (slow
	// commits, batched writers, clock skew, a read replica's lag), so the
	// newest minute can still grow for a while, and counted too early it
	// looks like a drop in traffic. requests_per_minute answers only
	// minutes that ended at least this long ago, and the per-minute cache
	// keeps exactly those.
	configKeySettleDelay = "settle_delay"
)

// configTable is every key of the agent's apm block. The agent's nomad_*
// keys are accepted and ignored (this plugin does not talk to Nomad), and
// the sql.<name> family holds named queries. The README's table is checked
// against it.
var configTable = &pluginkit.Table{
	AgentKeys: true,
	Prefixes:  []string{configKeyNamedSQLPrefix},
	Keys: []pluginkit.Key{
		{Name: configKeyAMQPURLs, Kind: pluginkit.Text, Secret: true, Doc: "amqp(s):// URLs of the cluster nodes, tried in order"},
		{Name: configKeyManagementURLs, Kind: pluginkit.Text, Secret: true, Doc: "management API base URLs, tried in order"},
		{Name: configKeyManagementUsername, Kind: pluginkit.Text, Doc: "management API user"},
		{Name: configKeyManagementPassword, Kind: pluginkit.Text, Secret: true, Doc: "management API password"},
		{Name: configKeyPostgresURL, Kind: pluginkit.Text, Secret: true, Doc: "PostgreSQL DSN"},
		{Name: configKeyPostgresMaxConns, Kind: pluginkit.Int, Default: "4", Min: "1", Max: "64", Doc: "PostgreSQL pool size"},
		{Name: configKeyRequestsTable, Kind: pluginkit.Text, Default: "api_requests", Doc: "table of requests_per_minute"},
		{Name: configKeyRequestsTimeColumn, Kind: pluginkit.Text, Default: "created_at", Doc: "its time column"},
		{Name: configKeySettleDelay, Kind: pluginkit.Duration, Default: "30s", Min: "0s", Max: "10m", Doc: "how long after its end a minute counts as complete"},
		{Name: configKeyFilterColumns, Kind: pluginkit.Text, Doc: "columns requests_per_minute may filter on"},
		{Name: configKeyAllowInlineSQL, Kind: pluginkit.Bool, Default: "false", Doc: "let policies run their own SQL"},
		{Name: configKeyQueryTimeout, Kind: pluginkit.Duration, Default: "5s", Min: "100ms", Max: "5m", Doc: "deadline of every Query"},
		{Name: configKeyTLSCAFile, Kind: pluginkit.Text, Doc: "PEM CA bundle for amqps and https"},
		{Name: configKeyTLSCertFile, Kind: pluginkit.Text, Doc: "PEM client certificate"},
		{Name: configKeyTLSKeyFile, Kind: pluginkit.Text, Doc: "PEM client key"},
		{Name: configKeyTLSServerName, Kind: pluginkit.Text, Doc: "name expected in the servers' certificates"},
		{Name: configKeyTLSSkipVerify, Kind: pluginkit.Bool, Default: "false", Doc: "accept any certificate (tests only)"},
	},
}

// amqpNode is one entry of amqp_urls.
type amqpNode struct {
	url   string // with credentials: never print it, print addr
	addr  string // host:port, safe to show
	tls   bool   // amqps://
	vhost string // from the URL path, "/" when absent
}

// config is the parsed plugin configuration.
type config struct {
	amqpNodes []amqpNode

	managementURLs     []*url.URL // without userinfo
	managementUsername string
	managementPassword string

	postgres           *pgxpool.Config // nil: no PostgreSQL source
	postgresMaxConns   int32
	requestsTable      pgx.Identifier
	requestsTimeColumn pgx.Identifier
	settleDelay        time.Duration // see configKeySettleDelay
	access             sqlAccess

	queryTimeout time.Duration
	tls          tlsSettings
}

// defaultVhost is the vhost used by queries without "@<vhost>": the one in
// the path of the first AMQP URL, else "/".
func (c config) defaultVhost() string {
	if len(c.amqpNodes) > 0 {
		return c.amqpNodes[0].vhost
	}
	return "/"
}

// parseConfig validates the whole map and reports every problem at once. It
// reads TLS files but never contacts a server: a failed SetConfig stops the
// agent, and a server that is down at start must not. Errors name the key,
// its value and the problem, except for the Secret keys (URLs and the DSN,
// which may carry a password; the password), a named query's SQL and an
// unknown key: these errors end in the agent's log.
func parseConfig(m map[string]string) (config, error) {
	p := pluginkit.Parse(configTable, m)
	c := config{queryTimeout: p.Duration(configKeyQueryTimeout)}
	var err error
	c.amqpNodes, err = parseAMQPURLs(m[configKeyAMQPURLs])
	p.Add(err)
	p.Add(c.parseManagement(m)...)
	p.Add(c.parsePostgres(p, m)...)
	c.tls, err = parseTLS(p, m)
	p.Add(err)
	if len(c.amqpNodes) == 0 && len(c.managementURLs) == 0 && m[configKeyPostgresURL] == "" {
		p.Add(fmt.Errorf("no source configured: set %s, %s or %s",
			configKeyAMQPURLs, configKeyManagementURLs, configKeyPostgresURL))
	}
	if err := p.Err(); err != nil {
		return config{}, err
	}
	return c, nil
}

// postgresOnlyKeys are the fixed keys that mean nothing without postgres_url.
var postgresOnlyKeys = []string{
	configKeyPostgresMaxConns, configKeyRequestsTable, configKeyRequestsTimeColumn, configKeySettleDelay,
	configKeyAllowInlineSQL, configKeyFilterColumns,
}

// splitList splits a comma-separated value, trimming spaces. It returns nil
// for an empty value and keeps empty elements so they can be reported.
func splitList(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func parseAMQPURLs(v string) ([]amqpNode, error) {
	var (
		nodes []amqpNode
		errs  []error
	)
	for i, raw := range splitList(v) {
		uri, err := amqp.ParseURI(raw)
		if err != nil || uri.Host == "" {
			errs = append(errs, fmt.Errorf("%s element %d: want amqp://[user:password@]host[:port][/vhost] or the same with amqps",
				configKeyAMQPURLs, i+1))
			continue
		}
		vhost := uri.Vhost
		if vhost == "" {
			vhost = "/"
		}
		nodes = append(nodes, amqpNode{
			url:   raw,
			addr:  fmt.Sprintf("%s:%d", uri.Host, uri.Port),
			tls:   uri.Scheme == "amqps",
			vhost: vhost,
		})
	}
	return nodes, errors.Join(errs...)
}

func (c *config) parseManagement(m map[string]string) []error {
	var errs []error
	for i, raw := range splitList(m[configKeyManagementURLs]) {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("%s element %d: want http[s]://host:port[/path prefix] without a query",
				configKeyManagementURLs, i+1))
			continue
		}
		u.User = nil
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawPath = ""
		c.managementURLs = append(c.managementURLs, u)
	}
	user, hasUser := m[configKeyManagementUsername]
	pass, hasPass := m[configKeyManagementPassword]
	if len(c.managementURLs) == 0 {
		for _, k := range []string{configKeyManagementUsername, configKeyManagementPassword} {
			if _, ok := m[k]; ok {
				errs = append(errs, fmt.Errorf("%s is set but %s is empty", k, configKeyManagementURLs))
			}
		}
		return errs
	}
	// The management API usually shares the AMQP users, so the first AMQP
	// URL's credentials are the default (amqp091 fills in guest/guest).
	if len(c.amqpNodes) > 0 {
		uri, _ := amqp.ParseURI(c.amqpNodes[0].url)
		c.managementUsername, c.managementPassword = uri.Username, uri.Password
	}
	if hasUser {
		c.managementUsername = user
	}
	if hasPass {
		c.managementPassword = pass
	}
	if c.managementUsername == "" {
		errs = append(errs, fmt.Errorf("%s is required when %s is empty", configKeyManagementUsername, configKeyAMQPURLs))
	}
	return errs
}

func (c *config) parsePostgres(p *pluginkit.Parser, m map[string]string) []error {
	dsn := m[configKeyPostgresURL]
	var errs []error
	if dsn == "" {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if slices.Contains(postgresOnlyKeys, k) || isNamedSQLKey(k) {
				errs = append(errs, fmt.Errorf("%s is set but %s is empty", k, configKeyPostgresURL))
			}
		}
		return errs
	}
	pc, err := pgxpool.ParseConfig(dsn)
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &pathErr):
		// pgx reads the files the DSN names (sslrootcert, sslcert,
		// sslkey) while parsing. The path is part of the value, so the
		// error names the parameters instead.
		errs = append(errs, fmt.Errorf("%s: cannot read the file named by %s: %s",
			configKeyPostgresURL, dsnFileParams(dsn), pathErr.Err))
	case err != nil:
		// The parse error quotes the DSN with a best-effort redaction; name
		// the key only, so a password can never reach the agent's log.
		errs = append(errs, fmt.Errorf("%s: not a valid PostgreSQL URL or key=value connection string (value hidden: it may hold a password)",
			configKeyPostgresURL))
	}
	c.postgres = pc
	c.postgresMaxConns = int32(p.Int(configKeyPostgresMaxConns))
	c.settleDelay = p.Duration(configKeySettleDelay)
	c.requestsTable, err = parseIdentifier(configKeyRequestsTable, p.Text(configKeyRequestsTable), 2)
	errs = append(errs, err)
	c.requestsTimeColumn, err = parseIdentifier(configKeyRequestsTimeColumn, p.Text(configKeyRequestsTimeColumn), 1)
	errs = append(errs, err)
	var accessErrs []error
	c.access, accessErrs = parseAccess(p, m)
	return append(errs, accessErrs...)
}

// dsnFileParam finds the parameters of a DSN that name files pgx reads
// while parsing, in the URL and the key=value forms.
var dsnFileParam = regexp.MustCompile(`(?i)(?:^|[?&\s])(sslrootcert|sslcert|sslkey)\s*=`)

// dsnFileParams names the parameters of dsn that name files, for an error
// that must not show their values.
func dsnFileParams(dsn string) string {
	var found []string
	for _, m := range dsnFileParam.FindAllStringSubmatch(dsn, -1) {
		if p := strings.ToLower(m[1]); !slices.Contains(found, p) {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return "sslrootcert, sslcert or sslkey (in the DSN or a PGSSL* environment variable)"
	}
	return strings.Join(found, " or ")
}

// parseIdentifier reads a possibly schema-qualified name ("schema.table").
// Each part is quoted with pgx.Identifier when used, so any character is
// safe; only the shape is checked here.
func parseIdentifier(key, v string, maxParts int) (pgx.Identifier, error) {
	parts := strings.Split(v, ".")
	if len(parts) > maxParts {
		return nil, fmt.Errorf("%s %s: want at most %d dot-separated parts", key, pluginkit.Quote(v), maxParts)
	}
	for _, p := range parts {
		if p == "" || len(p) > maxIdentifierLen || strings.ContainsRune(p, 0) {
			return nil, fmt.Errorf("%s %s: each dot-separated part must be 1 to %d bytes", key, pluginkit.Quote(v), maxIdentifierLen)
		}
	}
	return pgx.Identifier(parts), nil
}
