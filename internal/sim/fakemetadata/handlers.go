package fakemetadata

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

func (s *Server) routes() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /computeMetadata/v1/instance/{key}", s.value)
	m.HandleFunc("PUT /admin/instance/{key}", s.admin)
	return m
}

// value answers GET /computeMetadata/v1/instance/<key>.
func (s *Server) value(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.takeFault(); ok {
		s.answerFault(w, r, f)
		return
	}
	if r.Header.Get("Metadata-Flavor") != "Google" || r.Header.Get("X-Forwarded-For") != "" {
		http.Error(w, "Missing Metadata-Flavor:Google header.", http.StatusForbidden)
		return
	}
	key := r.PathValue("key")
	if _, _, ok := s.Value(key); !ok {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	wait, err := parseBool(q.Get("wait_for_change"))
	if err != nil {
		http.Error(w, "Non-boolean value for wait_for_change: "+strconv.Quote(q.Get("wait_for_change")), http.StatusBadRequest)
		return
	}
	timeout, err := s.waitTimeout(q.Get("timeout_sec"))
	if err != nil {
		http.Error(w, "Invalid value for timeout_sec: "+strconv.Quote(q.Get("timeout_sec")), http.StatusBadRequest)
		return
	}
	if !wait {
		v, etag, _ := s.Value(key)
		writeValue(w, v, etag)
		return
	}
	s.waitForChange(w, r, key, q.Get("last_etag"), timeout)
}

// waitForChange answers when the value's ETag differs from lastETag (the
// ETag at arrival when empty), when timeout passes, or when the server
// closes; it answers nothing when the client goes away.
func (s *Server) waitForChange(w http.ResponseWriter, r *http.Request, key, lastETag string, timeout time.Duration) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	s.mu.Lock()
	s.waiting++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		v := s.values[key]
		etag, changed := etagOf(v), s.changed
		s.mu.Unlock()
		if lastETag == "" {
			lastETag = etag
		}
		if etag != lastETag {
			writeValue(w, v, etag)
			return
		}
		select {
		case <-changed:
		case <-timer.C:
			writeValue(w, v, etag)
			return
		case <-s.closed:
			writeValue(w, v, etag)
			return
		case <-r.Context().Done():
			return
		}
	}
}

// waitTimeout reads timeout_sec: a positive whole number of seconds,
// bounded by MaxWait; DefaultWait when absent.
func (s *Server) waitTimeout(v string) (time.Duration, error) {
	if v == "" {
		return min(s.opts.DefaultWait, s.opts.MaxWait), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, strconv.ErrSyntax
	}
	return min(time.Duration(n)*time.Second, s.opts.MaxWait), nil
}

func parseBool(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	return strconv.ParseBool(v)
}

// admin answers PUT /admin/instance/<key>: the body is the new value.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.Set(r.PathValue("key"), string(body))
	w.WriteHeader(http.StatusNoContent)
}

// writeValue answers 200 with the value as the real server does.
func writeValue(w http.ResponseWriter, v, etag string) {
	h := w.Header()
	h.Set("Metadata-Flavor", "Google")
	h.Set("Content-Type", "application/text")
	if etag != "" {
		h.Set("ETag", etag)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, v)
}

// writeStatus answers status with a plain-text body.
func writeStatus(w http.ResponseWriter, status int) {
	w.Header().Set("Metadata-Flavor", "Google")
	http.Error(w, http.StatusText(status), status)
}
