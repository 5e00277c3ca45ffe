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
)

// MaxBodyBytes bounds REST request bodies.
const MaxBodyBytes = 16 << 10

// WriteJSON writes v as a JSON response with status, not cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// DecodeBody reads one JSON object into dst: unknown fields, keys that
// differ from a field's exact name (JSON keys are case-sensitive here,
// unlike encoding/json), duplicate keys, invalid UTF-8, trailing data,
// wrong types, a non-JSON content type and bodies over MaxBodyBytes are
// errors of KindInvalid. An empty body decodes as {}.
func DecodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return ErrInvalidBody.WithMessage("Content-Type must be application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
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
