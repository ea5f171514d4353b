package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Vhosts manages RabbitMQ virtual hosts through the management API. The
// demo and the end-to-end tests each use their own vhost so that they never
// see, or purge, another user's queues.
type Vhosts struct {
	// ManagementURL is the API base, e.g. http://127.0.0.1:15672.
	ManagementURL string
	// User and Password are the management credentials.
	User, Password string
	// Client defaults to a client with a 10 s timeout.
	Client *http.Client
}

// VhostsFromAMQP takes the management credentials from the AMQP URL, as
// RabbitMQ's defaults do.
func VhostsFromAMQP(amqpURL, managementURL string) (Vhosts, error) {
	u, err := url.Parse(amqpURL)
	if err != nil {
		return Vhosts{}, fmt.Errorf("parse AMQP URL %s: %w", RedactURL(amqpURL), err)
	}
	user, pass := "guest", "guest"
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	return Vhosts{ManagementURL: strings.TrimRight(managementURL, "/"), User: user, Password: pass}, nil
}

// Create makes the vhost (idempotent) and grants the user every permission on it.
func (v Vhosts) Create(ctx context.Context, name string) error {
	if err := v.do(ctx, http.MethodPut, "/api/vhosts/"+url.PathEscape(name), ""); err != nil {
		return fmt.Errorf("create vhost %q: %w", name, err)
	}
	perm := `{"configure":".*","write":".*","read":".*"}`
	if err := v.do(ctx, http.MethodPut, "/api/permissions/"+url.PathEscape(name)+"/"+url.PathEscape(v.User), perm); err != nil {
		return fmt.Errorf("grant %q on vhost %q: %w", v.User, name, err)
	}
	return nil
}

// Delete removes the vhost and everything in it; a missing vhost is fine.
func (v Vhosts) Delete(ctx context.Context, name string) error {
	err := v.do(ctx, http.MethodDelete, "/api/vhosts/"+url.PathEscape(name), "")
	if err != nil && !strings.Contains(err.Error(), "404") {
		return fmt.Errorf("delete vhost %q: %w", name, err)
	}
	return nil
}

func (v Vhosts) do(ctx context.Context, method, path, body string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, v.ManagementURL+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(v.User, v.Password)
	req.Header.Set("Content-Type", "application/json")
	c := v.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}

// VhostURL returns amqpURL pointed at vhost.
func VhostURL(amqpURL, vhost string) (string, error) {
	u, err := url.Parse(amqpURL)
	if err != nil {
		return "", fmt.Errorf("parse AMQP URL %s: %w", RedactURL(amqpURL), err)
	}
	u.Path = "/" + vhost
	u.RawPath = "/" + url.PathEscape(vhost)
	return u.String(), nil
}
