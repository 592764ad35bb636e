package document

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/carnet-sante/carnet/internal/blob"
)

// canonicalBase is the base of the canonical URLs carnet defines itself,
// the same as the identity package's (docs/EXTENSIONS.md).
const canonicalBase = "https://carnet-sante.github.io/fhir"

// ExtBlob is the extension that stands for the bytes of a stored Binary:
// on Binary._data (the data element, present by its extension only), it
// says where the vault keeps them — sub-extensions key (valueString, the
// vault key "<patient>/<SHA-256 hex>"), size (valueUnsignedInt), sha1 and
// sha256 (valueBase64Binary). The store thus keeps the metadata and the
// vault the bytes, encrypted under the patient's key; ITI-68 puts them
// back together.
const ExtBlob = canonicalBase + "/StructureDefinition/document-blob"

// pointer is a decoded ExtBlob.
type pointer struct {
	key          string
	size         int64
	sha1, sha256 []byte
}

// pointerBinary returns the Binary stored for a document: its media type,
// its patient (securityContext, which files it under that patient's key),
// and the pointer to its bytes.
func pointerBinary(contentType, patientID string, ref blob.Ref) map[string]any {
	return map[string]any{
		"resourceType":    "Binary",
		"contentType":     contentType,
		"securityContext": map[string]any{"reference": "Patient/" + patientID},
		"_data": map[string]any{"extension": []any{map[string]any{
			"url": ExtBlob,
			"extension": []any{
				map[string]any{"url": "key", "valueString": ref.Key},
				map[string]any{"url": "size", "valueUnsignedInt": json.Number(strconv.FormatInt(ref.Size, 10))},
				map[string]any{"url": "sha1", "valueBase64Binary": base64.StdEncoding.EncodeToString(ref.SHA1[:])},
				map[string]any{"url": "sha256", "valueBase64Binary": base64.StdEncoding.EncodeToString(ref.SHA256[:])},
			},
		}}},
	}
}

// readPointer reads the pointer of a stored Binary; ok is false for a
// Binary without one.
func readPointer(bin map[string]any) (p pointer, ok bool, err error) {
	for _, e := range objects(object(bin, "_data"), "extension") {
		if str(e.m, "url") != ExtBlob {
			continue
		}
		for _, sub := range objects(e.m, "extension") {
			switch str(sub.m, "url") {
			case "key":
				p.key = str(sub.m, "valueString")
			case "size":
				p.size, err = strconv.ParseInt(fmt.Sprint(sub.m["valueUnsignedInt"]), 10, 64)
			case "sha1":
				p.sha1, err = base64.StdEncoding.DecodeString(str(sub.m, "valueBase64Binary"))
			case "sha256":
				p.sha256, err = base64.StdEncoding.DecodeString(str(sub.m, "valueBase64Binary"))
			}
			if err != nil {
				return p, true, fmt.Errorf("document-blob extension, %s: %v", str(sub.m, "url"), err)
			}
		}
		if p.key == "" || len(p.sha256) == 0 {
			return p, true, fmt.Errorf("document-blob extension without key or sha256")
		}
		return p, true, nil
	}
	return p, false, nil
}

// etag is the strong entity tag of a document's bytes: their SHA-256.
func (p pointer) etag() string { return `"` + hex.EncodeToString(p.sha256) + `"` }
