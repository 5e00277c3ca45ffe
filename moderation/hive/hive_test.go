package hive_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/moderation/hive"
)

// fakeHive is a moderation service that records what it receives.
type fakeHive struct {
	t      *testing.T
	mu     sync.Mutex
	got    []received
	status map[string]int // path → status; 0 means 200
	hang   map[string]bool
}

type received struct {
	Path   string
	Auth   string
	Type   string
	Method string
	Body   map[string]any
}

func newFakeHive(t *testing.T) (*fakeHive, *httptest.Server) {
	f := &fakeHive{t: t, status: map[string]int{}, hang: map[string]bool{}}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("the body %q is not a JSON object: %v", b, err)
		}
		f.mu.Lock()
		f.got = append(f.got, received{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Type: r.Header.Get("Content-Type"), Method: r.Method, Body: body})
		status, hang := f.status[r.URL.Path], f.hang[r.URL.Path]
		f.mu.Unlock()
		if hang {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		if status != 0 {
			http.Error(w, "refused", status)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return f, srv
}

func (f *fakeHive) received() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

var sub = moderation.StreamSubmission{SessionID: "s1", Channel: "ch-1", AppID: "app-9", UID: 4000000001, Token: "bot-token"}

func newClient(t *testing.T, srv *httptest.Server, screenshot bool, timeout time.Duration) *hive.Client {
	t.Helper()
	cfg := hive.Config{StreamURL: srv.URL + "/stream", APIKey: "key-1", HTTPClient: srv.Client(), Timeout: timeout}
	if screenshot {
		cfg.ScreenshotURL = srv.URL + "/screenshot"
	}
	c, err := hive.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSubmitStream(t *testing.T) {
	f, srv := newFakeHive(t)
	if err := newClient(t, srv, true, 0).Submit(context.Background(), sub); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	got := f.received()
	if len(got) != 1 {
		t.Fatalf("received %d requests, want 1: %+v", len(got), got)
	}
	r := got[0]
	if r.Method != http.MethodPost || r.Path != "/stream" || r.Auth != "Bearer key-1" || r.Type != "application/json" {
		t.Errorf("request = %s %s, Authorization %q, Content-Type %q", r.Method, r.Path, r.Auth, r.Type)
	}
	want := map[string]any{"sessionId": "s1", "channel": "ch-1", "appId": "app-9", "uid": float64(4000000001), "token": "bot-token", "noRecording": true}
	if len(r.Body) != len(want) {
		t.Errorf("body = %v, want %v", r.Body, want)
	}
	for k, v := range want {
		if r.Body[k] != v {
			t.Errorf("body[%q] = %v, want %v", k, r.Body[k], v)
		}
	}
}

func TestSubmitFallsBackToScreenshots(t *testing.T) {
	for _, c := range []struct {
		name string
		fail func(f *fakeHive)
	}{
		{"Status", func(f *fakeHive) { f.status["/stream"] = http.StatusBadGateway }},
		{"Timeout", func(f *fakeHive) { f.hang["/stream"] = true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, srv := newFakeHive(t)
			c.fail(f)
			if err := newClient(t, srv, true, 100*time.Millisecond).Submit(context.Background(), sub); err != nil {
				t.Fatalf("Submit: %v", err)
			}
			got := f.received()
			if len(got) != 2 || got[0].Path != "/stream" || got[1].Path != "/screenshot" {
				t.Fatalf("received %+v, want the stream then the screenshot submission", got)
			}
			r := got[1]
			if r.Auth != "Bearer key-1" {
				t.Errorf("screenshot Authorization = %q", r.Auth)
			}
			want := map[string]any{"sessionId": "s1", "channel": "ch-1", "appId": "app-9"}
			if len(r.Body) != len(want) || r.Body["sessionId"] != "s1" || r.Body["channel"] != "ch-1" || r.Body["appId"] != "app-9" {
				t.Errorf("screenshot body = %v, want %v (no credentials)", r.Body, want)
			}
		})
	}
}

func TestSubmitFails(t *testing.T) {
	t.Run("BothFail", func(t *testing.T) {
		f, srv := newFakeHive(t)
		f.status["/stream"] = http.StatusInternalServerError
		f.hang["/screenshot"] = true
		err := newClient(t, srv, true, 100*time.Millisecond).Submit(context.Background(), sub)
		if err == nil {
			t.Fatal("Submit succeeded though both submissions failed")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v does not carry the screenshot timeout", err)
		}
		if len(f.received()) != 2 {
			t.Errorf("received %d requests, want 2", len(f.received()))
		}
	})
	t.Run("NoFallback", func(t *testing.T) {
		f, srv := newFakeHive(t)
		f.status["/stream"] = http.StatusUnauthorized
		if err := newClient(t, srv, false, 0).Submit(context.Background(), sub); err == nil {
			t.Fatal("Submit succeeded on a 401")
		}
		if len(f.received()) != 1 {
			t.Errorf("received %d requests, want 1", len(f.received()))
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		_, srv := newFakeHive(t)
		c, err := hive.New(hive.Config{StreamURL: "http://127.0.0.1:1/stream", APIKey: "k", HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Submit(context.Background(), sub); err == nil {
			t.Fatal("Submit to a closed port succeeded")
		}
	})
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []hive.Config{
		{APIKey: "k"},
		{StreamURL: "http://h/s"},
		{StreamURL: "/relative", APIKey: "k"},
		{StreamURL: "ftp://h/s", APIKey: "k"},
		{StreamURL: "http://h/s", ScreenshotURL: "::", APIKey: "k"},
		{StreamURL: "http://h/s", APIKey: "k", Timeout: -time.Second},
	} {
		if _, err := hive.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func TestVerify(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	body := []byte(`{"sessionId":"s1","violation":true}`)
	sig := sign("whsec", body)
	secs := strconv.FormatInt(now.Unix(), 10)
	for _, c := range []struct {
		name      string
		secret    string
		body      []byte
		sig, ts   string
		tolerance time.Duration
		ok        bool
	}{
		{"Valid", "whsec", body, sig, secs, 0, true},
		{"Prefix", "whsec", body, "sha256=" + sig, secs, 0, true},
		{"UpperHex", "whsec", body, "sha256=" + upper(sig), secs, 0, true},
		{"Milliseconds", "whsec", body, sig, strconv.FormatInt(now.Add(-4*time.Minute).UnixMilli(), 10), 0, true},
		{"WithinCustomTolerance", "whsec", body, sig, strconv.FormatInt(now.Add(-50*time.Minute).Unix(), 10), time.Hour, true},
		{"TamperedBody", "whsec", []byte(`{"sessionId":"s2","violation":true}`), sig, secs, 0, false},
		{"WrongSecret", "other", body, sig, secs, 0, false},
		{"NoSecret", "", body, sig, secs, 0, false},
		{"Stale", "whsec", body, sig, strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10), 0, false},
		{"StaleMilliseconds", "whsec", body, sig, strconv.FormatInt(now.Add(-6*time.Minute).UnixMilli(), 10), 0, false},
		{"Future", "whsec", body, sig, strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10), 0, false},
		{"MissingTimestamp", "whsec", body, sig, "", 0, false},
		{"MalformedTimestamp", "whsec", body, sig, "yesterday", 0, false},
		{"MissingSignature", "whsec", body, "", secs, 0, false},
		{"OnlyPrefix", "whsec", body, "sha256=", secs, 0, false},
		{"NotHex", "whsec", body, "zz" + sig[2:], secs, 0, false},
		{"Short", "whsec", body, sig[:32], secs, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := hive.Verify(c.secret, c.body, c.sig, c.ts, now, c.tolerance)
			if c.ok {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, rv.ErrInvalidSignature) || rv.KindOf(err) != rv.KindUnauthenticated {
				t.Fatalf("Verify = %v (kind %v), want INVALID_SIGNATURE of kind unauthenticated", err, rv.KindOf(err))
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name      string
		body      string
		want      hive.Payload
		violation bool
	}{
		{"Violation", `{"sessionId":"s1","userId":"u1","violation":true,"reason":"nudity","severity":"high","extra":{"x":1}}`,
			hive.Payload{SessionID: "s1", UserID: "u1", Violation: true, Reason: "nudity", Severity: "high"}, true},
		{"ActionViolation", `{"sessionId":"s1","action":"VIOLATION"}`, hive.Payload{SessionID: "s1", Action: "VIOLATION"}, true},
		{"EventViolation", `{"sessionId":"s1","event":"Violation"}`, hive.Payload{SessionID: "s1", Event: "Violation"}, true},
		{"Labels", `{"sessionId":"s1","labels":["nudity",{"label":"weapon","score":0.9},3,"",null,"gore"],"severity":3}`,
			hive.Payload{SessionID: "s1", Labels: []string{"nudity", "gore"}, Severity: "3"}, true},
		{"ObjectLabelsOnly", `{"sessionId":"s1","labels":[{"name":"weapon"}]}`, hive.Payload{SessionID: "s1"}, false},
		{"NoViolation", `{"sessionId":"s1","violation":false,"action":"ok","labels":[]}`, hive.Payload{SessionID: "s1", Action: "ok"}, false},
		{"WrongTypesIgnored", `{"sessionId":"s1","userId":7,"violation":"yes","labels":"nudity"}`, hive.Payload{SessionID: "s1"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := hive.Parse([]byte(c.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.SessionID != c.want.SessionID || p.UserID != c.want.UserID || p.Violation != c.want.Violation ||
				p.Action != c.want.Action || p.Event != c.want.Event || p.Reason != c.want.Reason ||
				p.Severity != c.want.Severity || !slices.Equal(p.Labels, c.want.Labels) {
				t.Errorf("Parse = %+v, want %+v", p, c.want)
			}
			if p.IsViolation() != c.violation {
				t.Errorf("IsViolation = %v, want %v", p.IsViolation(), c.violation)
			}
		})
	}
	for _, body := range []string{``, `null`, `[]`, `"s"`, `{`, `{"userId":"u1","violation":true}`, `{"sessionId":""}`, `{"sessionId":5}`, `{} {}`} {
		if _, err := hive.Parse([]byte(body)); !errors.Is(err, moderation.ErrInvalidWebhookBody) || rv.KindOf(err) != rv.KindInvalid {
			t.Errorf("Parse(%q) = %v, want INVALID_MODERATION_WEBHOOK", body, err)
		}
	}
}
