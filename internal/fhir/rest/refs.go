package rest

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

// rewriter rewrites the references of a resource about to be stored, so
// that the store only holds references it can follow:
//   - absolute references to this server's base become relative
//     ("https://host/fhir/Patient/1" → "Patient/1"), the form the patient
//     compartment and the search index recognise;
//   - in a transaction, the fullUrl of another entry (urn:uuid:…) becomes
//     the Type/id the server gave it, in every reference and url element
//     and in the narrative's links;
//   - a conditional reference ("Patient?identifier=sys|val") becomes the
//     one resource it matches (400 when none does, 412 when several do).
//
// Walking every element anyway, it also refuses strings holding U+0000.
type rewriter struct {
	h    *Handler
	ctx  context.Context
	rd   reader
	base string
	// ids maps the fullUrls of a transaction's entries to Type/id; nil
	// outside a transaction.
	ids map[string]string
	// resolved caches conditional references already resolved.
	resolved map[string]string
}

func (h *Handler) rewriter(ctx context.Context, rd reader, base string, ids map[string]string) *rewriter {
	return &rewriter{h: h, ctx: ctx, rd: rd, base: base, ids: ids, resolved: map[string]string{}}
}

// rewrite rewrites the references of res, a resource of type typ, in
// place (contained resources and extensions included).
func (rw *rewriter) rewrite(typ string, res map[string]any) error {
	return rw.walk(res, []string{typ})
}

func (rw *rewriter) walk(node any, path []string) error {
	switch n := node.(type) {
	case string:
		return checkString(n, path)
	case map[string]any:
		for k, v := range n {
			s, ok := v.(string)
			if !ok {
				if err := rw.walk(v, append(path, k)); err != nil {
					return err
				}
				continue
			}
			if err := checkString(s, append(path, k)); err != nil {
				return err
			}
			switch {
			case k == "reference":
				ref, err := rw.reference(s, append(path, k))
				if err != nil {
					return err
				}
				n[k] = ref
			case k == "url":
				if id, ok := rw.ids[s]; ok {
					n[k] = id
				}
			case k == "div" && len(rw.ids) > 0 && strings.Contains(s, "urn:"):
				n[k] = rw.narrative(s)
			}
		}
	case []any:
		for i, v := range n {
			p := append([]string(nil), path...)
			p[len(p)-1] += "[" + strconv.Itoa(i) + "]"
			if err := rw.walk(v, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkString refuses a string holding U+0000: FHIR strings should hold
// no control character, and this one no database text column can store.
func checkString(s string, path []string) error {
	if strings.IndexByte(s, 0) < 0 {
		return nil
	}
	at := strings.Join(path, ".")
	return &Error{Status: http.StatusBadRequest, Issues: []Issue{{Severity: "error", Code: "value",
		Diagnostics: at + ": the string contains a NUL character (\\u0000), which FHIR strings cannot hold", Expression: []string{at}}}}
}

// reference rewrites one Reference.reference found at path.
func (rw *rewriter) reference(ref string, path []string) (string, error) {
	if id, ok := rw.ids[ref]; ok {
		return id, nil
	}
	// A relative reference names the entry whose fullUrl is this
	// server's URL of it (FHIR R4 bundle.html#references).
	if id, ok := rw.ids[rw.base+"/"+ref]; ok && !strings.Contains(ref, ":") {
		return id, nil
	}
	if rel, ok := strings.CutPrefix(ref, rw.base+"/"); ok {
		if id, ok := rw.ids[ref]; ok {
			return id, nil
		}
		ref = rel
	}
	at := strings.Join(path, ".")
	switch {
	case strings.HasPrefix(ref, "urn:uuid:") && rw.ids != nil:
		return "", &Error{Status: http.StatusBadRequest, Issues: []Issue{{Severity: "error", Code: "not-found",
			Diagnostics: at + ": " + ref + " is not the fullUrl of any entry of the Bundle", Expression: []string{at}}}}
	case strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "urn:") || strings.Contains(ref, "://"):
		return ref, nil
	}
	typ, query, conditional := strings.Cut(ref, "?")
	if !conditional {
		return ref, nil
	}
	if id, ok := rw.resolved[ref]; ok {
		return id, nil
	}
	id, err := rw.conditional(typ, query, at)
	if err != nil {
		return "", err
	}
	rw.resolved[ref] = id
	return id, nil
}

// conditional resolves the conditional reference typ?query found at at.
func (rw *rewriter) conditional(typ, query, at string) (string, error) {
	fail := func(status int, code, format string, args ...any) error {
		e := NewError(status, code, at+": "+format, args...)
		e.Issues[0].Expression = []string{at}
		return e
	}
	if !searchparam.IsResourceType(typ) {
		return "", fail(http.StatusBadRequest, "invalid", "the conditional reference %s?%s does not start with a resource type", typ, query)
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return "", fail(http.StatusBadRequest, "invalid", "malformed conditional reference %s?%s: %v", typ, query, err)
	}
	found, err := rw.h.matches(rw.ctx, rw.rd, typ, params, rw.base, "conditional reference")
	switch {
	case err != nil:
		if e := asError(err); e != nil {
			return "", prefixed(e, at+": ")
		}
		return "", err
	case len(found) == 0:
		return "", fail(http.StatusBadRequest, "not-found", "the conditional reference %s?%s matches no resource", typ, query)
	case len(found) > 1:
		return "", fail(http.StatusPreconditionFailed, "multiple-matches", "the conditional reference %s?%s matches several resources", typ, query)
	}
	return typ + "/" + found[0].ID, nil
}

// narrative rewrites the links of an XHTML narrative that point to other
// entries of the transaction.
func (rw *rewriter) narrative(div string) string {
	for from, to := range rw.ids {
		if strings.HasPrefix(from, "urn:") && strings.Contains(div, from) {
			div = strings.ReplaceAll(div, `"`+from+`"`, `"`+to+`"`)
		}
	}
	return div
}
