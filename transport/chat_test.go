package transport_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
)

// chatCall is one call seen by fakeChat.
type chatCall struct {
	method, userID, matchID, cursor, before, after, text, clientID string
	limit                                                          int
}

// fakeChat is a ChatService that records its calls and answers with its
// fields; err fails every call.
type fakeChat struct {
	recorder
	page     chat.MatchPage
	messages chat.MessagePage
	sent     chat.Message
	err      error
	calls    []chatCall
}

func (f *fakeChat) Matches(_ context.Context, userID, cursor string, limit int) (p chat.MatchPage, err error) {
	f.do(func() {
		f.calls = append(f.calls, chatCall{method: "Matches", userID: userID, cursor: cursor, limit: limit})
		p, err = f.page, f.err
	})
	return p, err
}

func (f *fakeChat) Messages(_ context.Context, userID, matchID, before, after string, limit int) (p chat.MessagePage, err error) {
	f.do(func() {
		f.calls = append(f.calls, chatCall{method: "Messages", userID: userID, matchID: matchID, before: before, after: after, limit: limit})
		p, err = f.messages, f.err
	})
	return p, err
}

func (f *fakeChat) Send(_ context.Context, userID, matchID, text, clientID string) (m chat.Message, err error) {
	f.do(func() {
		f.calls = append(f.calls, chatCall{method: "Send", userID: userID, matchID: matchID, text: text, clientID: clientID})
		m, err = f.sent, f.err
	})
	return m, err
}

func (f *fakeChat) Unmatch(_ context.Context, userID, matchID string) (err error) {
	f.do(func() {
		f.calls = append(f.calls, chatCall{method: "Unmatch", userID: userID, matchID: matchID})
		err = f.err
	})
	return err
}

// take returns the calls so far and forgets them.
func (f *fakeChat) take() (calls []chatCall) {
	f.do(func() { calls, f.calls = f.calls, nil })
	return calls
}

func (f *fakeChat) set(fn func()) { f.do(fn) }

func newChatStack(t testing.TB) (*stack, *fakeChat) {
	t.Helper()
	f := &fakeChat{}
	broker := memory.NewBroker()
	tr, err := transport.New(transport.Config{
		Modules: []transport.Module{transport.ChatModule(transport.ChatConfig{Service: f, Authenticator: datingTokens{}})},
		Broker:  broker, EventRate: -1, MaxSocketsPerUser: -1, ConnectRate: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &stack{URL: serve(t, tr), T: tr, Broker: broker}, f
}

// retryLater is a rate-limit error that tells when to try again.
type retryLater struct{ after time.Duration }

func (e retryLater) Error() string             { return rv.ErrRateLimited.Error() }
func (e retryLater) Unwrap() error             { return rv.ErrRateLimited }
func (e retryLater) RetryAfter() time.Duration { return e.after }

func TestChatREST(t *testing.T) {
	s, f := newChatStack(t)
	alice := bearerH("tok-alice")
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	msg := chat.Message{ID: "m1", MatchID: "x1", SenderID: "alice", Text: "hi", CreatedAt: at, ClientMessageID: "c1", Seq: 7}
	f.set(func() {
		f.page = chat.MatchPage{Matches: []chat.MatchView{{ID: "x1", CreatedAt: at, LastMessage: &msg, Partner: chat.Partner{ID: "bob", DisplayName: "Bob", Interests: []string{}, PhotoURLs: []string{}}}}, NextCursor: "next"}
		f.messages = chat.MessagePage{Messages: []chat.Message{msg}, NextCursor: "older"}
		f.sent = msg
	})

	r := do(t, "GET", s.URL+"/matches?cursor=abc&limit=5", "", alice...)
	var page chat.MatchPage
	if r.Status != 200 {
		t.Fatalf("matches: %d %s", r.Status, r.Body)
	}
	r.json(t, &page)
	if len(page.Matches) != 1 || page.Matches[0].Partner.DisplayName != "Bob" || page.NextCursor != "next" || page.Matches[0].LastMessage.Text != "hi" {
		t.Fatalf("matches page %s", r.Body)
	}
	if r := do(t, "GET", s.URL+"/matches", "", alice...); r.Status != 200 {
		t.Fatalf("matches without a query: %d %s", r.Status, r.Body)
	}
	r = do(t, "GET", s.URL+"/matches/x1/messages?limit=100&before=b&after=a", "", alice...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"nextCursor":"older"`) || strings.Contains(string(r.Body), "Seq") {
		t.Fatalf("messages: %d %s", r.Status, r.Body)
	}
	r = do(t, "POST", s.URL+"/matches/x1/messages", `{"text":" hi ","clientMessageId":"c1"}`, alice...)
	if r.Status != 201 || string(r.Body) != `{"id":"m1","matchId":"x1","senderId":"alice","text":"hi","createdAt":"2026-12-01T10:00:00Z","clientMessageId":"c1"}`+"\n" {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	for _, body := range []string{`{"text":"yo"}`, `{"text":"yo","clientMessageId":null}`} {
		if r := do(t, "POST", s.URL+"/matches/x1/messages", body, alice...); r.Status != 201 {
			t.Fatalf("send %s: %d %s", body, r.Status, r.Body)
		}
	}
	r = do(t, "DELETE", s.URL+"/matches/x1", "", alice...)
	if r.Status != 200 || string(r.Body) != `{"status":"removed"}`+"\n" {
		t.Fatalf("unmatch: %d %s", r.Status, r.Body)
	}
	want := []chatCall{
		{method: "Matches", userID: "alice", cursor: "abc", limit: 5},
		{method: "Matches", userID: "alice"},
		{method: "Messages", userID: "alice", matchID: "x1", before: "b", after: "a", limit: 100},
		{method: "Send", userID: "alice", matchID: "x1", text: " hi ", clientID: "c1"},
		{method: "Send", userID: "alice", matchID: "x1", text: "yo"},
		{method: "Send", userID: "alice", matchID: "x1", text: "yo"},
		{method: "Unmatch", userID: "alice", matchID: "x1"},
	}
	if got := f.take(); len(got) != len(want) {
		t.Fatalf("calls %+v", got)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("call %d: %+v, want %+v", i, got[i], want[i])
			}
		}
	}

	// Bad queries and bodies never reach the service.
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "limit=1.5", "limit=-1"} {
		wantError(t, do(t, "GET", s.URL+"/matches?"+q, "", alice...), 400, "INVALID_QUERY")
		if q == "limit=101" {
			continue
		}
		wantError(t, do(t, "GET", s.URL+"/matches/x1/messages?"+q, "", alice...), 400, "INVALID_QUERY")
	}
	wantError(t, do(t, "GET", s.URL+"/matches/x1/messages?limit=101", "", alice...), 400, "INVALID_QUERY")
	for _, tc := range []struct{ body, code string }{
		{"", "INVALID_MESSAGE"},
		{`{}`, "INVALID_MESSAGE"},
		{`{"text":null}`, "INVALID_MESSAGE"},
		{`{"text":5}`, "INVALID_MESSAGE"},
		{`{"text":["hi"]}`, "INVALID_MESSAGE"},
		{`{"text":"hi","clientMessageId":""}`, "INVALID_MESSAGE"},
		{`{"text":"hi","clientMessageId":7}`, "INVALID_MESSAGE"},
		{`{"text":"hi","extra":1}`, "INVALID_BODY"},
		{`{"Text":"hi"}`, "INVALID_BODY"},
		{`{"text":"hi","text":"yo"}`, "INVALID_BODY"},
		{`{"text":"hi"`, "INVALID_BODY"},
		{`"hi"`, "INVALID_BODY"},
	} {
		wantError(t, do(t, "POST", s.URL+"/matches/x1/messages", tc.body, alice...), 400, tc.code)
	}
	if got := f.take(); len(got) != 0 {
		t.Fatalf("bad requests reached the service: %+v", got)
	}

	// Every route needs an access token.
	for _, rt := range [][2]string{{"GET", "/matches"}, {"GET", "/matches/x1/messages"}, {"POST", "/matches/x1/messages"}, {"DELETE", "/matches/x1"}} {
		wantError(t, do(t, rt[0], s.URL+rt[1], `{"text":"hi"}`), 401, "TOKEN_MISSING")
		wantError(t, do(t, rt[0], s.URL+rt[1], `{"text":"hi"}`, bearerH("expired")...), 401, "TOKEN_EXPIRED")
	}

	// The service's errors keep their status and code.
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{chat.ErrMatchNotFound, 404, "MATCH_NOT_FOUND"},
		{chat.ErrNotAParticipant, 403, "NOT_A_PARTICIPANT"},
		{chat.ErrInvalidMessage.WithMessage("too long"), 400, "INVALID_MESSAGE"},
		{rv.ErrStoreUnavailable, 503, "STORE_UNAVAILABLE"},
		{errors.New("boom"), 500, "UNKNOWN_ERROR"},
	} {
		f.set(func() { f.err = tc.err })
		wantError(t, do(t, "GET", s.URL+"/matches", "", alice...), tc.status, tc.code)
		wantError(t, do(t, "GET", s.URL+"/matches/x1/messages", "", alice...), tc.status, tc.code)
		wantError(t, do(t, "POST", s.URL+"/matches/x1/messages", `{"text":"hi"}`, alice...), tc.status, tc.code)
		wantError(t, do(t, "DELETE", s.URL+"/matches/x1", "", alice...), tc.status, tc.code)
	}
	// A rate-limited send tells when to retry.
	f.set(func() { f.err = retryLater{after: 2500 * time.Millisecond} })
	r = do(t, "POST", s.URL+"/matches/x1/messages", `{"text":"hi"}`, alice...)
	wantError(t, r, 429, "RATE_LIMITED")
	if got := r.Header.Get("Retry-After"); got != "3" {
		t.Fatalf("Retry-After %q, want 3", got)
	}
}

// /chat sockets need an access token, join their user's target and get
// what the services publish there.
func TestChatNamespace(t *testing.T) {
	s, _ := newChatStack(t)
	for auth, code := range map[string]string{"": "TOKEN_MISSING", "nope": "TOKEN_INVALID", "expired": "TOKEN_EXPIRED", "revoked": "TOKEN_REVOKED"} {
		var a any
		if auth != "" {
			a = map[string]string{"token": auth}
		}
		if got := refusedWith(t, s, chat.Namespace, a); got != code {
			t.Errorf("/chat with token %q: %s, want %s", auth, got, code)
		}
	}
	alice, _ := userSocket(t, s, chat.Namespace, "tok-alice")
	bob, _ := userSocket(t, s, chat.Namespace, "tok-bob")
	msg := chat.Message{ID: "m1", MatchID: "x1", SenderID: "bob", Text: "hi"}
	if err := s.Broker.Notify(context.Background(),
		rv.NewEvent(chat.Namespace, rv.UserTarget("alice"), chat.EventMessage, msg),
		rv.NewEvent(chat.Namespace, rv.UserTarget("bob"), chat.EventMatchRemoved, chat.MatchRemovedEvent{MatchID: "x1"}),
	); err != nil {
		t.Fatal(err)
	}
	p, err := alice.WaitEvent(chat.Namespace, chat.EventMessage, wait)
	var m chat.Message
	if err != nil || json.Unmarshal(p, &m) != nil || m.ID != "m1" || m.Text != "hi" {
		t.Fatalf("alice's message:new %s %v", p, err)
	}
	// Bob's first /chat event is his own: alice's message is not his.
	pk, err := bob.Wait(wait, func(p siotest.Packet) bool { return p.Type == 2 && p.Namespace == chat.Namespace })
	if err != nil {
		t.Fatal(err)
	}
	if name, args := pk.Event(); name != chat.EventMatchRemoved || len(args) != 1 || string(args[0]) != `{"matchId":"x1"}` {
		t.Fatalf("bob's first event %s %s", name, args)
	}
}
