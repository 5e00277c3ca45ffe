package agora_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/session/agora"
)

func newIssuer(t testing.TB, cfg agora.Config) *agora.Issuer {
	t.Helper()
	if cfg.AppID == "" {
		cfg.AppID = vecAppID
	}
	if cfg.AppCertificate == "" {
		cfg.AppCertificate = vecCert
	}
	is, err := agora.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return is
}

func request() session.TokenRequest {
	return session.TokenRequest{
		Channel:   session.ChannelName("0190d6c5-8f2e-7c3a-9b1e-4d5f6a7b8c9d"),
		RTCUID:    vecUID,
		RTMUserID: "p_5c1e9a",
		IssuedAt:  time.Unix(1_767_225_600, 900_000_000),
		TTL:       120 * time.Second,
	}
}

func TestNewValidatesConfig(t *testing.T) {
	cases := []struct {
		name     string
		cfg      agora.Config
		mentions string
	}{
		{"no app id", agora.Config{AppCertificate: vecCert}, "App ID must be 32 hexadecimal characters (got 0 characters)"},
		{"short app id", agora.Config{AppID: "970CA35de60c", AppCertificate: vecCert}, "App ID must be 32 hexadecimal characters (got 12 characters)"},
		{"non-hex app id", agora.Config{AppID: "970CA35de60c44645bbae8a215061bZZ", AppCertificate: vecCert}, "not all hexadecimal"},
		{"no certificate", agora.Config{AppID: vecAppID}, "App Certificate must be 32 hexadecimal characters (got 0 characters)"},
		{"long certificate", agora.Config{AppID: vecAppID, AppCertificate: vecCert + "00"}, "App Certificate must be 32 hexadecimal characters (got 34 characters)"},
		{"non-hex certificate", agora.Config{AppID: vecAppID, AppCertificate: "5CFd2fd1755d40ecb72977518be15d3g"}, "App Certificate must be 32 hexadecimal characters (got 32 characters, not all hexadecimal)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			is, err := agora.New(c.cfg)
			if is != nil || !errors.Is(err, agora.ErrInvalidConfig) {
				t.Fatalf("New = %v, %v; want ErrInvalidConfig", is, err)
			}
			if !strings.Contains(err.Error(), c.mentions) {
				t.Fatalf("error %q does not say %q", err, c.mentions)
			}
			if c.cfg.AppCertificate != "" && strings.Contains(err.Error(), c.cfg.AppCertificate) {
				t.Fatalf("error %q shows the certificate", err)
			}
			if rv.KindOf(err) != rv.KindInvalid {
				t.Fatalf("kind %v, want invalid", rv.KindOf(err))
			}
		})
	}
	if is := newIssuer(t, agora.Config{}); is.AppID() != vecAppID {
		t.Fatalf("AppID() = %q", is.AppID())
	}
}

func TestIssueVideoTokens(t *testing.T) {
	// Salts drawn from the bytes 1,0,0,0 and 2,0,0,0: 2 and 3.
	is := newIssuer(t, agora.Config{Rand: bytes.NewReader([]byte{1, 0, 0, 0, 2, 0, 0, 0})})
	req := request()
	creds, err := is.IssueVideoTokens(context.Background(), req)
	if err != nil {
		t.Fatalf("IssueVideoTokens: %v", err)
	}
	if creds.RTC == nil || creds.RTM == nil {
		t.Fatalf("credentials %+v", creds)
	}
	if creds.RTC.AppID != vecAppID || creds.RTC.UID != req.RTCUID || creds.RTM.UserID != req.RTMUserID {
		t.Fatalf("RTC %+v, RTM %+v", *creds.RTC, *creds.RTM)
	}
	issueTs := uint32(req.IssuedAt.Unix())

	rtc, err := agora.Verify(creds.RTC.Token, vecCert)
	if err != nil {
		t.Fatalf("Verify RTC: %v", err)
	}
	wantRTC := &agora.AccessToken{AppID: vecAppID, IssueTs: issueTs, Expire: 120, Salt: 2, Services: []agora.Service{
		agora.RTCService{ChannelName: req.Channel, UID: vecUIDStr, Privileges: map[agora.Privilege]uint32{
			agora.PrivilegeJoinChannel: 120, agora.PrivilegePublishAudioStream: 120,
			agora.PrivilegePublishVideoStream: 120, agora.PrivilegePublishDataStream: 120,
		}},
	}}
	if !reflect.DeepEqual(rtc, wantRTC) {
		t.Fatalf("RTC token\n got %+v\nwant %+v", rtc, wantRTC)
	}
	if s := build(t, wantRTC, vecCert); s != creds.RTC.Token {
		t.Fatal("the RTC token differs from the AccessToken built by hand")
	}

	rtm, err := agora.Verify(creds.RTM.Token, vecCert)
	if err != nil {
		t.Fatalf("Verify RTM: %v", err)
	}
	wantRTM := &agora.AccessToken{AppID: vecAppID, IssueTs: issueTs, Expire: 120, Salt: 3, Services: []agora.Service{
		agora.RTMService{UserID: req.RTMUserID, Privileges: map[agora.Privilege]uint32{agora.PrivilegeLogin: 120}},
	}}
	if !reflect.DeepEqual(rtm, wantRTM) {
		t.Fatalf("RTM token\n got %+v\nwant %+v", rtm, wantRTM)
	}

	// Both expire at IssuedAt + TTL.
	wantEnd := req.IssuedAt.Add(req.TTL).Truncate(time.Second).Unix()
	for _, tok := range []*agora.AccessToken{rtc, rtm} {
		if end := int64(tok.IssueTs) + int64(tok.Expire); end != wantEnd {
			t.Fatalf("expires at %d, want %d", end, wantEnd)
		}
	}

	// The random source is spent: the next issue reports it.
	if _, err := is.IssueVideoTokens(context.Background(), req); !errors.Is(err, agora.ErrSalt) {
		t.Fatalf("IssueVideoTokens with a spent random source: %v, want ErrSalt", err)
	}
}

func TestIssueVideoTokensUsesNowWithoutIssuedAt(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	is := newIssuer(t, agora.Config{Now: func() time.Time { return now }})
	req := request()
	req.IssuedAt = time.Time{}
	req.TTL = 90*time.Second + 500*time.Millisecond
	creds, err := is.IssueVideoTokens(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{creds.RTC.Token, creds.RTM.Token} {
		tok, err := agora.Verify(s, vecCert)
		if err != nil {
			t.Fatal(err)
		}
		if tok.IssueTs != 1_800_000_000 || tok.Expire != 90 {
			t.Fatalf("issued at %d for %d s, want 1800000000 for 90 s", tok.IssueTs, tok.Expire)
		}
	}
}

func TestIssueVideoTokensDrawsASaltPerToken(t *testing.T) {
	is := newIssuer(t, agora.Config{})
	req := request()
	seen := map[string]bool{}
	for range 3 {
		creds, err := is.IssueVideoTokens(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{creds.RTC.Token, creds.RTM.Token} {
			tok, err := agora.Verify(s, vecCert)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Salt < 1 || tok.Salt > 99_999_999 {
				t.Fatalf("salt %d out of range", tok.Salt)
			}
			seen[s] = true
		}
	}
	// Equal requests differ only by their salts; six draws from 10^8
	// values all differ unless crypto/rand is broken.
	if len(seen) != 6 {
		t.Fatalf("%d distinct tokens out of 6", len(seen))
	}
}

func TestIssueVideoTokensRejectsInvalidRequests(t *testing.T) {
	is := newIssuer(t, agora.Config{})
	cases := []struct {
		name   string
		change func(*session.TokenRequest)
	}{
		{"empty channel", func(r *session.TokenRequest) { r.Channel = "" }},
		{"channel of 65 bytes", func(r *session.TokenRequest) { r.Channel = strings.Repeat("c", 65) }},
		{"channel with a slash", func(r *session.TokenRequest) { r.Channel = "session/1" }},
		{"channel with a quote", func(r *session.TokenRequest) { r.Channel = `session"1` }},
		{"channel with a non-ASCII letter", func(r *session.TokenRequest) { r.Channel = "séance" }},
		{"channel with a newline", func(r *session.TokenRequest) { r.Channel = "a\nb" }},
		{"channel with a NUL", func(r *session.TokenRequest) { r.Channel = "a\x00b" }},
		{"uid 0", func(r *session.TokenRequest) { r.RTCUID = 0 }},
		{"empty user id", func(r *session.TokenRequest) { r.RTMUserID = "" }},
		{"user id of 65 bytes", func(r *session.TokenRequest) { r.RTMUserID = strings.Repeat("u", 65) }},
		{"user id starting with a space", func(r *session.TokenRequest) { r.RTMUserID = " u" }},
		{"user id with a backslash", func(r *session.TokenRequest) { r.RTMUserID = `u\1` }},
		{"TTL 0", func(r *session.TokenRequest) { r.TTL = 0 }},
		{"negative TTL", func(r *session.TokenRequest) { r.TTL = -time.Minute }},
		{"TTL under a second", func(r *session.TokenRequest) { r.TTL = 999 * time.Millisecond }},
		{"TTL over 24 h", func(r *session.TokenRequest) { r.TTL = agora.MaxTTL + time.Second }},
		{"issued before 1970", func(r *session.TokenRequest) { r.IssuedAt = time.Unix(-1, 0) }},
		{"issued after 2106", func(r *session.TokenRequest) { r.IssuedAt = time.Unix(1<<32, 0) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := request()
			c.change(&req)
			creds, err := is.IssueVideoTokens(context.Background(), req)
			if !errors.Is(err, agora.ErrInvalidTokenRequest) {
				t.Fatalf("IssueVideoTokens = %+v, %v; want ErrInvalidTokenRequest", creds, err)
			}
			if creds.RTC != nil || creds.RTM != nil {
				t.Fatalf("credentials %+v with an error", creds)
			}
			if rv.KindOf(err) != rv.KindInvalid {
				t.Fatalf("kind %v, want invalid", rv.KindOf(err))
			}
		})
	}
}

func TestIssueVideoTokensAcceptsAgorasLimits(t *testing.T) {
	is := newIssuer(t, agora.Config{})
	chars := "abcxyzABCXYZ0189 !#$%&()+-:;<=.>?@[]^_{}|~,"
	cases := []session.TokenRequest{
		{Channel: strings.Repeat("c", 64), RTCUID: 1, RTMUserID: strings.Repeat("u", 64), TTL: time.Second},
		{Channel: chars, RTCUID: 4_294_967_295, RTMUserID: "u" + chars, TTL: agora.MaxTTL},
		{Channel: "c", RTCUID: 1, RTMUserID: "u", IssuedAt: time.Unix(0, 0), TTL: time.Minute},
		{Channel: "c", RTCUID: 1, RTMUserID: "u", IssuedAt: time.Unix(1<<32-1, 0), TTL: time.Minute},
	}
	for i, req := range cases {
		creds, err := is.IssueVideoTokens(context.Background(), req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		tok, err := agora.Verify(creds.RTC.Token, vecCert)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		rtc, _ := tok.RTC()
		if rtc.ChannelName != req.Channel || rtc.UID != agora.UIDString(req.RTCUID) || tok.Expire != uint32(req.TTL/time.Second) {
			t.Fatalf("request %d: token %+v", i, tok)
		}
		if !req.IssuedAt.IsZero() && int64(tok.IssueTs) != req.IssuedAt.Unix() {
			t.Fatalf("request %d: issued at %d", i, tok.IssueTs)
		}
		tok, err = agora.Verify(creds.RTM.Token, vecCert)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if rtm, _ := tok.RTM(); rtm.UserID != req.RTMUserID {
			t.Fatalf("request %d: RTM user %q", i, rtm.UserID)
		}
	}
}

func TestIssueVideoTokensCanceled(t *testing.T) {
	is := newIssuer(t, agora.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := is.IssueVideoTokens(ctx, request()); !errors.Is(err, rv.ErrCanceled) {
		t.Fatalf("IssueVideoTokens with a canceled context: %v, want ErrCanceled", err)
	}
}

func TestIssueVideoTokensFailingRandom(t *testing.T) {
	is := newIssuer(t, agora.Config{Rand: failingReader{}})
	if _, err := is.IssueVideoTokens(context.Background(), request()); !errors.Is(err, agora.ErrSalt) {
		t.Fatalf("IssueVideoTokens with a failing random source: %v, want ErrSalt", err)
	}
}

// countingReader returns distinct 4-byte groups; it is not safe for
// concurrent use, which the Issuer must cope with.
type countingReader struct{ n uint32 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.n)
		r.n++
	}
	return len(p), nil
}

func TestIssueVideoTokensConcurrently(t *testing.T) {
	for _, cfg := range []agora.Config{{}, {Rand: &countingReader{}}} {
		is := newIssuer(t, cfg)
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					req := request()
					req.RTCUID = uint32(w*each + i + 1)
					req.RTMUserID = fmt.Sprintf("u%d", req.RTCUID)
					creds, err := is.IssueVideoTokens(context.Background(), req)
					if err != nil {
						errs <- err
						continue
					}
					tok, err := agora.Verify(creds.RTC.Token, vecCert)
					if err != nil {
						errs <- err
						continue
					}
					if rtc, _ := tok.RTC(); rtc.UID != agora.UIDString(req.RTCUID) || creds.RTC.UID != req.RTCUID {
						errs <- fmt.Errorf("uid %d got a token for %q", req.RTCUID, rtc.UID)
					}
					tok, err = agora.Verify(creds.RTM.Token, vecCert)
					if err != nil {
						errs <- err
						continue
					}
					if rtm, _ := tok.RTM(); rtm.UserID != req.RTMUserID || creds.RTM.UserID != req.RTMUserID {
						errs <- fmt.Errorf("user %q got a token for %q", req.RTMUserID, rtm.UserID)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

func BenchmarkIssueVideoTokens(b *testing.B) {
	is := newIssuer(b, agora.Config{})
	req := request()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := is.IssueVideoTokens(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
