package app

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// check is one dependency /readyz probes.
type check struct {
	name string
	ping func(context.Context) error
}

// readyTimeout bounds each probe so that a hung dependency answers 503
// quickly instead of hanging the orchestrator's probe.
const readyTimeout = 2 * time.Second

// readyz answers 200 when every dependency answers, 503 with the reason of
// each failing one otherwise. Probes run in parallel.
func readyz(checks []check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		results := make(map[string]string, len(checks))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range checks {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
				defer cancel()
				res := "ok"
				if err := c.ping(ctx); err != nil {
					res = err.Error()
				}
				mu.Lock()
				results[c.name] = res
				mu.Unlock()
			})
		}
		wg.Wait()
		status, code := "ready", http.StatusOK
		for _, res := range results {
			if res != "ok" {
				status, code = "unavailable", http.StatusServiceUnavailable
			}
		}
		writeJSON(w, code, map[string]any{"status": status, "checks": results})
	}
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
