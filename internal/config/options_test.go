package config_test

import (
	"testing"

	"github.com/carnet-sante/carnet/internal/config"
)

// TestPrecedence: flag beats environment beats default.
func TestPrecedence(t *testing.T) {
	tests := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"default", "", nil, "127.0.0.1:8080"},
		{"environment", "0.0.0.0:9000", nil, "0.0.0.0:9000"},
		{"flag over environment", "0.0.0.0:9000", []string{"--addr", ":7000"}, ":7000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("CARNET_ADDR", tt.env)
			}
			var c config.Config
			fs := config.FlagSet("carnet serve", &c, "addr")
			if err := config.Parse(fs, tt.args); err != nil {
				t.Fatal(err)
			}
			if c.Addr != tt.want {
				t.Errorf("addr = %q, want %q", c.Addr, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		valid bool
	}{
		{"defaults", nil, true},
		{"postgres URL", []string{"--database", "postgres://u:p@db:5432/carnet"}, true},
		{"other scheme", []string{"--database", "mysql://db/carnet"}, false},
		{"s3 URL", []string{"--blobs", "s3://docs?endpoint=s3:7070"}, true},
		{"s3 without endpoint", []string{"--blobs", "s3://docs"}, false},
		{"bad log level", []string{"--log-level", "loud"}, false},
		{"negative body cap", []string{"--max-body", "-1"}, false},
		{"document cap", []string{"--max-document", "1048576"}, true},
		{"zero document cap", []string{"--max-document", "0"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c config.Config
			fs := config.FlagSet("carnet serve", &c, "database", "blobs", "log-level", "max-body", "max-document")
			if err := config.Parse(fs, tt.args); err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); (err == nil) != tt.valid {
				t.Errorf("Validate() = %v, want valid=%v", err, tt.valid)
			}
		})
	}
}

func TestRedactHidesPassword(t *testing.T) {
	got := config.Redact("postgres://carnet:s3cret@db/carnet")
	if got != "postgres://carnet:xxxxx@db/carnet" {
		t.Errorf("Redact = %q", got)
	}
}

func TestBadEnvironmentValue(t *testing.T) {
	t.Setenv("CARNET_DEMO", "maybe")
	var c config.Config
	if err := config.Parse(config.FlagSet("carnet serve", &c, "demo"), nil); err == nil {
		t.Error("CARNET_DEMO=maybe accepted")
	}
}
