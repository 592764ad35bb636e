package app

import (
	"context"
	"errors"
	"time"

	"github.com/carnet-sante/carnet/internal/blob"
	"github.com/carnet-sante/carnet/internal/metrics"
)

// instrument counts and times every blob operation of b.
func instrument(b blob.Backend, m *metrics.Metrics) blob.Backend {
	return &measuredBackend{Backend: b, m: m}
}

type measuredBackend struct {
	blob.Backend
	m *metrics.Metrics
}

func (b *measuredBackend) observe(op string, start time.Time, err error) {
	result := "ok"
	switch {
	case errors.Is(err, blob.ErrNotFound):
		result = "not_found"
	case err != nil:
		result = "error"
	}
	b.m.ObserveBlob(b.Name(), op, result, time.Since(start))
}

func (b *measuredBackend) Create(ctx context.Context) (blob.Writer, error) {
	start := time.Now()
	w, err := b.Backend.Create(ctx)
	if err != nil {
		b.observe("put", start, err)
		return nil, err
	}
	return &measuredWriter{Writer: w, b: b, start: start}, nil
}

func (b *measuredBackend) Get(ctx context.Context, key string) (blob.Object, error) {
	start := time.Now()
	o, err := b.Backend.Get(ctx, key)
	b.observe("get", start, err)
	return o, err
}

func (b *measuredBackend) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := b.Backend.Delete(ctx, key)
	b.observe("delete", start, err)
	return err
}

// measuredWriter times a put from Create to Commit.
type measuredWriter struct {
	blob.Writer
	b     *measuredBackend
	start time.Time
}

func (w *measuredWriter) Commit(key string) error {
	err := w.Writer.Commit(key)
	w.b.observe("put", w.start, err)
	return err
}
