package agora_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/session/agora"
)

// An Issuer gives each participant of a call an RTC token for its uid in
// the call's channel and an RTM token for its user id.
func Example() {
	const appID, appCertificate = "970CA35de60c44645bbae8a215061b33", "5CFd2fd1755d40ecb72977518be15d3b"
	issuer, err := agora.New(agora.Config{AppID: appID, AppCertificate: appCertificate})
	if err != nil {
		panic(err)
	}
	creds, err := issuer.IssueVideoTokens(context.Background(), session.TokenRequest{
		Channel:   session.ChannelName("s1"),
		RTCUID:    2882341273,
		RTMUserID: "p_5c1e9a",
		IssuedAt:  time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC),
		TTL:       120 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(creds.RTC.AppID == appID, creds.RTC.UID, creds.RTM.UserID, strings.HasPrefix(creds.RTC.Token, agora.Version))

	// The server can read its tokens back.
	tok, err := agora.Verify(creds.RTC.Token, appCertificate)
	if err != nil {
		panic(err)
	}
	rtc, _ := tok.RTC()
	fmt.Println(rtc.ChannelName, rtc.UID, time.Unix(int64(tok.IssueTs+tok.Expire), 0).UTC().Format(time.RFC3339))
	fmt.Println(rtc.Privileges[agora.PrivilegeJoinChannel], rtc.Privileges[agora.PrivilegePublishVideoStream])
	// Output:
	// true 2882341273 p_5c1e9a true
	// session_s1 2882341273 2026-12-01T20:02:00Z
	// 120 120
}

// With a fixed issue time and salt, an AccessToken builds the same token as
// Agora's reference implementation.
func ExampleAccessToken_Build() {
	tok := agora.AccessToken{
		AppID: "970CA35de60c44645bbae8a215061b33", IssueTs: 1111111, Expire: 600, Salt: 1,
		Services: []agora.Service{agora.NewRTMService("test_user", 600)},
	}
	s, err := tok.Build("5CFd2fd1755d40ecb72977518be15d3b")
	if err != nil {
		panic(err)
	}
	fmt.Println(s)
	// Output:
	// 007eJxSYOCdJftjyTM2zxW6Xhm/5T0j5LdcUt/xYVt48fb5Mp3PX9coMFiaGzg7GpumpJoZJJuYmJmYJiUlplokGhmaGpgZJhkbu38RYIhgYmBgZABhJgZGBkYwn5OhJLW4JL60OLUIEAAA//9ZVh6A
}
