package document

import (
	"log/slog"
	"net/http"

	"github.com/carnet-sante/carnet/internal/blob"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/terminology"
)

// DefaultMaxSize is the largest document accepted when Options.MaxSize is
// not set: 20 MiB, decoded.
const DefaultMaxSize = 20 << 20

// Options configure the Service.
type Options struct {
	// MaxSize caps the decoded size of one document (DefaultMaxSize when
	// zero); a larger one is refused with 413.
	MaxSize int64
	// Terminology holds the national value sets the codes are checked
	// against (J07, J08, J04, J02, and J06 and J10 when present); nil:
	// codes are not checked against value sets (see docs/PDSM.md).
	Terminology *terminology.Catalog
	// RecordStatus says whether a patient's record takes deposits (the
	// identity service's opt-out rule): open, or the state and the reason
	// it does not. Nil: every record is open.
	RecordStatus func(patient map[string]any) (open bool, state, reason string)
	// PatientIDKey keys the hash that names the Patient created on a
	// first deposit from its INS (see patientID). It must not change for
	// the life of the data; the app derives it from the master key.
	PatientIDKey []byte
	// Guard decides who may read a document's bytes (ITI-68), as it does
	// for the rest of the API; nil allows everything.
	Guard rest.Guard
	// Log receives internal errors (integrity failures); nil:
	// slog.Default().
	Log *slog.Logger
}

// Service is document sharing over a resource store and a blob vault. Its
// Preparer and Rules plug into the FHIR API (rest.Options); its handler
// serves the documents' bytes. It is safe for concurrent use.
type Service struct {
	store store.Resources
	vault *blob.Vault
	opt   Options
	log   *slog.Logger
}

// New returns the service over s and v.
func New(s store.Resources, v *blob.Vault, opt Options) *Service {
	if opt.MaxSize <= 0 {
		opt.MaxSize = DefaultMaxSize
	}
	if opt.RecordStatus == nil {
		opt.RecordStatus = func(map[string]any) (bool, string, string) { return true, "open", "" }
	}
	log := opt.Log
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: s, vault: v, opt: opt, log: log}
}

// Rules returns the rules of document sharing by resource type, for
// rest.Options.Rules.
func (s *Service) Rules() map[string][]rest.Rule {
	return map[string][]rest.Rule{
		"DocumentReference": {rest.RuleFunc(s.documentRule)},
		"List":              {rest.RuleFunc(s.listRule)},
		"Binary":            {rest.RuleFunc(binaryRule)},
	}
}

// Register serves the documents' bytes (ITI-68) on mux. The pattern is
// more specific than the FHIR API's, which serves every other Binary
// interaction.
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+rest.BasePath+"/Binary/{id}", s.retrieve)
}

var _ rest.Preparer = (*Service)(nil)
