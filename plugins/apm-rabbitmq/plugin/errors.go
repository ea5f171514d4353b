package plugin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"io"
	"net"
	"syscall"
)

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
	return pluginkit.Scrub(err.Error())
}
