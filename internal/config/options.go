// Package config declares every option of carnet once: its flag, its
// CARNET_* environment variable, its default and its help text. Commands
// pick the options they need from this table; nothing else parses flags.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config holds every setting of a carnet process.
type Config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	BlobsURL        string
	MasterKey       string
	Demo            bool
	LogLevel        string
	LogFormat       string
	ShutdownTimeout time.Duration
	MaxBodyBytes    int64
	MaxDocument     int64
	TerminologyDir  string
	DirectoryKeys   bool
	ServerURL       string
	PProf           bool
	MemoryLimit     int64
}

// DefaultMemoryLimit is --memory-limit's default: with SQLite's page
// caches and statements, which are outside the Go runtime, the server of
// `carnet bench` peaks under 500 MB (docs/PERFORMANCE.md; 384 MiB made 575).
const DefaultMemoryLimit = 256 << 20

// option is one row of the table: a flag, its environment variable and a
// function that binds it to a Config field.
type option struct {
	name   string
	help   string
	secret bool // never printed with its value
	bind   func(fs *flag.FlagSet, c *Config, name, help string)
}

func str(field func(*Config) *string, def string) func(*flag.FlagSet, *Config, string, string) {
	return func(fs *flag.FlagSet, c *Config, name, help string) { fs.StringVar(field(c), name, def, help) }
}

func boolean(field func(*Config) *bool, def bool) func(*flag.FlagSet, *Config, string, string) {
	return func(fs *flag.FlagSet, c *Config, name, help string) { fs.BoolVar(field(c), name, def, help) }
}

func duration(field func(*Config) *time.Duration, def time.Duration) func(*flag.FlagSet, *Config, string, string) {
	return func(fs *flag.FlagSet, c *Config, name, help string) { fs.DurationVar(field(c), name, def, help) }
}

func int64v(field func(*Config) *int64, def int64) func(*flag.FlagSet, *Config, string, string) {
	return func(fs *flag.FlagSet, c *Config, name, help string) { fs.Int64Var(field(c), name, def, help) }
}

// options is the single table of settings. Keep it sorted by topic.
var options = []option{
	{name: "addr", help: "address the HTTP server listens on", bind: str(func(c *Config) *string { return &c.Addr }, "127.0.0.1:8080")},
	{name: "data", help: "directory for the embedded database, blobs and master key", bind: str(func(c *Config) *string { return &c.DataDir }, "./carnet-data")},
	{name: "database", help: "database URL: empty for SQLite in --data, or postgres://user:pass@host/db", bind: str(func(c *Config) *string { return &c.DatabaseURL }, "")},
	{name: "blobs", help: "document storage URL: empty for files in --data/blobs, or s3://bucket?endpoint=host:port[&region=…&secure=false] (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)", bind: str(func(c *Config) *string { return &c.BlobsURL }, "")},
	{name: "master-key", secret: true, help: "base64 32-byte master key wrapping the per-patient data keys; empty: read or create --data/master.key", bind: str(func(c *Config) *string { return &c.MasterKey }, "")},
	{name: "demo", help: "seed a demo population and enable the development identity provider", bind: boolean(func(c *Config) *bool { return &c.Demo }, false)},
	{name: "max-body", help: "largest accepted request body, in bytes", bind: int64v(func(c *Config) *int64 { return &c.MaxBodyBytes }, 32<<20)},
	{name: "max-document", help: "largest accepted document (the decoded bytes of one deposit), in bytes; keep --max-body above 4/3 of it, the size of the document in base64", bind: int64v(func(c *Config) *int64 { return &c.MaxDocument }, 20<<20)},
	{name: "terminology", help: "directory of the national value sets (IHE SVS XML: JDV_J07…) the document codes are checked against; empty: ../shared/terminology, then ./terminology, else no code checks (with a warning)", bind: str(func(c *Config) *string { return &c.TerminologyDir }, "")},
	{name: "directory-keys", help: "check the Luhn key of RPPS, ADELI and FINESS numbers (false accepts numbers whose key fails, as the ANS test data carry; SIREN and SIRET keys are always checked)", bind: boolean(func(c *Config) *bool { return &c.DirectoryKeys }, true)},
	{name: "shutdown-timeout", help: "how long in-flight requests may run after SIGINT/SIGTERM", bind: duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, 20*time.Second)},
	{name: "memory-limit", help: "soft limit of the memory the Go runtime manages (heap, stacks), in bytes: below it the garbage collector runs when the heap has grown 4-fold (GOGC=400), saving CPU, near it as often as needed; 0 keeps Go's defaults (GOGC=100, no limit); GOGC or GOMEMLIMIT in the environment take precedence", bind: int64v(func(c *Config) *int64 { return &c.MemoryLimit }, DefaultMemoryLimit)},
	{name: "pprof", help: "serve Go runtime profiles at /debug/pprof (for carnet bench --profile); keep it off on a public address", bind: boolean(func(c *Config) *bool { return &c.PProf }, false)},
	{name: "log-level", help: "debug, info, warn or error", bind: str(func(c *Config) *string { return &c.LogLevel }, "info")},
	{name: "log-format", help: "json, text, or auto (text on a terminal, json otherwise)", bind: str(func(c *Config) *string { return &c.LogFormat }, "auto")},
	{name: "url", help: "base URL of a running carnet server (commands that can work through the API)", bind: str(func(c *Config) *string { return &c.ServerURL }, "")},
}

// EnvName is the environment variable read for an option: --blobs → CARNET_BLOBS.
func EnvName(flagName string) string {
	return "CARNET_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// FlagSet builds the flags of a command from the named options; values
// already set in the environment become the defaults, so an explicit flag
// wins over the environment, which wins over the built-in default.
func FlagSet(command string, c *Config, names ...string) *flag.FlagSet {
	// Every option gets its default first, so that Validate sees sane
	// values for the options this command does not expose.
	defaults := flag.NewFlagSet("defaults", flag.ContinueOnError)
	for _, o := range options {
		o.bind(defaults, c, o.name, o.help)
	}
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, name := range names {
		o := lookup(name)
		o.bind(fs, c, o.name, o.help+" (env "+EnvName(o.name)+")")
	}
	fs.Usage = func() {}
	return fs
}

// Parse parses args for a command. Environment variables are applied first,
// then the command line. It returns flag.ErrHelp for -h/--help.
func Parse(fs *flag.FlagSet, args []string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(EnvName(f.Name)); ok && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %v", EnvName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%v (see '%s --help')", err, fs.Name())
	}
	return nil
}

// Usage writes the help of a command: its synopsis and a table of its options.
func Usage(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "usage: %s\n\noptions:\n", synopsis)
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if o := lookup(f.Name); o.secret {
			def = ""
		}
		if def != "" {
			def = " (default " + def + ")"
		}
		fmt.Fprintf(w, "  --%-18s %s%s\n", f.Name, f.Usage, def)
	})
}

func lookup(name string) option {
	for _, o := range options {
		if o.name == name {
			return o
		}
	}
	panic("config: no option named " + name)
}

// Validate checks the settings a server or command needs before it opens
// anything, so that a bad value is reported in one clear line.
func (c *Config) Validate() error {
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" && u.Query().Get("host") == "" {
			return fmt.Errorf("--database %q: want postgres://user:password@host:port/dbname (or empty for SQLite)", Redact(c.DatabaseURL))
		}
	}
	if c.BlobsURL != "" {
		u, err := url.Parse(c.BlobsURL)
		if err != nil || u.Scheme != "s3" || u.Host == "" || u.Query().Get("endpoint") == "" {
			return fmt.Errorf("--blobs %q: want s3://bucket?endpoint=host:port (or empty for files in --data)", c.BlobsURL)
		}
	}
	if c.DataDir == "" {
		return errors.New("--data must name a directory")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "auto", "json", "text":
	default:
		return fmt.Errorf("--log-format %q: want auto, json or text", c.LogFormat)
	}
	if c.MaxBodyBytes <= 0 {
		return fmt.Errorf("--max-body %d: must be positive", c.MaxBodyBytes)
	}
	if c.MemoryLimit < 0 {
		return fmt.Errorf("--memory-limit %d: want a number of bytes, or 0 for Go's defaults", c.MemoryLimit)
	}
	if c.MaxDocument <= 0 {
		return fmt.Errorf("--max-document %d: must be positive", c.MaxDocument)
	}
	return nil
}

// SQLitePath is where the embedded database lives.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "carnet.db") }

// BlobDir is where the embedded blob store keeps its files.
func (c *Config) BlobDir() string { return filepath.Join(c.DataDir, "blobs") }

// MasterKeyPath is the key file used when no master key is given.
func (c *Config) MasterKeyPath() string { return filepath.Join(c.DataDir, "master.key") }

// Redact hides the password of a URL so it never reaches a log or stderr.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
