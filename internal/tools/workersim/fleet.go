package workersim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// SimcloudFleet reads the worker count from simcloud's admin API
// (GET /admin/state, field ready_workers_total: nodes that are ready,
// eligible, not draining and run a worker allocation).
type SimcloudFleet struct {
	// BaseURL is simcloud's address, e.g. http://127.0.0.1:8090.
	BaseURL string
	// Client defaults to one with a 5 s timeout.
	Client *http.Client
}

// Workers implements Fleet.
func (f SimcloudFleet) Workers(ctx context.Context) (int, error) {
	url := strings.TrimRight(f.BaseURL, "/") + "/admin/state"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	c := f.Client
	if c == nil {
		c = &http.Client{Timeout: 5 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read simcloud state: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return 0, fmt.Errorf("read simcloud state: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var st struct {
		Ready *int `json:"ready_workers_total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, fmt.Errorf("decode simcloud state: %w", err)
	}
	if st.Ready == nil {
		return 0, fmt.Errorf("simcloud state has no ready_workers_total")
	}
	return *st.Ready, nil
}

// FleetFunc adapts a function, such as an in-process simcloud's state, to Fleet.
type FleetFunc func(ctx context.Context) (int, error)

// Workers implements Fleet.
func (f FleetFunc) Workers(ctx context.Context) (int, error) { return f(ctx) }
