// Package webhook verifies and parses the moderation service's webhooks
// for both package moderation and package moderation/hive (which
// re-exports it), so that neither imports the other's implementation.
package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// DefaultTolerance is how far a webhook's timestamp may be from now when
// Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// msThreshold separates Unix seconds from Unix milliseconds: a timestamp
// above it is in milliseconds (10^11 seconds is the year 5138; 10^11
// milliseconds is 1973).
const msThreshold = 100_000_000_000

func invalid(format string, args ...any) error {
	return rv.ErrInvalidSignature.WithKind(rv.KindUnauthenticated).WithMessage(format, args...)
}

// Verify checks a webhook: signature is the hex HMAC-SHA256 of body with
// secret, optionally prefixed "sha256=", and timestamp, Unix seconds or
// milliseconds, is within tolerance of now (DefaultTolerance when
// tolerance is not positive). Any failure is rendezvous.ErrInvalidSignature
// with KindUnauthenticated and a message that says which.
func Verify(secret string, body []byte, signature, timestamp string, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if secret == "" {
		return invalid("no webhook secret is configured")
	}
	timestamp = strings.TrimSpace(timestamp)
	if timestamp == "" {
		return invalid("the webhook timestamp is missing")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || ts <= 0 {
		return invalid("the webhook timestamp is not Unix seconds or milliseconds")
	}
	var at time.Time
	if ts > msThreshold {
		at = time.UnixMilli(ts)
	} else {
		at = time.Unix(ts, 0)
	}
	if d := now.Sub(at); d > tolerance || d < -tolerance {
		return invalid("the webhook timestamp is more than %v away from now", tolerance)
	}
	signature = strings.TrimSpace(signature)
	if len(signature) > len("sha256=") && strings.EqualFold(signature[:len("sha256=")], "sha256=") {
		signature = signature[len("sha256="):]
	}
	if signature == "" {
		return invalid("the webhook signature is missing")
	}
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return invalid("the webhook signature is not a hex HMAC-SHA256")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return invalid("the webhook signature does not match its body")
	}
	return nil
}

// Payload is what moderation reads of a verified webhook; every other
// field is ignored.
type Payload struct {
	// SessionID is the call's session id ("sessionId"), required.
	SessionID string `json:"sessionId"`
	// UserID is the offender ("userId"); empty when the service does not
	// say, and then both participants are.
	UserID string `json:"userId,omitempty"`
	// Violation is "violation": true.
	Violation bool `json:"violation,omitempty"`
	// Action and Event are "action" and "event", as sent.
	Action string `json:"action,omitempty"`
	Event  string `json:"event,omitempty"`
	// Labels are the string elements of "labels"; other elements are
	// ignored.
	Labels []string `json:"labels,omitempty"`
	// Severity is "severity", a string or a number as text.
	Severity string `json:"severity,omitempty"`
	// Reason is "reason".
	Reason string `json:"reason,omitempty"`
}

// IsViolation reports whether p reports a violation: "violation": true,
// an action or event "violation" (in any case), or at least one label.
func (p Payload) IsViolation() bool {
	return p.Violation || strings.EqualFold(p.Action, "violation") || strings.EqualFold(p.Event, "violation") || len(p.Labels) > 0
}

// ErrBody is returned by Parse for a body that is not a JSON object with
// a sessionId; its callers turn it into their feature's error.
var ErrBody = errors.New("the webhook body is not a JSON object with a sessionId")

// Parse reads a webhook body leniently: unknown fields are ignored, and a
// known field of an unexpected type is treated as absent (labels keep
// their string elements only). It returns an error wrapping ErrBody when
// the body is not a JSON object or has no non-empty string sessionId.
func Parse(body []byte) (Payload, error) {
	var raw map[string]json.RawMessage
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return Payload{}, ErrBody
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Payload{}, errors.Join(ErrBody, err)
	}
	var p Payload
	p.SessionID = str(raw["sessionId"])
	if p.SessionID == "" {
		return Payload{}, ErrBody
	}
	p.UserID = str(raw["userId"])
	_ = json.Unmarshal(raw["violation"], &p.Violation)
	p.Action = str(raw["action"])
	p.Event = str(raw["event"])
	p.Reason = str(raw["reason"])
	p.Severity = str(raw["severity"])
	if p.Severity == "" {
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(raw["severity"]))
		d.UseNumber()
		if d.Decode(&n) == nil {
			p.Severity = n.String()
		}
	}
	var labels []json.RawMessage
	if json.Unmarshal(raw["labels"], &labels) == nil {
		for _, l := range labels {
			if s := str(l); s != "" {
				p.Labels = append(p.Labels, s)
			}
		}
	}
	return p, nil
}

// str returns the JSON string in v, trimmed, or "" when v is not one.
func str(v json.RawMessage) string {
	var s string
	if len(v) == 0 || json.Unmarshal(v, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}
