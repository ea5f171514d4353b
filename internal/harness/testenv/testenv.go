// Package testenv gives integration tests the addresses of the RabbitMQ and
// PostgreSQL servers that scripts/services.sh brought up.
//
// Outside CI a test without its service skips with a hint; with CI set it
// fails, because a suite that silently skips its integration tests proves
// nothing.
package testenv

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const hint = "run `make test`, or `eval \"$(scripts/services.sh env)\"` after `scripts/services.sh up`"

// need returns the value of the environment variable or ends the test.
func need(t testing.TB, key string) string {
	t.Helper()
	v := os.Getenv(key)
	if v != "" {
		return v
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set and CI is: integration tests must not skip (%s)", key, hint)
	}
	t.Skipf("%s is not set: %s", key, hint)
	return ""
}

// RabbitMQ returns the AMQP URL and the management API base URL.
func RabbitMQ(t testing.TB) (amqpURL, managementURL string) {
	t.Helper()
	return need(t, "AMQP_URL"), need(t, "RABBITMQ_MANAGEMENT_URL")
}

// Postgres returns the DSN of the shared PostgreSQL server (database postgres).
func Postgres(t testing.TB) string {
	t.Helper()
	return need(t, "DATABASE_URL")
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// FreshDatabase creates an empty database named after the test on the shared
// server, drops it when the test ends, and returns its DSN. Tests that seed
// tables use it so that they can run in parallel without seeing each other.
func FreshDatabase(t testing.TB) string {
	t.Helper()
	dsn := Postgres(t)
	name := unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("t_%s_%d", name, time.Now().UnixNano()%1e9)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to DATABASE_URL: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parse DATABASE_URL: %v", err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", userInfo(cfg), cfg.Host, cfg.Port, name)
}

func userInfo(cfg *pgx.ConnConfig) string {
	if cfg.Password == "" {
		return cfg.User
	}
	return cfg.User + ":" + cfg.Password
}

// KeptDatabase returns the DSN of the named database on the shared server,
// creating it when missing and keeping it after the test: benchmarks seed
// large tables once and reuse them across runs.
func KeptDatabase(t testing.TB, name string) string {
	t.Helper()
	dsn := Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to DATABASE_URL: %v", err)
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("look up database %s: %v", name, err)
	}
	if !exists {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Fatalf("create database %s: %v", name, err)
		}
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parse DATABASE_URL: %v", err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", userInfo(cfg), cfg.Host, cfg.Port, name)
}
