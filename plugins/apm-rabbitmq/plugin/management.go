package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// queueInfo is one queue as the management API reports it. Counters are
// pointers because a queue created a moment ago has no statistics yet, and
// a missing counter must not read as zero.
type queueInfo struct {
	Name         string   `json:"name"`
	Ready        *float64 `json:"messages_ready"`
	Unacked      *float64 `json:"messages_unacknowledged"`
	Consumers    *float64 `json:"consumers"`
	MessageStats struct {
		Publish    rateDetails `json:"publish_details"`
		DeliverGet rateDetails `json:"deliver_get_details"`
	} `json:"message_stats"`
}

type rateDetails struct {
	Rate *float64 `json:"rate"`
}

// managementAPI reads queue statistics from the RabbitMQ management API.
type managementAPI interface {
	// Queue returns one queue of vhost; a missing queue or vhost is an error
	// wrapping errNotFound.
	Queue(ctx context.Context, vhost, name string) (queueInfo, error)
	// Queues lists every queue of vhost; a missing vhost is an error
	// wrapping errNotFound.
	Queues(ctx context.Context, vhost string) ([]queueInfo, error)
}

// queueColumns asks the API for only the fields used, which keeps the
// listing of a vhost with many queues small.
const queueColumns = "name,messages_ready,messages_unacknowledged,consumers," +
	"message_stats.publish_details.rate,message_stats.deliver_get_details.rate"

// maxManagementBody bounds what is read from one answer.
const maxManagementBody = 32 << 20

// httpManagement is the managementAPI over net/http. Base URLs are tried in
// order; the next one is tried only when a node is unreachable or fails
// (5xx), never after a definite answer such as 404 or 401.
type httpManagement struct {
	bases    []*url.URL
	username string
	password string
	client   *http.Client
}

var _ managementAPI = (*httpManagement)(nil)

func newHTTPManagement(c config) *httpManagement {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// With no tls_server_name, net/http verifies each base URL's own host.
	transport.TLSClientConfig = c.tls.forHost("")
	transport.MaxIdleConnsPerHost = 4
	transport.ResponseHeaderTimeout = c.queryTimeout
	return &httpManagement{
		bases:    c.managementURLs,
		username: c.managementUsername,
		password: c.managementPassword,
		// The client timeout backs up the per-query context.
		client: &http.Client{Transport: transport, Timeout: c.queryTimeout + time.Second},
	}
}

// Queue implements managementAPI.
func (m *httpManagement) Queue(ctx context.Context, vhost, name string) (queueInfo, error) {
	var q queueInfo
	err := m.get(ctx, "/api/queues/"+url.PathEscape(vhost)+"/"+url.PathEscape(name), &q)
	if err == errNotFound {
		return q, fmt.Errorf("queue %q %w in vhost %q (management api)", name, errNotFound, vhost)
	}
	return q, err
}

// Queues implements managementAPI.
func (m *httpManagement) Queues(ctx context.Context, vhost string) ([]queueInfo, error) {
	var qs []queueInfo
	err := m.get(ctx, "/api/queues/"+url.PathEscape(vhost), &qs)
	if err == errNotFound {
		return nil, fmt.Errorf("vhost %q %w (management api)", vhost, errNotFound)
	}
	return qs, err
}

// get fetches escapedPath from the first base URL that answers and decodes
// the JSON body into out. It returns errNotFound itself on 404.
func (m *httpManagement) get(ctx context.Context, escapedPath string, out any) error {
	tried := make([]string, 0, len(m.bases))
	for i, base := range m.bases {
		// As for AMQP nodes: an equal share of the time left per URL, so a
		// host that is down cannot starve the next one.
		urlCtx, cancel := shareOfDeadline(ctx, len(m.bases)-i)
		err := m.getFrom(urlCtx, base, escapedPath, out)
		cancel()
		if err == nil || err == errNotFound {
			return err
		}
		re, ok := err.(retryableError)
		if !ok {
			return err
		}
		tried = append(tried, base.Host+" "+re.reason)
		if pastDeadline(ctx) {
			break
		}
	}
	return fmt.Errorf("no rabbitmq management api reachable (tried %s)", strings.Join(tried, "; "))
}

// retryableError says the next base URL is worth trying.
type retryableError struct{ reason string }

func (e retryableError) Error() string { return e.reason }

func (m *httpManagement) getFrom(ctx context.Context, base *url.URL, escapedPath string, out any) error {
	target := base.String() + escapedPath + "?columns=" + url.QueryEscape(queueColumns)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("management api request for %s: %s", base.Host, describeCause(err))
	}
	req.SetBasicAuth(m.username, m.password)
	req.Header.Set("Accept", "application/json")
	resp, err := m.client.Do(req)
	if err != nil {
		return retryableError{reason: describeCause(err)}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		return errNotFound
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("management api %s refused the login (HTTP %d): check %s and %s",
			base.Host, resp.StatusCode, configKeyManagementUsername, configKeyManagementPassword)
	case resp.StatusCode >= 500:
		return retryableError{reason: fmt.Sprintf("answered HTTP %d", resp.StatusCode)}
	default:
		return fmt.Errorf("management api %s answered HTTP %d for %s", base.Host, resp.StatusCode, escapedPath)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxManagementBody)).Decode(out); err != nil {
		return fmt.Errorf("management api %s sent a body that is not the expected JSON: %s", base.Host, describeCause(err))
	}
	return nil
}
