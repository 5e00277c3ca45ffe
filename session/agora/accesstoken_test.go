package agora_test

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/session/agora"
)

// The inputs of the test vectors of Agora's reference implementation
// (github.com/AgoraIO/Tools, DynamicKey/AgoraDynamicKey/go/src/accesstoken2
// and rtctokenbuilder2).
const (
	vecAppID     = "970CA35de60c44645bbae8a215061b33"
	vecCert      = "5CFd2fd1755d40ecb72977518be15d3b"
	vecWrongCert = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	vecChannel   = "7d72365eb983485397e3e3f9d460bdda"
	vecUID       = uint32(2882341273)
	vecUIDStr    = "2882341273"
	vecUserID    = "test_user"
	vecIssueTs   = uint32(1111111)
	vecSalt      = uint32(1)
	vecExpire    = uint32(600)
)

// Tokens published by the reference's tests for the inputs above.
const (
	// RTC, uid 2882341273, join-channel privilege only.
	tokRTCJoin = "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD//8JqJOM="
	// RTC, uid 0 (""), join-channel privilege only.
	tokRTCJoinUID0 = "007eJxSYLhzZP08Lxa1Pg57+TcXb/3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMgAAAAP//Npwiag=="
	// RTM, user test_user, login privilege.
	tokRTM = "007eJxSYOCdJftjyTM2zxW6Xhm/5T0j5LdcUt/xYVt48fb5Mp3PX9coMFiaGzg7GpumpJoZJJuYmJmYJiUlplokGhmaGpgZJhkbu38RYIhgYmBgZABhJgZGBkYwn5OhJLW4JL60OLUIEAAA//9ZVh6A"
	// Chat user service (type 5) for uid 2882341273.
	tokChatUser = "007eJxSYNAIsnbS3v/A5t2TC6feR15r+6cq8bqAvfaW+tk/Vzz+p6xTYLA0N3B2NDZNSTUzSDYxMTMxTUpKTLVINDI0NTAzTDI2dv8iwBDBxMDAyADCrAyMDIxgPheDkYWFkbGJoZG5MSAAAP//H6UeuA=="
	// RTC join (uid 2882341273), RTM login (test_user), Chat user.
	tokRTCRTMChat = "007eJxSYJjqLJBlM239wwWvmBZ7tW619coNnPKSXaHayfKzZODswxMVGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMjAwMDMwgiGIr8BgnmJuZGxmmppkaWFsYmFqbGmeapxqnGaZYmJmkJSSksjFYGRhYWRsYmhkbswE18fJUJJaXBJfWpxaxAoXRFYKCAAA///aoiqr"
	// The reference's Python implementation's tokens, whose zlib stream
	// is compressed differently: RTC join, and RTC publisher with RTM.
	tokPyRTCJoin         = "007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj"
	tokPyRTCPublisherRTM = "007eJxTYOAQsrQ5s3TfH+1tvy8zZZ46EpCc0V43JXdGd2jS8porKo4KDJbmBs6OxqYpqWYGySYmZiamSUmJqRaJRoamBmaGScbG7l8EGCKYGBgYGRgYmIAkCxCD+ExgkhlMsoBJBQbzFHMjYzPT1CRLC2MTC1NjS/NU41TjNMsUEzODpJSURC4GIwsLI2MTQyNzY5BZEJM4GUpSi0viS4tTiwAipyp4"
)

// Tokens the reference's Go implementation (AgoraIO/Tools at da06bfb)
// builds for the inputs above, whose tests publish no vector for them.
const (
	// RTC publisher (join, publish audio, video, data), uid 2882341273.
	tokRTCPublisher = "007eJxSYDhuGCT90E3Yo2+N3efJV5hX1K1MZAqae/Sa8UP9VXvOhfArMFiaGzg7GpumpJoZJJuYmJmYJiUlplokGhmaGpgZJhkbu38RYIhgYmBgZABhRgYWBkYwnwlMMoNJFjCpwGCeYm5kbGaammRpYWxiYWpsaZ5qnGqcZpliYmaQlJKSyMVgZGFhZGxiaGRuDAgAAP//qLMlyw=="
	// The same RTC service and RTM login for test_user.
	tokRTCPublisherRTM = "007eJxSYOAQsrQ5s3TfH+1tvy8zZZ46EpCc0V43JXdGd2jS8porKo4KDJbmBs6OxqYpqWYGySYmZiamSUmJqRaJRoamBmaGScbG7l8EGCKYGBgYGRgYmBgYGVgYGMF8JjDJDCZZwKQCg3mKuZGxmWlqkqWFsYmFqbGleapxqnGaZYqJmUFSSkoiF4ORhYWRsYmhkbkxyCyISZwMJanFJfGlxalFgAAAAP//IqcqeA=="
)

func vecToken(services ...agora.Service) *agora.AccessToken {
	return &agora.AccessToken{AppID: vecAppID, IssueTs: vecIssueTs, Expire: vecExpire, Salt: vecSalt, Services: services}
}

func build(t *testing.T, tok *agora.AccessToken, cert string) string {
	t.Helper()
	s, err := tok.Build(cert)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return s
}

func TestBuildReproducesReferenceVectors(t *testing.T) {
	join := map[agora.Privilege]uint32{agora.PrivilegeJoinChannel: vecExpire}
	cases := []struct {
		name string
		tok  *agora.AccessToken
		want string
	}{
		{"RTC join", vecToken(agora.RTCService{ChannelName: vecChannel, UID: vecUIDStr, Privileges: join}), tokRTCJoin},
		{"RTC join, uid 0", vecToken(agora.RTCService{ChannelName: vecChannel, UID: "", Privileges: join}), tokRTCJoinUID0},
		{"RTC subscriber builder", vecToken(agora.NewRTCService(vecChannel, vecUID, agora.RoleSubscriber, vecExpire)), tokRTCJoin},
		{"RTC subscriber builder, uid 0", vecToken(agora.NewRTCService(vecChannel, 0, agora.RoleSubscriber, vecExpire)), tokRTCJoinUID0},
		{"RTM", vecToken(agora.RTMService{UserID: vecUserID, Privileges: map[agora.Privilege]uint32{agora.PrivilegeLogin: vecExpire}}), tokRTM},
		{"RTM builder", vecToken(agora.NewRTMService(vecUserID, vecExpire)), tokRTM},
		{"RTC publisher", vecToken(agora.NewRTCService(vecChannel, vecUID, agora.RolePublisher, vecExpire)), tokRTCPublisher},
		{"RTC publisher and RTM", vecToken(agora.NewRTCService(vecChannel, vecUID, agora.RolePublisher, vecExpire), agora.NewRTMService(vecUserID, vecExpire)), tokRTCPublisherRTM},
		// Services are encoded in type order, whatever their order here.
		{"RTM and RTC publisher", vecToken(agora.NewRTMService(vecUserID, vecExpire), agora.NewRTCService(vecChannel, vecUID, agora.RolePublisher, vecExpire)), tokRTCPublisherRTM},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := build(t, c.tok, vecCert); got != c.want {
				t.Fatalf("token\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestBuildDoesNotReorderCallersServices(t *testing.T) {
	tok := vecToken(agora.NewRTMService(vecUserID, vecExpire), agora.NewRTCService(vecChannel, vecUID, agora.RolePublisher, vecExpire))
	build(t, tok, vecCert)
	if tok.Services[0].ServiceType() != agora.ServiceTypeRTM {
		t.Fatal("Build reordered the caller's services")
	}
}

func TestParseReferenceVectors(t *testing.T) {
	publisher := map[agora.Privilege]uint32{
		agora.PrivilegeJoinChannel: vecExpire, agora.PrivilegePublishAudioStream: vecExpire,
		agora.PrivilegePublishVideoStream: vecExpire, agora.PrivilegePublishDataStream: vecExpire,
	}
	rtcJoin := agora.RTCService{ChannelName: vecChannel, UID: vecUIDStr, Privileges: map[agora.Privilege]uint32{agora.PrivilegeJoinChannel: vecExpire}}
	rtcPub := agora.RTCService{ChannelName: vecChannel, UID: vecUIDStr, Privileges: publisher}
	rtm := agora.RTMService{UserID: vecUserID, Privileges: map[agora.Privilege]uint32{agora.PrivilegeLogin: vecExpire}}
	cases := []struct {
		name     string
		token    string
		services []agora.Service
		// rebuilt is what Build makes of the parsed token ("" when the
		// token has services this package does not decode).
		rebuilt string
	}{
		{"RTC join", tokRTCJoin, []agora.Service{rtcJoin}, tokRTCJoin},
		{"RTC join, uid 0", tokRTCJoinUID0, []agora.Service{agora.RTCService{ChannelName: vecChannel, Privileges: rtcJoin.Privileges}}, tokRTCJoinUID0},
		{"RTM", tokRTM, []agora.Service{rtm}, tokRTM},
		{"RTC publisher", tokRTCPublisher, []agora.Service{rtcPub}, tokRTCPublisher},
		{"RTC publisher and RTM", tokRTCPublisherRTM, []agora.Service{rtcPub, rtm}, tokRTCPublisherRTM},
		{"Python RTC join", tokPyRTCJoin, []agora.Service{rtcJoin}, tokRTCJoin},
		{"Python RTC publisher and RTM", tokPyRTCPublisherRTM, []agora.Service{rtcPub, rtm}, tokRTCPublisherRTM},
		// An unknown service type ends the decoding; the signature still
		// covers the whole content.
		{"Chat", tokChatUser, nil, ""},
		{"RTC, RTM and Chat", tokRTCRTMChat, []agora.Service{rtcJoin, rtm}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := vecToken(c.services...)
			got, err := agora.Parse(c.token)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Parse\n got %#v\nwant %#v", got, want)
			}
			verified, err := agora.Verify(c.token, vecCert)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !reflect.DeepEqual(verified, want) {
				t.Fatalf("Verify\n got %#v\nwant %#v", verified, want)
			}
			if _, err := agora.Verify(c.token, vecWrongCert); !errors.Is(err, agora.ErrTokenSignature) {
				t.Fatalf("Verify with another certificate: %v, want ErrTokenSignature", err)
			}
			if c.rebuilt != "" {
				if s := build(t, got, vecCert); s != c.rebuilt {
					t.Fatalf("rebuilt\n got %s\nwant %s", s, c.rebuilt)
				}
			}
		})
	}
}

func TestRTCAndRTMAccessors(t *testing.T) {
	tok, err := agora.Parse(tokRTCPublisherRTM)
	if err != nil {
		t.Fatal(err)
	}
	rtc, ok := tok.RTC()
	if !ok || rtc.ChannelName != vecChannel || rtc.UID != vecUIDStr {
		t.Fatalf("RTC() = %+v, %v", rtc, ok)
	}
	for _, p := range []agora.Privilege{agora.PrivilegeJoinChannel, agora.PrivilegePublishAudioStream, agora.PrivilegePublishVideoStream, agora.PrivilegePublishDataStream} {
		if rtc.Privileges[p] != vecExpire {
			t.Errorf("privilege %d expires after %d s, want %d", p, rtc.Privileges[p], vecExpire)
		}
	}
	rtm, ok := tok.RTM()
	if !ok || rtm.UserID != vecUserID || rtm.Privileges[agora.PrivilegeLogin] != vecExpire {
		t.Fatalf("RTM() = %+v, %v", rtm, ok)
	}
	tok, err = agora.Parse(tokRTM)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tok.RTC(); ok {
		t.Fatal("RTC() found a service in an RTM-only token")
	}
	tok, err = agora.Parse(tokRTCJoin)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tok.RTM(); ok {
		t.Fatal("RTM() found a service in an RTC-only token")
	}
}

func TestRoundTrip(t *testing.T) {
	toks := []*agora.AccessToken{
		{AppID: vecAppID, IssueTs: 1_700_000_000, Expire: 120, Salt: 99_999_999, Services: []agora.Service{
			agora.NewRTCService("session_0190d6c5-8f2e-7c3a-9b1e-4d5f6a7b8c9d", 4_294_967_295, agora.RolePublisher, 120),
			agora.NewRTMService("p_3f9a", 120),
		}},
		{AppID: vecAppID, IssueTs: 0, Expire: 0, Salt: 0, Services: []agora.Service{
			agora.RTCService{ChannelName: "a", UID: "", Privileges: map[agora.Privilege]uint32{agora.PrivilegeJoinChannel: 1, agora.PrivilegePublishDataStream: 4_294_967_295}},
			agora.RTCService{ChannelName: "second channel", UID: "7", Privileges: map[agora.Privilege]uint32{agora.PrivilegeJoinChannel: 30}},
			agora.RTMService{UserID: "", Privileges: map[agora.Privilege]uint32{agora.PrivilegeLogin: 5}},
		}},
		{AppID: vecAppID, IssueTs: 4_294_967_295, Expire: 86_400, Salt: 42, Services: []agora.Service{
			agora.RTCService{ChannelName: strings.Repeat("x", 64), UID: "1"},
		}},
	}
	for i, tok := range toks {
		s := build(t, tok, vecCert)
		if !strings.HasPrefix(s, agora.Version) {
			t.Fatalf("token %d does not start with %q: %s", i, agora.Version, s)
		}
		got, err := agora.Verify(s, vecCert)
		if err != nil {
			t.Fatalf("token %d: Verify: %v", i, err)
		}
		if !reflect.DeepEqual(got, tok) {
			t.Fatalf("token %d round trip\n got %#v\nwant %#v", i, got, tok)
		}
	}
}

func TestSaltChangesToken(t *testing.T) {
	a := vecToken(agora.NewRTCService(vecChannel, vecUID, agora.RolePublisher, vecExpire))
	b := *a
	b.Salt = 2
	sa, sb := build(t, a, vecCert), build(t, &b, vecCert)
	if sa == sb {
		t.Fatal("two salts gave the same token")
	}
	pa, err := agora.Verify(sa, vecCert)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := agora.Verify(sb, vecCert)
	if err != nil {
		t.Fatal(err)
	}
	if pa.Salt != 1 || pb.Salt != 2 {
		t.Fatalf("salts %d and %d, want 1 and 2", pa.Salt, pb.Salt)
	}
}

func TestBuildErrors(t *testing.T) {
	rtc := agora.NewRTCService(vecChannel, vecUID, agora.RolePublisher, vecExpire)
	cases := []struct {
		name string
		tok  agora.AccessToken
		cert string
		want error
	}{
		{"empty app id", agora.AccessToken{Services: []agora.Service{rtc}}, vecCert, agora.ErrInvalidConfig},
		{"short app id", agora.AccessToken{AppID: "abc", Services: []agora.Service{rtc}}, vecCert, agora.ErrInvalidConfig},
		{"non-hex app id", agora.AccessToken{AppID: "Z70CA35de60c44645bbae8a215061b33", Services: []agora.Service{rtc}}, vecCert, agora.ErrInvalidConfig},
		{"empty certificate", agora.AccessToken{AppID: vecAppID, Services: []agora.Service{rtc}}, "", agora.ErrInvalidConfig},
		{"non-hex certificate", agora.AccessToken{AppID: vecAppID, Services: []agora.Service{rtc}}, "5CFd2fd1755d40ecb72977518be15d3Z", agora.ErrInvalidConfig},
		{"no service", agora.AccessToken{AppID: vecAppID}, vecCert, agora.ErrInvalidAccessToken},
		{"nil service", agora.AccessToken{AppID: vecAppID, Services: []agora.Service{rtc, nil}}, vecCert, agora.ErrInvalidAccessToken},
		{"channel too long for the format", agora.AccessToken{AppID: vecAppID, Services: []agora.Service{agora.RTCService{ChannelName: strings.Repeat("c", 65_536)}}}, vecCert, agora.ErrInvalidAccessToken},
		{"user id too long for the format", agora.AccessToken{AppID: vecAppID, Services: []agora.Service{agora.RTMService{UserID: strings.Repeat("u", 70_000)}}}, vecCert, agora.ErrInvalidAccessToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := c.tok.Build(c.cert)
			if !errors.Is(err, c.want) || s != "" {
				t.Fatalf("Build = %q, %v; want %v", s, err, c.want)
			}
		})
	}
	// The longest string the format holds is fine.
	tok := agora.AccessToken{AppID: vecAppID, Services: []agora.Service{agora.RTCService{ChannelName: strings.Repeat("c", 65_535)}}}
	s := build(t, &tok, vecCert)
	if got, err := agora.Verify(s, vecCert); err != nil || len(got.Services[0].(agora.RTCService).ChannelName) != 65_535 {
		t.Fatalf("Verify of a 65535-byte channel: %v", err)
	}
}

// content returns the decompressed content of a token.
func content(t *testing.T, token string) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(token, agora.Version))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pack makes a token of content.
func pack(content []byte) string {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(content)
	zw.Close()
	return agora.Version + base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestVerifyRejectsAlteredContent(t *testing.T) {
	b := content(t, tokRTCPublisher)
	if got := pack(b); got != tokRTCPublisher {
		t.Fatalf("the test's packing differs from Build's: %s", got)
	}
	// Content: signature (2+32), app id (2+32), issue ts (4), expire (4)...
	// Make the token last longer.
	b[2+32+2+32+4] ^= 0x01
	altered := pack(b)
	if _, err := agora.Parse(altered); err != nil {
		t.Fatalf("Parse of the altered token: %v", err)
	}
	if _, err := agora.Verify(altered, vecCert); !errors.Is(err, agora.ErrTokenSignature) {
		t.Fatalf("Verify of the altered token: %v, want ErrTokenSignature", err)
	}
}

func TestParseMalformed(t *testing.T) {
	full := content(t, tokRTCPublisherRTM)
	cases := map[string]string{
		"empty":                  "",
		"too short":              "00",
		"other version":          "006invalid",
		"version only":           "007",
		"not base64":             "007!!!!",
		"not zlib":               "007aW52YWxpZA==",
		"truncated zlib":         tokRTCPublisher[:len(tokRTCPublisher)-12] + "AAAA",
		"empty content":          pack(nil),
		"signature only":         pack(full[:34]),
		"content cut in app id":  pack(full[:34+10]),
		"content cut in service": pack(full[:len(full)-3]),
		"bad checksum":           flipLastByte(t, tokRTM),
		"too large":              pack(make([]byte, agora.MaxTokenContent+1)),
		"privilege count lies":   pack(append(append([]byte{}, full[:34+2+32+12]...), 1, 0, 1, 0, 0xff, 0xff)),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if got, err := agora.Parse(tok); !errors.Is(err, agora.ErrMalformedToken) || got != nil {
				t.Fatalf("Parse = %v, %v; want ErrMalformedToken", got, err)
			}
			if got, err := agora.Verify(tok, vecCert); !errors.Is(err, agora.ErrMalformedToken) || got != nil {
				t.Fatalf("Verify = %v, %v; want ErrMalformedToken", got, err)
			}
		})
	}
}

func flipLastByte(t *testing.T, token string) string {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(token, agora.Version))
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 0xff
	return agora.Version + base64.StdEncoding.EncodeToString(raw)
}

func TestUIDString(t *testing.T) {
	for uid, want := range map[uint32]string{0: "", 1: "1", vecUID: vecUIDStr, 4_294_967_295: "4294967295"} {
		if got := agora.UIDString(uid); got != want {
			t.Errorf("UIDString(%d) = %q, want %q", uid, got, want)
		}
	}
}

func TestValidKey(t *testing.T) {
	for s, want := range map[string]bool{
		vecAppID: true, vecCert: true, "": false, "abc": false,
		"Z70CA35de60c44645bbae8a215061b33": false, vecAppID + "0": false,
	} {
		if got := agora.ValidKey(s); got != want {
			t.Errorf("ValidKey(%q) = %v, want %v", s, got, want)
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestNewSalt(t *testing.T) {
	cases := []struct {
		in   []byte
		want uint32
	}{
		{[]byte{0, 0, 0, 0}, 1},
		{[]byte{1, 0, 0, 0}, 2},
		{[]byte{0xfe, 0xe0, 0xf5, 0x05}, 99_999_999}, // 99,999,998
		{[]byte{0xff, 0xe0, 0xf5, 0x05}, 1},          // 99,999,999 wraps
		{[]byte{0xff, 0xff, 0xff, 0xff}, 1 + 4_294_967_295%99_999_999},
	}
	for _, c := range cases {
		got, err := agora.NewSalt(bytes.NewReader(c.in))
		if err != nil || got != c.want {
			t.Errorf("NewSalt(% x) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	if _, err := agora.NewSalt(failingReader{}); !errors.Is(err, agora.ErrSalt) {
		t.Fatalf("NewSalt of a failing reader: %v, want ErrSalt", err)
	}
	if _, err := agora.NewSalt(bytes.NewReader([]byte{1, 2})); !errors.Is(err, agora.ErrSalt) {
		t.Fatalf("NewSalt of a short reader: %v, want ErrSalt", err)
	}
}

func TestBuildRTCTokenWithUID(t *testing.T) {
	for _, role := range []agora.Role{agora.RolePublisher, agora.RoleSubscriber} {
		before := time.Now().Unix()
		s, err := agora.BuildRTCTokenWithUID(vecAppID, vecCert, vecChannel, vecUID, role, 600, 300)
		after := time.Now().Unix()
		if err != nil {
			t.Fatal(err)
		}
		tok, err := agora.Verify(s, vecCert)
		if err != nil {
			t.Fatal(err)
		}
		if int64(tok.IssueTs) < before || int64(tok.IssueTs) > after {
			t.Fatalf("issued at %d, not between %d and %d", tok.IssueTs, before, after)
		}
		if tok.Expire != 600 || tok.Salt < 1 || tok.Salt > 99_999_999 {
			t.Fatalf("expire %d, salt %d", tok.Expire, tok.Salt)
		}
		want := agora.NewRTCService(vecChannel, vecUID, role, 300)
		if len(tok.Services) != 1 || !reflect.DeepEqual(tok.Services[0], want) {
			t.Fatalf("role %d: services %#v, want %#v", role, tok.Services, want)
		}
	}
	if role := agora.RoleSubscriber; len(agora.NewRTCService("c", 1, role, 1).Privileges) != 1 {
		t.Fatal("a subscriber has more than the join privilege")
	}
	if _, err := agora.BuildRTCTokenWithUID("bad", vecCert, vecChannel, vecUID, agora.RolePublisher, 600, 600); !errors.Is(err, agora.ErrInvalidConfig) {
		t.Fatalf("bad app id: %v", err)
	}
}

func TestBuildRTMToken(t *testing.T) {
	before := time.Now().Unix()
	s, err := agora.BuildRTMToken(vecAppID, vecCert, vecUserID, 900)
	after := time.Now().Unix()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := agora.Verify(s, vecCert)
	if err != nil {
		t.Fatal(err)
	}
	if int64(tok.IssueTs) < before || int64(tok.IssueTs) > after || tok.Expire != 900 {
		t.Fatalf("issued at %d (between %d and %d?), expire %d", tok.IssueTs, before, after, tok.Expire)
	}
	if want := []agora.Service{agora.NewRTMService(vecUserID, 900)}; !reflect.DeepEqual(tok.Services, want) {
		t.Fatalf("services %#v, want %#v", tok.Services, want)
	}
	if _, err := agora.BuildRTMToken(vecAppID, "bad", vecUserID, 900); !errors.Is(err, agora.ErrInvalidConfig) {
		t.Fatalf("bad certificate: %v", err)
	}
}
