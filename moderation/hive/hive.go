package hive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/moderation/internal/webhook"
)

var _ moderation.Submitter = (*Client)(nil)

// DefaultTimeout bounds each request to the moderation service when
// Config.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// Config configures a Client.
type Config struct {
	// StreamURL receives a starting call's stream submission. Required: an
	// absolute http or https URL.
	StreamURL string
	// ScreenshotURL, when set, receives the fallback screenshot-mode
	// submission after the stream submission failed.
	ScreenshotURL string
	// APIKey is sent as "Authorization: Bearer <APIKey>". Required.
	APIKey string
	// HTTPClient sends the requests. Default: a new http.Client.
	HTTPClient *http.Client
	// Timeout bounds each request. Default DefaultTimeout (2 s).
	Timeout time.Duration
}

// Client submits calls to the moderation service: it implements
// moderation.Submitter. Create one with New; it is safe for concurrent
// use.
type Client struct {
	cfg Config
}

func checkURL(name, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("hive: Config.%s %q is not an absolute http or https URL", name, s)
	}
	return nil
}

// New returns a Client for cfg, or an error when StreamURL or APIKey is
// missing or a URL is not an absolute http or https URL.
func New(cfg Config) (*Client, error) {
	if cfg.StreamURL == "" {
		return nil, errors.New("hive: Config.StreamURL is required")
	}
	if err := checkURL("StreamURL", cfg.StreamURL); err != nil {
		return nil, err
	}
	if cfg.ScreenshotURL != "" {
		if err := checkURL("ScreenshotURL", cfg.ScreenshotURL); err != nil {
			return nil, err
		}
	}
	if cfg.APIKey == "" {
		return nil, errors.New("hive: Config.APIKey is required")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("hive: Config.Timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	return &Client{cfg: cfg}, nil
}

// streamRequest is the body of the stream submission.
type streamRequest struct {
	SessionID   string `json:"sessionId"`
	Channel     string `json:"channel"`
	AppID       string `json:"appId"`
	UID         uint32 `json:"uid"`
	Token       string `json:"token"`
	NoRecording bool   `json:"noRecording"`
}

// screenshotRequest is the body of the fallback submission: no
// credentials, the service takes screenshots of the channel.
type screenshotRequest struct {
	SessionID string `json:"sessionId"`
	Channel   string `json:"channel"`
	AppID     string `json:"appId"`
}

// Submit implements moderation.Submitter: it POSTs the stream submission
// (the bot's subscriber-only uid and token, "noRecording": true) to
// StreamURL; when that fails (a transport error, a timeout or a non-2xx
// answer) and ScreenshotURL is set, it POSTs the screenshot submission
// there. It returns nil when one of them succeeded, else an error that
// names every failure.
func (c *Client) Submit(ctx context.Context, s moderation.StreamSubmission) error {
	err := c.post(ctx, c.cfg.StreamURL, streamRequest{
		SessionID: s.SessionID, Channel: s.Channel, AppID: s.AppID, UID: s.UID, Token: s.Token, NoRecording: true,
	})
	if err == nil {
		return nil
	}
	err = fmt.Errorf("hive: stream submission of session %s: %w", s.SessionID, err)
	if c.cfg.ScreenshotURL == "" || ctx.Err() != nil {
		return err
	}
	ferr := c.post(ctx, c.cfg.ScreenshotURL, screenshotRequest{SessionID: s.SessionID, Channel: s.Channel, AppID: s.AppID})
	if ferr == nil {
		return nil
	}
	return errors.Join(err, fmt.Errorf("hive: screenshot submission of session %s: %w", s.SessionID, ferr))
}

func (c *Client) post(ctx context.Context, endpoint string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s: %s", endpoint, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Payload is what moderation reads of a verified webhook body: see Parse.
type Payload = webhook.Payload

// DefaultTolerance is how far a webhook's timestamp may be from now when
// Verify is given no tolerance (5 minutes).
const DefaultTolerance = webhook.DefaultTolerance

// Verify checks a webhook of the moderation service before anything reads
// its body: signature is the hex HMAC-SHA256 of the raw body with secret
// (an optional "sha256=" prefix is accepted, the comparison is constant
// time), and timestamp, required, is Unix seconds or milliseconds (told
// apart by magnitude) within tolerance of now (DefaultTolerance when
// tolerance is not positive). Any failure, an empty secret included, is
// an error that matches rendezvous.ErrInvalidSignature with errors.Is,
// of KindUnauthenticated (HTTP 401), whose message says which check
// failed.
func Verify(secret string, body []byte, signature, timestamp string, now time.Time, tolerance time.Duration) error {
	return webhook.Verify(secret, body, signature, timestamp, now, tolerance)
}

// Parse reads a verified webhook body: a JSON object with "sessionId"
// (required) and optionally "userId", "violation", "action", "event",
// "labels", "severity" and "reason". It is lenient, as the JSON is a third
// party's: unknown fields are ignored, a known field of an unexpected
// type is treated as absent, and only the string elements of "labels" are
// kept (objects in it are ignored). A body that is not a JSON object, or
// has no non-empty string sessionId, is moderation.ErrInvalidWebhookBody.
func Parse(body []byte) (Payload, error) {
	p, err := webhook.Parse(body)
	if err != nil {
		return Payload{}, moderation.ErrInvalidWebhookBody.WithMessage("the moderation webhook body is not a JSON object with a sessionId").Wrap(err)
	}
	return p, nil
}
