// Package identity holds the platform's rules on identities, applied to
// every write of the FHIR API (see rest.Rule):
//
//   - Patient: INS identifiers checked under their OID's policy, one INS
//     for one patient, the identity status of the identitovigilance
//     framework (only a qualified identity carries the INS), possible
//     duplicates flagged DOUB, and the lifecycle of the record (open,
//     objected, closed, reopened);
//   - RelatedPerson: the legal representatives of a patient;
//   - Practitioner, PractitionerRole, Organization: the national
//     identifiers of professionals and structures (RPPS, ADELI, IdNatPS,
//     FINESS, SIRET, IdNatStruct), profession and specialty codes.
//
// The rules themselves are pure functions of the resource, its previous
// version and what a search in the write's transaction finds; the
// identifiers' syntax lives in the ins and directory packages. What the
// platform adds to the FHIR resources (extensions, tags) is described in
// docs/EXTENSIONS.md; what it enforces and what it only warns about, in
// docs/IDENTITY.md.
package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/ins"
	"github.com/carnet-sante/carnet/internal/terminology"
)

// CanonicalBase is the base of the canonical URLs of what carnet defines
// itself (extensions, code systems), where no national or international
// definition exists.
const CanonicalBase = "https://carnet-sante.github.io/fhir"

// Canonical URLs defined by carnet (docs/EXTENSIONS.md).
const (
	// ExtRecordStatus is the Patient extension carrying the state of the
	// patient's record: sub-extensions status (code), date (dateTime),
	// reason (string).
	ExtRecordStatus = CanonicalBase + "/StructureDefinition/record-status"
	// SystemDuplicateKey is the meta.tag system of the duplicate blocking
	// key: a keyed hash of the birth name, birth date, sex and birthplace,
	// never the traits themselves, so that possible duplicates are found
	// by an indexed _tag search.
	SystemDuplicateKey = CanonicalBase + "/CodeSystem/duplicate-key"
)

// TagDuplicate is the meta.tag that mirrors the DOUB attribute of the FR
// Core identity-reliability extension, so that the patients to review
// are found by a search: _tag=<system>|DOUB.
var TagDuplicate = struct{ System, Code string }{ins.CodeSystemIdentityStatusComment, string(ins.AttrDuplicate)}

// Options configure the rules.
type Options struct {
	// DuplicateKeySecret keys the hash of the duplicate blocking key, so
	// that the tag cannot be recomputed from guessed traits by whoever
	// reads it. It must stay the same for the life of the data (the app
	// derives it from the master key); empty is only for tests.
	DuplicateKeySecret []byte
	// Directory checks the identifiers of professionals and structures;
	// its Skip fields switch off the RPPS, ADELI and FINESS keys.
	Directory directory.Validator
	// Terminology, when not nil, holds the value set J01
	// (XdsAuthorSpecialty), whose "G15_<profession>" and
	// "G15_<profession>/<specialty>" codes are the reference for the
	// profession and specialty codes of a PractitionerRole. Nil: those
	// codes are not checked.
	Terminology *terminology.Catalog
}

// Rules returns the identity rules by resource type, for rest.Options.Rules.
func Rules(opt Options) map[string][]rest.Rule {
	p := &patientRule{secret: opt.DuplicateKeySecret}
	d := &directoryRule{v: opt.Directory, codes: newProfessionCodes(opt.Terminology)}
	return map[string][]rest.Rule{
		"Patient":          {p},
		"RelatedPerson":    {rest.RuleFunc(relatedPersonRule)},
		"Practitioner":     {d},
		"PractitionerRole": {d},
		"Organization":     {d},
	}
}

// duplicateCode returns the tag code of a duplicate blocking key: the
// first 128 bits of its HMAC-SHA-256, in hex.
func duplicateCode(secret []byte, key string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
