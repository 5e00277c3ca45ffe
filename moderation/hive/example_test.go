package hive_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/moderation/hive"
)

// A webhook is verified with the shared secret, then parsed.
func Example() {
	secret := "whsec_example"
	body := []byte(`{"sessionId":"5e0c…","userId":"u1","labels":["nudity"],"severity":"high","score":0.98}`)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	signature := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	now := time.Now()
	timestamp := strconv.FormatInt(now.Unix(), 10)

	if err := hive.Verify(secret, body, signature, timestamp, now, 0); err != nil {
		fmt.Println(err)
		return
	}
	p, err := hive.Parse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.UserID, p.Labels, p.IsViolation())

	// A tampered body fails with a 401 error.
	err = hive.Verify(secret, append(body, ' '), signature, timestamp, now, 0)
	fmt.Println(err)
	// Output:
	// u1 [nudity] true
	// INVALID_SIGNATURE: the webhook signature does not match its body
}

// A Client submits a starting call; the moderation service is faked here.
func ExampleClient_Submit() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Println(r.Method, r.URL.Path, r.Header.Get("Authorization"))
		fmt.Println(string(b))
	}))
	defer srv.Close()

	c, err := hive.New(hive.Config{StreamURL: srv.URL + "/stream", APIKey: "key"})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = c.Submit(context.Background(), moderation.StreamSubmission{
		SessionID: "s1", Channel: "ch-1", AppID: "app", UID: 4000000001, Token: "bot-token",
	})
	fmt.Println(err)
	// Output:
	// POST /stream Bearer key
	// {"sessionId":"s1","channel":"ch-1","appId":"app","uid":4000000001,"token":"bot-token","noRecording":true}
	// <nil>
}
