// Package metrics holds carnet's Prometheus collectors: one registry per
// process, so tests can run several servers side by side.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of carnet's own collectors.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	blobOps  *prometheus.CounterVec
	blobLat  *prometheus.HistogramVec
}

// New creates the collectors in a fresh registry, with the Go runtime and
// process collectors beside them.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carnet_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "carnet_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
		blobOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carnet_blob_operations_total",
			Help: "Blob store operations, by backend, operation and result (ok, not_found, error).",
		}, []string{"backend", "op", "result"}),
		blobLat: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "carnet_blob_operation_duration_seconds",
			Help:    "Time of a blob store operation, by backend and operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"backend", "op"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.blobOps, m.blobLat,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest records one served HTTP request.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveBlob records one blob store operation.
func (m *Metrics) ObserveBlob(backend, op, result string, d time.Duration) {
	m.blobOps.WithLabelValues(backend, op, result).Inc()
	m.blobLat.WithLabelValues(backend, op).Observe(d.Seconds())
}

// GaugeFunc registers a gauge whose value is read at scrape time (pool
// sizes and the like).
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// CounterFunc registers a counter whose value is read at scrape time.
func (m *Metrics) CounterFunc(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
