package fakehttp

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

var simNow = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// echo answers 201 with the body it was handed, so tests see whether the
// Recorder restored the body it read for the log.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(b)
})

// newRecorder wraps next and counts the calls of Advance.
func newRecorder(next http.Handler) (*Recorder, *int) {
	advanced := 0
	rec := New(next, Options{
		Now:     func() time.Time { return simNow },
		Advance: func() { advanced++ },
		WriteError: func(w http.ResponseWriter, status int) {
			http.Error(w, "injected "+strconv.Itoa(status), status)
		},
	})
	return rec, &advanced
}

func serve(rec *Recorder, method, target, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	rec.ServeHTTP(w, httptest.NewRequest(method, target, strings.NewReader(body)))
	return w
}

func TestTheLogHoldsWhatTheHandlerReceivedAndAnswered(t *testing.T) {
	rec, advanced := newRecorder(echo)
	before := time.Now()
	w := serve(rec, http.MethodPost, "/v1/thing?size=3", `{"a":1}`)

	must.Eq(t, http.StatusCreated, w.Code)
	must.Eq(t, `{"a":1}`, w.Body.String(), must.Sprint("the handler still reads the body"))
	must.Eq(t, 1, *advanced)
	got := rec.Requests()
	must.SliceLen(t, 1, got)
	must.Eq(t, simNow, got[0].Time)
	must.False(t, got[0].Received.Before(before))
	must.Eq(t, http.MethodPost, got[0].Method)
	must.Eq(t, "/v1/thing", got[0].Path)
	must.Eq(t, "3", got[0].Query.Get("size"))
	must.Eq(t, `{"a":1}`, got[0].Body)
	must.Eq(t, http.StatusCreated, got[0].Status)
}

func TestAHandlerThatNeverWritesAHeaderIsLoggedAsOK(t *testing.T) {
	rec, _ := newRecorder(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	serve(rec, http.MethodGet, "/", "")
	must.Eq(t, http.StatusOK, rec.Requests()[0].Status)
}

func TestInjectedErrorsAnswerTheNextRequestsWithoutReachingTheHandler(t *testing.T) {
	reached := 0
	rec, advanced := newRecorder(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached++
	}))
	rec.InjectErrors(http.StatusServiceUnavailable, 2)

	var codes []int
	for range 3 {
		codes = append(codes, serve(rec, http.MethodGet, "/", "").Code)
	}
	must.Eq(t, []int{503, 503, 200}, codes)
	must.Eq(t, 1, reached)
	must.Eq(t, 3, *advanced, must.Sprint("the fake advances before injected errors too"))
	var logged []int
	for _, r := range rec.Requests() {
		logged = append(logged, r.Status)
	}
	must.Eq(t, []int{503, 503, 200}, logged)
}

func TestALaterInjectionReplacesAnEarlierOne(t *testing.T) {
	rec, _ := newRecorder(echo)
	rec.InjectErrors(http.StatusInternalServerError, 5)
	rec.InjectErrors(http.StatusTooManyRequests, 1)
	must.Eq(t, http.StatusTooManyRequests, serve(rec, http.MethodGet, "/", "").Code)
	must.Eq(t, http.StatusCreated, serve(rec, http.MethodGet, "/", "").Code)
}

func TestTheLogKeepsTheNewestRequestsOnceItIsFull(t *testing.T) {
	rec, _ := newRecorder(echo)
	rec.limit = 3
	for i := range 10 {
		serve(rec, http.MethodGet, "/"+strconv.Itoa(i), "")
	}
	got := rec.Requests()
	must.Between(t, 3, len(got), 6)
	must.Eq(t, "/9", got[len(got)-1].Path)
	for i, r := range got {
		must.Eq(t, "/"+strconv.Itoa(10-len(got)+i), r.Path, must.Sprint("the log stays in order"))
	}
}

func TestRequestsReturnsACopy(t *testing.T) {
	rec, _ := newRecorder(echo)
	serve(rec, http.MethodGet, "/a", "")
	got := rec.Requests()
	got[0].Path = "/changed"
	must.Eq(t, "/a", rec.Requests()[0].Path)
}
