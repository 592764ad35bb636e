// Package app wires carnet together: configuration → database and blob
// stores → services → HTTP. It also holds the bodies of the subcommands,
// so that cmd/carnet only dispatches.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"

	"github.com/carnet-sante/carnet/internal/blob"
	blobfs "github.com/carnet-sante/carnet/internal/blob/fs"
	blobs3 "github.com/carnet-sante/carnet/internal/blob/s3"
	"github.com/carnet-sante/carnet/internal/config"
	"github.com/carnet-sante/carnet/internal/document"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/keyring"
	"github.com/carnet-sante/carnet/internal/metrics"
	"github.com/carnet-sante/carnet/internal/server"
	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/postgres"
	"github.com/carnet-sante/carnet/internal/store/sqlite"
)

// App is a running carnet: its stores and the services built on them.
type App struct {
	Config  *config.Config
	Log     *slog.Logger
	Metrics *metrics.Metrics
	Store   store.Store
	Blobs   blob.Backend
	Keys    *keyring.Keyring
	Vault   *blob.Vault
	// Documents is document sharing (IHE MHD, PDSm).
	Documents *document.Service

	identityRules map[string][]rest.Rule // see openIdentity
}

// Open opens the database (applying pending migrations), the blob store
// and the keyring described by cfg. Everything opened is closed again if a
// later step fails.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (_ *App, err error) {
	a := &App{Config: cfg, Log: log, Metrics: metrics.New()}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if cfg.DatabaseURL == "" || cfg.BlobsURL == "" || cfg.MasterKey == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	if a.Store, err = openStore(ctx, cfg); err != nil {
		return nil, err
	}
	if err := a.Store.Migrate(ctx); err != nil {
		return nil, err
	}
	backend, err := openBlobs(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a.Blobs = instrument(backend, a.Metrics)

	master, err := masterKey(cfg, log)
	if err != nil {
		return nil, err
	}
	if a.Keys, err = keyring.New(master, a.Store, keyring.DefaultCacheSize); err != nil {
		return nil, err
	}
	if err := a.Keys.Check(ctx); err != nil {
		return nil, err
	}
	a.Vault = blob.NewVault(a.Blobs, a.Keys)
	if err := a.openDocuments(master); err != nil {
		return nil, err
	}
	if err := a.openIdentity(master); err != nil {
		return nil, err
	}
	a.registerPoolMetrics()
	return a, nil
}

// openStore and openBlobs return a nil interface on error, never a typed
// nil pointer, so that Close can tell what was opened.
func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if cfg.DatabaseURL == "" {
		st, err := sqlite.Open(ctx, cfg.SQLitePath())
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	st, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	return st, nil
}

func openBlobs(ctx context.Context, cfg *config.Config) (blob.Backend, error) {
	if cfg.BlobsURL == "" {
		b, err := blobfs.Open(cfg.BlobDir())
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	b, err := blobs3.Open(ctx, cfg.BlobsURL, "", "")
	if err != nil {
		return nil, err
	}
	return b, nil
}

// masterKey takes the configured key, or reads (creating on first start)
// the key file of the embedded setup. Several nodes sharing a PostgreSQL
// database must share one master key, hence the warning.
func masterKey(cfg *config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.MasterKey != "" {
		return keyring.ParseMasterKey(cfg.MasterKey)
	}
	if cfg.DatabaseURL != "" {
		log.Warn("no --master-key given: using the key file in --data; every node sharing this database must use the same master key", "path", cfg.MasterKeyPath())
	}
	return keyring.LoadOrCreateMasterKey(cfg.MasterKeyPath())
}

func (a *App) registerPoolMetrics() {
	pool := func(f func(store.PoolStats) float64) func() float64 {
		return func() float64 { return f(a.Store.Stats()) }
	}
	a.Metrics.GaugeFunc("carnet_db_pool_open_connections", "Database connections open.", pool(func(s store.PoolStats) float64 { return float64(s.Open) }))
	a.Metrics.GaugeFunc("carnet_db_pool_in_use_connections", "Database connections in use.", pool(func(s store.PoolStats) float64 { return float64(s.InUse) }))
	a.Metrics.GaugeFunc("carnet_db_pool_idle_connections", "Idle database connections.", pool(func(s store.PoolStats) float64 { return float64(s.Idle) }))
	a.Metrics.CounterFunc("carnet_db_pool_waits_total", "Times a caller waited for a database connection.", pool(func(s store.PoolStats) float64 { return float64(s.Waits) }))
}

// Handler is carnet's whole HTTP surface, wrapped with request ids, logs
// and metrics.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz([]check{
		{"database", a.Store.Ping},
		{"blobs", a.Blobs.Ping},
	}))
	mux.Handle("GET /metrics", a.Metrics.Handler())
	if a.Config.PProf {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	rest.New(a.Store, rest.Options{
		MaxBody:   a.Config.MaxBodyBytes,
		Log:       a.Log,
		Version:   version(),
		Rules:     mergeRules(a.identityRules, a.Documents.Rules()),
		Preparers: []rest.Preparer{a.Documents},
	}).Register(mux)
	a.Documents.Register(mux)
	return server.Wrap(mux, a.Log, a.Metrics)
}

// Close releases the stores; safe on a partly opened App.
func (a *App) Close() {
	if a.Blobs != nil {
		if err := a.Blobs.Close(); err != nil {
			a.Log.Warn("closing blob store", "err", err)
		}
	}
	if a.Store != nil {
		if err := a.Store.Close(); err != nil {
			a.Log.Warn("closing database", "err", err)
		}
	}
}

// describe says in a few words where the data live, for the start banner.
func describe(cfg *config.Config) string {
	db := "SQLite " + cfg.SQLitePath()
	if cfg.DatabaseURL != "" {
		db = "PostgreSQL " + config.Redact(cfg.DatabaseURL)
	}
	blobs := "files in " + cfg.BlobDir()
	if cfg.BlobsURL != "" {
		blobs = "S3 " + strings.SplitN(cfg.BlobsURL, "?", 2)[0]
	}
	return db + ", documents in " + blobs
}
