// Package promtest reads a Prometheus /metrics endpoint in tests.
package promtest

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// Scrape GETs http://addr/metrics with a deadline and returns the text
// exposition, failing t on any error or a status other than 200.
func Scrape(t testing.TB, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %d, %v", addr, resp.StatusCode, err)
	}
	return string(b)
}
