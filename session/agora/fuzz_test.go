package agora_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/rendezvous-go/rendezvous/session/agora"
)

// FuzzParse checks that Parse and Verify never panic, fail only with
// ErrMalformedToken (or, for Verify, ErrTokenSignature), and that a parsed
// token with a valid App ID and services builds back into a token that
// parses to the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		tokRTCJoin, tokRTCJoinUID0, tokRTM, tokChatUser, tokRTCRTMChat,
		tokPyRTCJoin, tokPyRTCPublisherRTM, tokRTCPublisher, tokRTCPublisherRTM,
		"", "007", "007aW52YWxpZA==", "006invalid",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := agora.Parse(s)
		if _, verr := agora.Verify(s, vecCert); verr != nil && !errors.Is(verr, agora.ErrMalformedToken) && !errors.Is(verr, agora.ErrTokenSignature) {
			t.Fatalf("Verify: unexpected error %v", verr)
		}
		if err != nil {
			if !errors.Is(err, agora.ErrMalformedToken) || tok != nil {
				t.Fatalf("Parse = %v, %v", tok, err)
			}
			return
		}
		if !agora.ValidKey(tok.AppID) || len(tok.Services) == 0 {
			return
		}
		rebuilt, err := tok.Build(vecCert)
		if err != nil {
			t.Fatalf("Build of a parsed token: %v", err)
		}
		again, err := agora.Verify(rebuilt, vecCert)
		if err != nil {
			t.Fatalf("Verify of a rebuilt token: %v", err)
		}
		if !reflect.DeepEqual(again, tok) {
			t.Fatalf("rebuilt token parses to\n%#v\nnot\n%#v", again, tok)
		}
	})
}
