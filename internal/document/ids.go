package document

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

// The ids the service gives what it creates are derived from what
// identifies them, so that two requests creating the same thing at once
// pick the same id, and the store lets only one of them create it (the
// other meets a version conflict and, retried, finds it).

// lower32 encodes ids: lower-case base 32, no padding.
var lower32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func hashID(prefix string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + strings.ToLower(lower32.EncodeToString(h[:20]))
}

// documentID is the id of the DocumentReference of a document: from its
// unique id (masterIdentifier), so that the same document deposited twice
// at once is still one.
func documentID(system, value string) string { return hashID("d", "DocumentReference", system, value) }

// listID is the id of a SubmissionSet or Folder from its unique id.
func listID(system, value string) string { return hashID("l", "List", system, value) }

// binaryID is the id of the Binary of a patient's document bytes: from
// the patient and the SHA-256 of the bytes, like the vault key, so that a
// retried deposit finds its Binary.
func binaryID(patientID string, sha256 [32]byte) string {
	return hashID("b", "Binary", patientID, string(sha256[:]))
}

// patientID is the id of the Patient created on a first deposit for an
// INS: a keyed hash of it, so that the id tells nothing of the INS to
// whoever sees it, yet two first deposits at once create one Patient.
func (s *Service) patientID(system, value string) string {
	m := hmac.New(sha256.New, s.opt.PatientIDKey)
	m.Write([]byte(system + "|" + value))
	return "p" + strings.ToLower(lower32.EncodeToString(m.Sum(nil)[:20]))
}

// uuidOf derives a version 4 UUID from an id, for the uniqueId of a
// SubmissionSet the service creates.
func uuidOf(id string) string {
	h := sha256.Sum256([]byte(id))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
}
