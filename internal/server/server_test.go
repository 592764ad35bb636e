package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/metrics"
	"github.com/carnet-sante/carnet/internal/server"
)

// TestGracefulShutdown: a request in flight when the stop signal arrives
// still gets its whole answer, and Run returns without error.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "finished")
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, stop := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	ran := make(chan error, 1)
	go func() {
		ran <- server.Run(ctx, "127.0.0.1:0", server.Wrap(h, log, metrics.New()), 5*time.Second, log, func(a net.Addr) { addr <- a })
	}()
	url := "http://" + (<-addr).String() + "/slow"

	type reply struct {
		body string
		err  error
	}
	got := make(chan reply, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			got <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- reply{string(b), err}
	}()
	<-started
	stop()

	if r := <-got; r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request = %q, %v; want it to finish", r.body, r.err)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run = %v, want nil after a graceful stop", err)
	}
	if _, err := http.Get(url); err == nil {
		t.Error("server still accepts requests after shutdown")
	}
}

func TestRequestID(t *testing.T) {
	var seen string
	h := server.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = server.RequestID(r.Context())
	}), slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.New())
	tests := []struct {
		name, header string
		kept         bool
	}{
		{"caller's id kept", "abc-123", true},
		{"none given", "", false},
		{"unsafe id replaced", "a b\nc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "/", nil)
			if tt.header != "" {
				req.Header.Set("X-Request-Id", tt.header)
			}
			rec := &recorder{header: http.Header{}}
			h.ServeHTTP(rec, req)
			echoed := rec.header.Get("X-Request-Id")
			if echoed == "" || echoed != seen {
				t.Fatalf("response id %q, handler saw %q", echoed, seen)
			}
			if (echoed == tt.header) != tt.kept {
				t.Errorf("id %q from header %q, kept=%v", echoed, tt.header, tt.kept)
			}
		})
	}
}

type recorder struct {
	header http.Header
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(p []byte) (int, error) { return len(p), nil }
func (r *recorder) WriteHeader(code int)        { r.code = code }
