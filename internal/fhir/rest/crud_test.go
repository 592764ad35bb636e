package rest_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/validate"
)

func TestMetadata(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		r := c.do(http.MethodGet, "metadata", nil).must(t, http.StatusOK)
		if issues := validate.Resource(r.json); issues != nil {
			t.Fatalf("the CapabilityStatement is invalid: %+v", issues)
		}
		var patient map[string]any
		for _, res := range at(r.json, "rest.0.resource").([]any) {
			if str(res, "type") == "Patient" {
				patient = res.(map[string]any)
			}
		}
		if patient == nil {
			t.Fatal("no Patient in the CapabilityStatement")
		}
		var params []string
		for _, p := range patient["searchParam"].([]any) {
			params = append(params, str(p, "name"))
		}
		for _, want := range []string{"birthdate", "identifier", "name", "_id", "_lastUpdated"} {
			if !strings.Contains(" "+strings.Join(params, " ")+" ", " "+want+" ") {
				t.Errorf("Patient search parameters lack %s: %v", want, params)
			}
		}
		if str(patient, "operation.0.name") != "everything" {
			t.Errorf("Patient operations: %v", patient["operation"])
		}
	})
}

func TestCreateReadUpdateDelete(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		p := patient("Martin", "1")
		p["id"] = "client-chosen"
		r := c.do(http.MethodPost, "Patient", p).must(t, http.StatusCreated)
		id := str(r.json, "id")
		if id == "" || id == "client-chosen" {
			t.Fatalf("create kept or lacks the id: %q", id)
		}
		if got, want := r.header.Get("Location"), c.base+"/Patient/"+id+"/_history/1"; got != want {
			t.Errorf("Location %q, want %q", got, want)
		}
		if r.header.Get("ETag") != `W/"1"` || r.header.Get("Last-Modified") == "" {
			t.Errorf("ETag %q, Last-Modified %q", r.header.Get("ETag"), r.header.Get("Last-Modified"))
		}
		if str(r.json, "meta.versionId") != "1" || str(r.json, "meta.lastUpdated") == "" {
			t.Errorf("meta: %v", r.json["meta"])
		}

		r = c.do(http.MethodGet, "Patient/"+id, nil).must(t, http.StatusOK)
		if str(r.json, "name.0.family") != "Martin" || r.header.Get("ETag") != `W/"1"` {
			t.Errorf("read: %s", r.body)
		}

		p = r.json
		p["gender"] = "male"
		c.do(http.MethodPut, "Patient/"+id, p, "If-Match", `W/"2"`).outcome(t, http.StatusPreconditionFailed, `W/"1"`)
		r = c.do(http.MethodPut, "Patient/"+id, p, "If-Match", `W/"1"`).must(t, http.StatusOK)
		if str(r.json, "meta.versionId") != "2" || r.header.Get("ETag") != `W/"2"` || str(r.json, "gender") != "male" {
			t.Errorf("update: %s", r.body)
		}
		r = c.do(http.MethodGet, "Patient/"+id+"/_history/1", nil).must(t, http.StatusOK)
		if str(r.json, "gender") != "female" {
			t.Errorf("vread 1: %s", r.body)
		}
		c.do(http.MethodGet, "Patient/"+id+"/_history/9", nil).outcome(t, http.StatusNotFound, "no version 9")

		c.do(http.MethodDelete, "Patient/"+id, nil).must(t, http.StatusNoContent)
		c.do(http.MethodGet, "Patient/"+id, nil).outcome(t, http.StatusGone, "deleted")
		c.do(http.MethodDelete, "Patient/"+id, nil).must(t, http.StatusNoContent)
		c.do(http.MethodDelete, "Patient/never", nil).must(t, http.StatusNoContent)
		c.do(http.MethodGet, "Patient/never", nil).outcome(t, http.StatusNotFound, "Patient/never")

		r = c.do(http.MethodGet, "Patient/"+id+"/_history", nil).must(t, http.StatusOK)
		var got []string
		for _, e := range entries(r.json) {
			got = append(got, str(e, "request.method")+" "+str(e, "response.etag"))
		}
		if strings.Join(got, ",") != `DELETE W/"3",PUT W/"2",POST W/"1"` {
			t.Errorf("history: %v", got)
		}
		r = c.do(http.MethodGet, "Patient/_history?_count=2", nil).must(t, http.StatusOK)
		if n := len(entries(r.json)); n != 2 || str(r.json, "type") != "history" {
			t.Errorf("type history: %d entries, type %s", n, str(r.json, "type"))
		}

		// Update as create, then re-create after deletion.
		p = patient("Durand", "2")
		p["id"] = "chosen"
		r = c.do(http.MethodPut, "Patient/chosen", p).must(t, http.StatusCreated)
		if r.header.Get("Location") == "" || str(r.json, "id") != "chosen" {
			t.Errorf("update as create: %s", r.body)
		}
		c.do(http.MethodDelete, "Patient/chosen", nil).must(t, http.StatusNoContent)
		r = c.do(http.MethodPut, "Patient/chosen", p).must(t, http.StatusCreated)
		if str(r.json, "meta.versionId") != "3" {
			t.Errorf("re-created at version %s, want 3", str(r.json, "meta.versionId"))
		}
	})
}

func TestPreferReturn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		r := c.do(http.MethodPost, "Patient", patient("A", "1"), "Prefer", "return=minimal").must(t, http.StatusCreated)
		if len(r.body) != 0 || r.header.Get("Location") == "" {
			t.Errorf("return=minimal: body %q, Location %q", r.body, r.header.Get("Location"))
		}
		r = c.do(http.MethodPost, "Patient", patient("A", "2"), "Prefer", "return=OperationOutcome").must(t, http.StatusCreated)
		if str(r.json, "resourceType") != "OperationOutcome" || !strings.Contains(str(r.json, "issue.0.diagnostics"), "created Patient/") {
			t.Errorf("return=OperationOutcome: %s", r.body)
		}
	})
}

func TestConditionalCreate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		r := c.do(http.MethodPost, "Patient", patient("A", "42"), "If-None-Exist", "identifier=urn:test|42").must(t, http.StatusCreated)
		id := str(r.json, "id")
		r = c.do(http.MethodPost, "Patient", patient("A", "42"), "If-None-Exist", "identifier=urn:test|42").must(t, http.StatusOK)
		if str(r.json, "id") != id || r.header.Get("ETag") != `W/"1"` {
			t.Errorf("the existing Patient was not returned: %s", r.body)
		}
		c.create(patient("B", "42"))
		c.do(http.MethodPost, "Patient", patient("A", "42"), "If-None-Exist", "identifier=urn:test|42").outcome(t, http.StatusPreconditionFailed, "several")
		c.do(http.MethodPost, "Patient", patient("A", "42"), "If-None-Exist", "unknown=1").outcome(t, http.StatusBadRequest, "unknown")
	})
}

func TestConditionalUpdateAndDelete(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		r := c.do(http.MethodPut, "Patient?identifier=urn:test|7", patient("A", "7")).must(t, http.StatusCreated)
		id := str(r.json, "id")
		r = c.do(http.MethodPut, "Patient?identifier=urn:test|7", patient("B", "7")).must(t, http.StatusOK)
		if str(r.json, "id") != id || str(r.json, "meta.versionId") != "2" {
			t.Errorf("conditional update: %s", r.body)
		}
		c.create(patient("C", "7"))
		c.do(http.MethodPut, "Patient?identifier=urn:test|7", patient("D", "7")).outcome(t, http.StatusPreconditionFailed, "several")
		c.do(http.MethodDelete, "Patient?identifier=urn:test|7", nil).outcome(t, http.StatusPreconditionFailed, "several")
		c.do(http.MethodDelete, "Patient?family=C", nil).must(t, http.StatusNoContent)
		c.do(http.MethodDelete, "Patient?identifier=urn:test|7", nil).must(t, http.StatusNoContent)
		c.do(http.MethodGet, "Patient/"+id, nil).must(t, http.StatusGone)
	})
}

// TestConcurrentUpdates updates one resource from many clients at once:
// none may get a 500, and every success is a version of its own.
func TestConcurrentUpdates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		id := c.create(patient("Concurrent", "1"))
		const writers = 12
		statuses := make([]int, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each writer writes something new: an update equal to
				// the current version writes no version.
				p := patient("Concurrent"+strconv.Itoa(i), "1")
				p["id"] = id
				statuses[i] = c.do(http.MethodPut, "Patient/"+id, p).status
			}()
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusConflict:
			default:
				t.Errorf("concurrent update answered %d", s)
			}
		}
		r := c.do(http.MethodGet, "Patient/"+id, nil).must(t, http.StatusOK)
		if want := 1 + ok; str(r.json, "meta.versionId") != strconv.Itoa(want) {
			t.Errorf("version %s after %d successful updates, want %d", str(r.json, "meta.versionId"), ok, want)
		}
		// With If-Match, exactly one of the writers that read version v wins.
		v := str(r.json, "meta.versionId")
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := patient("Concurrent"+strconv.Itoa(i), "2")
				p["id"] = id
				statuses[i] = c.do(http.MethodPut, "Patient/"+id, p, "If-Match", `W/"`+v+`"`).status
			}()
		}
		wg.Wait()
		ok = 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusPreconditionFailed, http.StatusConflict:
			default:
				t.Errorf("concurrent update with If-Match answered %d", s)
			}
		}
		if ok != 1 {
			t.Errorf("%d updates with the same If-Match succeeded, want 1", ok)
		}
	})
}
