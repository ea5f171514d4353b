package rollout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
)

// queueSource reads how many consumers each model queue has.
type queueSource interface {
	Consumers(ctx context.Context) (map[string]int, error)
}

// managementAPI implements queueSource with RabbitMQ's management API
// (GET /api/queues/{vhost}/{queue}, field consumers). Credentials come
// from the URL's user info and never appear in errors.
type managementAPI struct {
	base   *url.URL
	vhost  string
	queues []string
	http   *http.Client
	calls  caller
}

var _ queueSource = managementAPI{}

func newManagementAPI(cfg config) (managementAPI, error) {
	u, err := url.Parse(cfg.rabbitURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return managementAPI{}, fmt.Errorf("rabbitmq-management-url %q: want http(s)://user:password@host:15672", redact(cfg.rabbitURL))
	}
	return managementAPI{base: u, vhost: cfg.vhost, queues: cfg.queues, http: &http.Client{}, calls: caller{timeout: cfg.callTimeout}}, nil
}

// Consumers implements queueSource.
func (m managementAPI) Consumers(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, q := range m.queues {
		base := *m.base
		base.User = nil
		endpoint := strings.TrimRight(base.String(), "/") + "/api/queues/" + url.PathEscape(m.vhost) + "/" + url.PathEscape(q)
		var body struct {
			Consumers *int `json:"consumers"`
		}
		err := m.calls.backoff().Do(ctx, func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
			if err != nil {
				return err
			}
			if m.base.User != nil {
				pw, _ := m.base.User.Password()
				req.SetBasicAuth(m.base.User.Username(), pw)
			}
			resp, err := m.http.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
				return pluginkit.StatusError(resp.StatusCode)
			}
			return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body)
		})
		if err != nil {
			return nil, fmt.Errorf("read consumers of queue %q (vhost %q) at %s: %w", q, m.vhost, redact(m.base.String()), scrub(err, m.base))
		}
		if body.Consumers == nil {
			return nil, fmt.Errorf("queue %q (vhost %q): the management API gave no consumers field", q, m.vhost)
		}
		out[q] = *body.Consumers
	}
	return out, nil
}

// redact drops the password of a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// scrub removes the URL's password from an error text (a transport error
// quotes the URL it was given).
func scrub(err error, u *url.URL) error {
	if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), pw) {
		return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}
