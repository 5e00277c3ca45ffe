package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"
)

// MaxBodyBytes bounds REST request bodies.
const MaxBodyBytes = 16 << 10

// The header values of every JSON response, shared: net/http only reads
// them, and their capacity of one makes an Add copy rather than write into
// them.
var (
	jsonContentType = []string{"application/json; charset=utf-8"}[:1:1]
	noStore         = []string{"no-store"}[:1:1]
)

// WriteJSON writes v as a JSON response with status, not cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// DecodeBody reads one JSON object into dst: unknown fields, keys that
// differ from a field's exact name (JSON keys are case-sensitive here,
// unlike encoding/json), duplicate keys, invalid UTF-8, trailing data,
// wrong types, a non-JSON content type and bodies over MaxBodyBytes are
// errors of KindInvalid. An empty body decodes as {}.
func DecodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return ErrInvalidBody.WithMessage("Content-Type must be application/json")
		}
	}
	buf := bodyBuffers.Get().(*[]byte)
	defer bodyBuffers.Put(buf)
	body, err := readBody(http.MaxBytesReader(w, r.Body, MaxBodyBytes), (*buf)[:0])
	*buf = body[:0]
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ErrBodyTooLarge.WithMessage("the request body must be at most %d bytes", MaxBodyBytes)
		}
		return ErrInvalidBody.WithMessage("the request body could not be read")
	}
	if len(bytes.TrimLeft(body, " \t\r\n")) == 0 {
		body = []byte("{}")
	}
	return DecodeStrict(body, dst)
}

// bodyBuffers hold the request bodies being decoded: DecodeStrict keeps
// nothing of its input, so a body's buffer serves the next one.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// readBody appends all of rd to b, as io.ReadAll does.
func readBody(rd io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
	}
}

// DecodeStrict decodes one JSON value into dst with the rules of
// DecodeBody: checkStrict first, then encoding/json with unknown fields
// and trailing data rejected.
func DecodeStrict(data []byte, dst any) error {
	serr := checkStrict(data, reflect.TypeOf(dst))
	if serr != nil && serr != errMalformed {
		return serr
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeJSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrInvalidBody.WithMessage("the request body must hold a single JSON object")
	}
	if serr != nil {
		// The scan found the JSON malformed where encoding/json did not:
		// refuse rather than accept what was not checked.
		return ErrInvalidBody.WithMessage("malformed JSON")
	}
	return nil
}

// decodeJSONError turns a decoding error into a client-facing message.
func decodeJSONError(err error) error {
	if err == nil {
		return nil
	}
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return ErrBodyTooLarge.WithMessage("the request body must be at most %d bytes", MaxBodyBytes)
	case errors.As(err, &se):
		return ErrInvalidBody.WithMessage("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &ute):
		if ute.Field == "" {
			return ErrInvalidBody.WithMessage("the request body must be a JSON object")
		}
		return ErrInvalidBody.WithMessage("field %q must be of type %s", clip(ute.Field), jsonType(ute.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ErrInvalidBody.WithMessage("malformed JSON: unexpected end of body")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return ErrInvalidBody.WithMessage("unknown field %s", clip(strings.TrimPrefix(err.Error(), "json: unknown field ")))
	}
	return ErrInvalidBody.WithMessage("%s", clip(strings.TrimPrefix(fmt.Sprint(err), "json: ")))
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "float64", "uint", "ptr":
		return "number"
	case "slice", "array":
		return "array"
	}
	return "object"
}
