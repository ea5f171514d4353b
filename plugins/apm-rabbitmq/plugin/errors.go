package plugin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
)

// The agent (policy/manager.go, isUnrecoverableError in v0.5.0) restarts
// every policy handler, losing cooldowns, when an evaluation error contains
// one of these substrings, because it takes them for a lost Nomad
// connection. A RabbitMQ or PostgreSQL outage is not that, so these words
// must never leave the plugin.
var agentRestartPhrases = []struct{ phrase, replacement string }{
	{"connection refused", "connection rejected"},
	{"EOF", "end of stream"},
}

var (
	// userinfoInURL matches the credentials of any URL in a message.
	userinfoInURL = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://)[^/@\s]*@`)
	// passwordSetting matches password=... in a key=value DSN.
	passwordSetting = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)
)

// scrub makes a message safe to hand to the agent: no credentials, and none
// of the phrases that make the agent restart its policy handlers.
func scrub(msg string) string {
	msg = userinfoInURL.ReplaceAllString(msg, "${1}")
	msg = passwordSetting.ReplaceAllString(msg, "${1}xxxxx")
	for _, p := range agentRestartPhrases {
		msg = strings.ReplaceAll(msg, p.phrase, p.replacement)
	}
	return msg
}

// boundaryError is the error the agent receives: the scrubbed text of the
// cause. The cause is kept for errors.Is in the plugin's own tests.
type boundaryError struct {
	msg   string
	cause error
}

func (e *boundaryError) Error() string { return e.msg }
func (e *boundaryError) Unwrap() error { return e.cause }

// atBoundary scrubs an error before it leaves the plugin. The causes are
// already translated where they arise; this is the last line of defence.
func atBoundary(err error) error {
	if err == nil {
		return nil
	}
	return &boundaryError{msg: scrub(err.Error()), cause: err}
}

// redactURL removes the userinfo from a URL for messages, also when the
// string does not parse as a URL.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return userinfoInURL.ReplaceAllString(raw, "${1}")
}

// describeCause puts a low-level network or protocol error into the
// plugin's own words. It never returns the agent's restart phrases or
// credentials; unknown causes are scrubbed.
func describeCause(err error) string {
	var (
		netErr  net.Error
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unkAuth x509.UnknownAuthorityError
		recErr  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "unreachable (nothing listening on the port)"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return "closed the connection unexpectedly"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable (no route to host)"
	case errors.As(err, &dnsErr):
		return "host name not found"
	case errors.As(err, &certErr), errors.As(err, &unkAuth):
		return "TLS certificate not trusted (check tls_ca_file / tls_server_name)"
	case errors.As(err, &recErr):
		return "TLS handshake failed (is the server speaking TLS?)"
	}
	return scrub(err.Error())
}
